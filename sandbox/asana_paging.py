"""Asana-style pagination: `limit` 1..100, opaque signed offset tokens and `next_page`.

Pure functions of a request's path and query; the server decides when a list is paged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

from sandbox.asana_model import AsanaError

_Item = TypeVar("_Item")


class Pager:
    """Cuts lists into pages and issues offsets that only this pager accepts back.

    An offset is base64 of the next index plus an HMAC over (list path, index) keyed with a
    per-pager secret: like Asana's, it cannot be guessed, forged or reused on another list.
    """

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret or os.urandom(16)

    def page(
        self, items: Sequence[_Item], path: str, query: dict[str, str], base_url: str
    ) -> tuple[Sequence[_Item], dict[str, Any]]:
        """The slice of `items` a list request asks for, and the envelope members to add.

        `next_page` is present only when `limit` was sent (as in Asana) and null on the last
        page.

        Raises:
            AsanaError: 400 for a limit outside 1..100 or an offset this pager did not issue.
        """
        limit = None
        if "limit" in query:
            raw = query["limit"]
            if not raw.isdigit() or not 1 <= int(raw) <= 100:
                raise AsanaError(400, f"limit: Must be between 1 and 100, not {raw!r}")
            limit = int(raw)
        start = self._decode(path, query["offset"]) if "offset" in query else 0
        if limit is None:
            return items[start:], {}
        end = start + limit
        if end >= len(items):
            return items[start:end], {"next_page": None}
        token = self._encode(path, end)
        kept = {k: v for k, v in query.items() if k not in ("limit", "offset")}
        relative = f"{path}?{urlencode({**kept, 'limit': limit, 'offset': token})}"
        next_page = {"offset": token, "path": relative, "uri": base_url + relative}
        return items[start:end], {"next_page": next_page}

    def _sign(self, path: str, index: int) -> str:
        digest = hmac.new(self._secret, f"{path}\n{index}".encode(), hashlib.sha256)
        return digest.hexdigest()[:24]

    def _encode(self, path: str, index: int) -> str:
        raw = json.dumps({"i": index, "s": self._sign(path, index)}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def _decode(self, path: str, token: str) -> int:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            decoded = json.loads(raw)
            index, signature = int(decoded["i"]), str(decoded["s"])
        except (binascii.Error, ValueError, KeyError, TypeError) as error:
            raise AsanaError(400, "offset: Invalid pagination token") from error
        if not hmac.compare_digest(signature, self._sign(path, index)):
            raise AsanaError(400, "offset: Invalid pagination token")
        return index

"""The one narrow object through which the shell talks to Asana: SDK wiring, pacing, retries.

Wraps the official ``asana`` SDK (v5) and hides its pitfalls: one shared ``ApiClient``, a
timeout on every call, ``opt_fields`` as a comma-separated string, a fresh ``opts`` dict per
call, our own pagination (``full_payload``) so every HTTP request is counted, and SDK/urllib3
exceptions translated into ``bot.errors.AsanaError`` (``reworded`` lets a caller name its own
step in one).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import asana
import urllib3
from asana.rest import ApiException
from urllib3.util.retry import Retry

from bot.errors import (
    AsanaAuthError,
    AsanaError,
    AsanaNotFound,
    AsanaRateLimited,
    AsanaUnavailable,
)

log = logging.getLogger(__name__)

Record = dict[str, Any]
PAGE_SIZE = 100  # Asana's maximum `limit`


class AsanaGateway:
    """Access to one Asana workspace through the official SDK.

    Args:
        base_url: API root including ``/api/1.0``.
        token: personal access or service-account token (never logged).
        timeout_s: per-request timeout; the SDK has none by default.
        max_requests_per_minute: client-side pacing below Asana's per-token quota.
        retries: urllib3 retries on 429/5xx for GET and PUT (``Retry-After`` honoured).
    """

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        timeout_s: float = 30.0,
        max_requests_per_minute: int = 1400,
        retries: int = 3,
    ) -> None:
        cfg = asana.Configuration()
        cfg.host = base_url.rstrip("/")
        cfg.access_token = token
        # raise_on_status=False turns exhausted retries back into an ApiException carrying the
        # last status, instead of urllib3's MaxRetryError (notes §9.5). POST is never retried.
        cfg.retry_strategy = Retry(
            total=retries,
            backoff_factor=0.5,
            status_forcelist=[429, 500, 502, 503, 504],
            allowed_methods=["GET", "PUT"],
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        self.base_url = cfg.host
        self._client = asana.ApiClient(cfg)
        self._timeout = timeout_s
        self._interval = 60.0 / max_requests_per_minute
        self._pace_lock = threading.Lock()
        self._next_slot = 0.0
        self._count_lock = threading.Lock()
        self.api_calls = 0
        self.workspaces = asana.WorkspacesApi(self._client)
        self.users = asana.UsersApi(self._client)
        self.teams = asana.TeamsApi(self._client)
        self.projects = asana.ProjectsApi(self._client)
        self.portfolios = asana.PortfoliosApi(self._client)
        self.custom_fields = asana.CustomFieldsApi(self._client)
        self.tasks = asana.TasksApi(self._client)
        self.ooo = asana.OooEntriesApi(self._client)
        self.stories = asana.StoriesApi(self._client)
        self.custom_field_settings = asana.CustomFieldSettingsApi(self._client)
        self.memberships = asana.MembershipsApi(self._client)

    # -- generic calls -------------------------------------------------------------------

    def get(
        self, method: Callable[..., Any], *args: Any, fields: Sequence[str] = (), **params: Any
    ) -> Record:
        """Call a single-object SDK method (e.g. ``gateway.users.get_user``) and return ``data``."""
        opts = self._opts(fields, params)
        payload = self._call(method, *args, opts)
        return dict(payload)

    def write(self, method: Callable[..., Any], *args: Any, fields: Sequence[str] = ()) -> Record:
        """Call a write SDK method (e.g. ``gateway.tasks.update_task``) and return ``data``.

        ``args`` are the method's own (``body`` first, then gids); ``fields`` become
        ``opt_fields`` of the returned record. PUT is retried on 429/5xx like a read; POST is
        not (a retried comment could be posted twice), so a POST failure surfaces at once.
        """
        payload = self._call(method, *args, self._opts(fields, {}))
        return dict(payload)

    def list(
        self, method: Callable[..., Any], *args: Any, fields: Sequence[str] = (), **params: Any
    ) -> list[Record]:
        """Call a list SDK method, following every ``next_page``, and return all items."""
        return list(self.iterate(method, *args, fields=fields, **params))

    def iterate(
        self, method: Callable[..., Any], *args: Any, fields: Sequence[str] = (), **params: Any
    ) -> Iterator[Record]:
        """Like :meth:`list`, one page at a time."""
        offset: str | None = None
        while True:
            opts = self._opts(fields, params)  # a fresh dict: the SDK mutates the one it gets
            opts["limit"] = PAGE_SIZE
            if offset:
                opts["offset"] = offset
            page = self._call(method, *args, opts, full_payload=True)
            yield from page.get("data") or []
            next_page = page.get("next_page")
            if not next_page or not next_page.get("offset"):
                return
            offset = str(next_page["offset"])

    def close(self) -> None:
        """Release the SDK's thread pool and connections."""
        # ApiClient builds a ThreadPool eagerly and joins it in __del__ (python-asana #203);
        # close it here, once, so interpreter shutdown does not.
        pool = self._client.__dict__.pop("pool", None)
        if pool is not None:
            pool.close()
            pool.join()
        self._client.rest_client.pool_manager.clear()

    # -- internals -----------------------------------------------------------------------

    @staticmethod
    def _opts(fields: Sequence[str], params: dict[str, Any]) -> dict[str, Any]:
        opts: dict[str, Any] = {}
        for key, value in params.items():
            if value is None:
                continue
            # The SDK sends Python booleans as "True"/"False"; Asana documents lowercase.
            opts[key] = str(value).lower() if isinstance(value, bool) else value
        if fields:
            opts["opt_fields"] = ",".join(fields)  # a list would be sent as its str()
        return opts

    def _call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        name = getattr(method, "__name__", "call")
        self._pace()
        with self._count_lock:
            self.api_calls += 1
        started = time.monotonic()
        try:
            return method(*args, _request_timeout=self._timeout, **kwargs)
        except ApiException as exc:
            raise translate_api_exception(exc, name) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise AsanaUnavailable(
                f"Asana {name} failed after {time.monotonic() - started:.1f}s: "
                f"{type(exc).__name__}: {exc}",
                user_message="I couldn't reach Asana just now. Please try again in a minute.",
            ) from None

    def _pace(self) -> None:
        # Spread requests evenly below the per-minute quota (rejected requests count too).
        with self._pace_lock:
            now = time.monotonic()
            wait = self._next_slot - now
            self._next_slot = max(now, self._next_slot) + self._interval
        if wait > 0:
            time.sleep(wait)


def translate_api_exception(exc: ApiException, operation: str) -> AsanaError:
    """Map an SDK ``ApiException`` to our error tree with Asana's own message."""
    status = int(exc.status or 0)
    detail = _error_message(exc.body)
    message = f"Asana {operation} answered {status}: {detail}"
    if status in (401, 403):
        return AsanaAuthError(
            message,
            status=status,
            user_message=(
                "Asana refused the request: the access token is invalid or lacks access. "
                "An admin should check ASANA_ACCESS_TOKEN."
            ),
        )
    if status == 404:
        return AsanaNotFound(
            message, status=status, user_message="That Asana item does not exist or is hidden."
        )
    if status == 429:
        return AsanaRateLimited(
            message,
            status=status,
            user_message="Asana is rate-limiting us right now. Please try again in a minute.",
        )
    if status >= 500 or status == 0:
        return AsanaUnavailable(
            message,
            status=status,
            user_message="Asana is having trouble right now. Please try again in a minute.",
        )
    return AsanaError(message, status=status, user_message=f"Asana rejected the request: {detail}")


def reworded(exc: AsanaError, message: str) -> AsanaError:
    """The same kind of error (status, friendly message) with a message naming the call."""
    return type(exc)(message, status=exc.status, user_message=exc.user_message)


def _error_message(body: Any) -> str:
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        errors = json.loads(body).get("errors") or []
        return "; ".join(str(e.get("message", "")) for e in errors) or str(body)[:200]
    except (ValueError, AttributeError, TypeError):
        return str(body)[:200]

"""``open_store``: turn a state URL from the settings into a ``Store`` implementation.

The one place that knows both implementations; the rest of the bot sees only the port.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from bot.errors import StoreError
from bot.store.ports import Store
from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore

_SQLITE = "sqlite:///"
_EXPECTED = (
    "expected sqlite:///relative/path.sqlite3, sqlite:////absolute/path.sqlite3, "
    "sqlite:///:memory:, redis://host:port/db or rediss://host:port/db"
)


def open_store(state_url: str) -> Store:
    """Open the store named by ``state_url``; nothing is contacted for Redis until first use.

    ``sqlite:///`` is followed by the path, so a fourth slash makes it absolute (SQLAlchemy's
    convention). The SQLite file's directory is created when missing.

    Raises:
        ValueError: The URL's scheme is unknown or the SQLite path is empty.
        StoreError: The SQLite file or its directory cannot be created or opened.
    """
    scheme = urlsplit(state_url).scheme  # lower-cased; "" when the URL has none
    if scheme in ("redis", "rediss"):
        return RedisStore(state_url)
    if scheme == "sqlite":
        if state_url[: len(_SQLITE)].lower() != _SQLITE:
            # Only the scheme is echoed: the rest of a URL may hold a password.
            raise ValueError(f"malformed sqlite state URL: {_EXPECTED}")
        path = state_url[len(_SQLITE) :]
        if not path:
            raise ValueError(f"sqlite state URL has no path: {_EXPECTED}")
        if path != ":memory:":
            _make_parent(Path(path))
        return SqliteStore(path)
    if not scheme:
        raise ValueError(f"state URL has no scheme: {_EXPECTED}")
    raise ValueError(f"unsupported state URL scheme {scheme!r}: {_EXPECTED}")


def _make_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"sqlite open failed on {path}: cannot create directory {path.parent}: {exc}",
            user_message="The bot's state store is unavailable right now; please try again.",
        ) from exc

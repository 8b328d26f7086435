"""The index of posted proposals that may still need a decision, for the App Home.

The proposal book stores proposals by id only, so the Home keeps its own short list (store key
``proposals:open``): an id is added when its message is posted and dropped once nothing in it
can be decided any more.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.store.ports import Store

KEY = "proposals:open"
MAX_OPEN = 200  # oldest first; older ids fall off (they expire in a day anyway)


def remember(store: Store, proposal_id: str) -> None:
    """Add ``proposal_id`` to the index."""
    _change(store, lambda ids: [*[i for i in ids if i != proposal_id], proposal_id][-MAX_OPEN:])


def forget(store: Store, proposal_ids: set[str]) -> None:
    """Drop ids whose proposals can no longer be decided."""
    if proposal_ids:
        _change(store, lambda ids: [i for i in ids if i not in proposal_ids])


def open_ids(store: Store) -> list[str]:
    """The ids in the index, newest first."""
    raw = store.get(KEY)
    return [str(i) for i in reversed(raw)] if isinstance(raw, list) else []


def _change(store: Store, change: Callable[[list[str]], list[str]]) -> None:
    # a read-modify-write of one small list; the lock keeps two posts from losing an id
    with store.lock(KEY, ttl_s=10, wait_s=5):
        raw = store.get(KEY)
        store.set(KEY, change([str(i) for i in raw] if isinstance(raw, list) else []))

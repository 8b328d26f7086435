"""The waiting half of a store lock, shared by every implementation: poll with backoff."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from bot.errors import LockNotAcquired

_POLL_FIRST_S = 0.005
_POLL_MAX_S = 0.1


def acquire(try_lock: Callable[[], bool], *, name: str, wait_s: float) -> None:
    """Call ``try_lock`` until it returns True, for at most ``wait_s`` seconds.

    Raises:
        LockNotAcquired: it never returned True in time.
    """
    deadline = time.monotonic() + wait_s
    pause = _POLL_FIRST_S
    while not try_lock():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise LockNotAcquired(
                f"lock {name!r} is held by another owner (waited {wait_s:g}s)",
                user_message="Someone else is doing this right now; try again in a moment.",
            )
        # Jitter keeps contending processes from polling in lockstep.
        time.sleep(min(remaining, pause * random.uniform(0.5, 1.0)))
        pause = min(pause * 2, _POLL_MAX_S)

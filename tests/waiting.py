"""``wait_until``: poll for a condition that becomes true in the background, instead of sleeping.

Test support only; imports nothing from the bot.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(
    predicate: Callable[[], object],
    *,
    timeout: float = 5.0,
    interval: float = 0.005,
    message: str = "",
) -> None:
    """Return as soon as ``predicate()`` is truthy; fail the test after ``timeout`` seconds.

    The predicate is always evaluated at least once, and once more after the deadline, so a
    ``timeout`` of 0 means "must already be true".
    """
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            if predicate():
                return
            what = message or getattr(predicate, "__qualname__", repr(predicate))
            raise AssertionError(f"condition not met within {timeout:g}s: {what}")
        time.sleep(interval)

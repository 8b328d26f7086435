"""Slow Slack work off the request threads: listeners ack, then queue the rest here.

Jobs run on ``deps.workers``, but at most ``max_running`` at once; the rest wait in a queue,
not on a thread. Forecasts and the solver are CPU-bound, so under the GIL more of them at once
finish no sooner and only make every ack wait longer for the interpreter; and the workers keep
free threads for model fits, which a job may be waiting for.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor

log = logging.getLogger(__name__)
Job = Callable[[], None]


class BackgroundJobs:
    """A FIFO of jobs, at most ``max_running`` of them on ``executor`` at a time.

    Args:
        executor: where jobs run (``deps.workers``).
        max_running: how many jobs may run at once.
    """

    def __init__(self, executor: Executor, *, max_running: int) -> None:
        if max_running < 1:
            raise ValueError("max_running must be at least 1")
        self._executor = executor
        self._max_running = max_running
        self._lock = threading.Lock()
        self._waiting: deque[tuple[Job, str]] = deque()
        self._running = 0

    def submit(self, work: Job, *, context: str) -> None:
        """Queue ``work``; an exception escaping it is logged with ``context``.

        ``work`` owns its user-facing errors; this only makes sure nothing dies silently.
        """
        with self._lock:
            if self._running >= self._max_running:
                self._waiting.append((work, context))
                return
            self._running += 1
        if not self._start(work, context):
            self._finished()

    @property
    def waiting(self) -> int:
        """Jobs queued and not started yet."""
        with self._lock:
            return len(self._waiting)

    def _start(self, work: Job, context: str) -> bool:
        try:
            self._executor.submit(self._run, work, context)
        except RuntimeError:  # the workers are shut down: the process is stopping
            log.warning("%s dropped: shutting down", context)
            return False
        return True

    def _run(self, work: Job, context: str) -> None:
        try:
            work()
        except Exception:
            log.exception("%s failed", context)
        finally:
            self._finished()

    def _finished(self) -> None:
        """A running slot is free: start the next waiting job, or give the slot back."""
        while True:
            with self._lock:
                if not self._waiting:
                    self._running -= 1
                    return
                work, context = self._waiting.popleft()
            if self._start(work, context):
                return

"""One worker thread for all model work, behind a bounded queue.

The model and its hook sites are shared state, so jobs run one at a time, off the event loop.
`max_pending` bounds the jobs running or waiting; a job beyond it is refused at once
(`QueueFullError`, answered 503 with Retry-After) instead of piling up behind a long queue. A job
counts until it finishes in the worker, also when its client has gone away.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class QueueFullError(Exception):
    def __init__(self, pending: int) -> None:
        super().__init__(f"The model is busy with {pending} requests; retry shortly")
        self.pending = pending


class ModelWorker:
    def __init__(self, max_pending: int) -> None:
        if max_pending < 1:
            raise ValueError(f"max_pending must be at least 1, got {max_pending}")
        self.max_pending = max_pending
        self._executor: ThreadPoolExecutor | None = None  # started on first use, after shutdown too
        self._lock = threading.Lock()
        self._pending = 0

    @property
    def pending(self) -> int:
        return self._pending

    def submit(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Queue `fn` on the worker thread; `QueueFullError` when max_pending jobs are queued."""
        with self._lock:
            if self._pending >= self.max_pending:
                raise QueueFullError(self._pending)
            self._pending += 1
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="tdb-model")
            executor = self._executor
        try:
            future = executor.submit(fn, *args, **kwargs)
        except BaseException:
            self._release(None)
            raise
        future.add_done_callback(self._release)
        return future

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `fn` on the worker thread and await its result."""
        return await asyncio.wrap_future(self.submit(fn, *args, **kwargs))

    def _release(self, _: Future[Any] | None) -> None:
        with self._lock:
            self._pending -= 1

    def shutdown(self) -> None:
        """Stop the thread once its jobs finish (queued ones are cancelled); a later job starts
        a new one, so an app can go through several lifespans (as test clients do)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

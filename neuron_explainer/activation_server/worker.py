"""One worker thread for all model work, behind a bounded queue, with jobs cancelled when their
client goes away.

The model and its hook sites are shared state, so jobs run one at a time, off the event loop.
`max_pending` bounds the jobs running or waiting; a job beyond it is refused at once
(`QueueFullError`, answered 503 with Retry-After) instead of piling up behind a long queue.

A job run for a client (`run_for`) is cancelled when that client disconnects: a job still queued
never starts, and a running one is asked to stop through its cancel flag (a `threading.Event`),
which the job checks at its checkpoints (`Runtime.run` checks it at every forward pass and every
block, raising `JobCancelledError`). A job counts in `pending` until it has left the worker: at once
for a queued job, at its next checkpoint for a running one.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, Protocol, TypeVar

import torch

P = ParamSpec("P")
T = TypeVar("T")
log = logging.getLogger(__name__)
DISCONNECT_POLL_S = 0.1  # how often a waiting request asks whether its client is still there


class QueueFullError(Exception):
    def __init__(self, pending: int) -> None:
        super().__init__(f"The model is busy with {pending} requests; retry shortly")
        self.pending = pending


class JobCancelledError(Exception):
    """Raised in a job at a checkpoint once its cancel flag is set (its client went away)."""


class ClientGoneError(Exception):
    """The client of `run_for` disconnected; its job was cancelled (or will stop at its next
    checkpoint). Nobody is left to answer."""


class Client(Protocol):
    """What `run_for` needs of a request: Starlette's `Request` is one."""

    async def is_disconnected(self) -> bool: ...


def _model_thread_setup() -> None:
    """The server's entry point for model work: the library leaves process-wide float settings
    to its callers, and this thread is where the server's model work runs. Denormal floats are
    flushed to zero (softmax gradients over a vocabulary are full of them, and they are slow on
    the CPU); the setting is per thread, so setting it here leaves the event loop's untouched."""
    torch.set_flush_denormal(True)


class ModelWorker:
    def __init__(self, max_pending: int) -> None:
        if max_pending < 1:
            raise ValueError(f"max_pending must be at least 1, got {max_pending}")
        self.max_pending = max_pending
        self._executor: ThreadPoolExecutor | None = None  # started on first use, after shutdown too
        self._lock = threading.Lock()
        self._pending = 0
        self._flags: set[threading.Event] = set()  # cancel flags of the jobs of `run_for`

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
                self._executor = ThreadPoolExecutor(
                    1, thread_name_prefix="tdb-model", initializer=_model_thread_setup
                )
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

    async def run_for(
        self, client: Client | None, fn: Callable[[threading.Event], T], what: str = "job"
    ) -> T:
        """Run `fn(cancel)` on the worker thread for `client`, and await its result. While it
        waits or runs, the client is polled every `DISCONNECT_POLL_S`; once it has gone (or this
        coroutine is cancelled), the job is cancelled: a queued one never starts, a running one
        finds `cancel` set at its next checkpoint. `ClientGoneError` is raised then."""
        cancel = threading.Event()
        with self._lock:
            self._flags.add(cancel)
        try:
            future = self.submit(fn, cancel)
        except BaseException:
            self._forget(cancel)
            raise
        future.add_done_callback(lambda _: self._forget(cancel))
        began = time.monotonic()
        waiter = asyncio.wrap_future(future)
        try:
            while True:
                done, _ = await asyncio.wait({waiter}, timeout=DISCONNECT_POLL_S)
                if done:
                    return waiter.result()
                if client is not None and await client.is_disconnected():
                    self._cancel(future, cancel, what, began)
                    waiter.cancel()  # nobody awaits the job's outcome any more
                    raise ClientGoneError(f"The client of the {what} went away")
        except asyncio.CancelledError:
            self._cancel(future, cancel, what, began)
            waiter.cancel()
            raise

    def _cancel(
        self, future: Future[Any], cancel: threading.Event, what: str, began: float
    ) -> None:
        cancel.set()
        waited = time.monotonic() - began
        if future.cancel():
            log.info(
                "Cancelled the %s before it started (queued %.1f s): client gone", what, waited
            )
        elif not future.done():
            log.info(
                "Stopping the %s at its next checkpoint (%.1f s in): client gone", what, waited
            )

    def _forget(self, cancel: threading.Event) -> None:
        with self._lock:
            self._flags.discard(cancel)

    def _release(self, _: Future[Any] | None) -> None:
        with self._lock:
            self._pending -= 1

    def shutdown(self) -> None:
        """Stop the thread: queued jobs are cancelled, a running job of `run_for` is asked to
        stop at its next checkpoint, and this returns once it has. A later job starts a new
        thread, so an app can go through several lifespans (as test clients do)."""
        with self._lock:
            executor, self._executor = self._executor, None
            flags = list(self._flags)
        for flag in flags:
            flag.set()
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

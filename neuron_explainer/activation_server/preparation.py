"""`tdb serve --prepare`: when a served model has no activation datasets yet, collate them
(`tdb prepare`) in a child process while the server answers. The debugger works at once; the
dataset routes answer 503 with the collation's progress until its store is written. The child
runs at a lower priority than the server, prints its own progress bar, and is stopped when the
server stops (collation resumes on the next start).

A `Preparation` supervises the child from a thread that waits on it, so a child that dies is
reaped at once (never left a zombie), its exit is logged, and the dataset routes say so on the
next request (`state()`, read by `deps.get_store`; the app finds it in `app.state.preparations`).
It restarts a failed child after `backoff_s`, doubled after each failure in a row up to
`max_backoff_s`, and gives up after `max_failures` in a row (a run of `healthy_run_s` or more
starts a new count), naming the command to run by hand; each restart resumes from the
collation's last checkpoint.

With several served models, a `PreparationQueue` collates those without a store one after
another (one child at a time: collation takes every core it gets): one `Preparation` per model,
the next started once the one before has finished or given up. The routes of a model whose turn
has not come answer 503 "queued" (`app.state.preparations`: by model name).
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from neuron_explainer.activation_server.settings import Settings

NICENESS = 10
BACKOFF_S = 5.0
MAX_BACKOFF_S = 300.0
MAX_FAILURES = 6
HEALTHY_RUN_S = 600.0  # a run this long made progress: its failure starts a new count
log = logging.getLogger(__name__)
Phase = Literal["queued", "running", "restarting", "failed", "finished", "stopped"]


def store_missing(settings: Settings) -> bool:
    from neuron_explainer.datasets import CollationFileError, open_store
    from neuron_explainer.datasets.locations import default_store_dir

    try:
        open_store(default_store_dir(settings.data_dir, settings.model))
    except CollationFileError:
        return True
    return False


def preparation_command(settings: Settings) -> list[str]:
    return [
        sys.executable,
        "-m",
        "neuron_explainer.cli",
        "prepare",
        settings.model,
        "--data-dir",
        str(settings.data_dir),
        "--nice",
        str(NICENESS),
    ]


def manual_command(settings: Settings) -> str:
    """What the user runs to collate by hand (and see why it fails)."""
    return f"tdb prepare {settings.model} --data-dir {settings.data_dir}"


def exit_text(code: int) -> str:
    """'exit code 3', or for a child killed by a signal 'killed by SIGKILL, exit -9'."""
    if code >= 0:
        return f"exit code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    return f"killed by {name}, exit {code}"


@dataclass(frozen=True)
class PreparationState:
    """Where the collation child stands, for the routes to report."""

    phase: Phase
    failures: int  # failed runs in a row
    max_failures: int
    exit_code: int | None = None  # of the last failed run
    restart_at: float | None = None  # time.monotonic() of the next start, while restarting
    manual: str = ""  # the command to run by hand

    def seconds_to_restart(self) -> int:
        left = (self.restart_at or 0.0) - time.monotonic()
        return max(1, round(left))

    def describe(self) -> str:
        """Why the collation is not running, for a phase other than running or finished."""
        code = exit_text(self.exit_code) if self.exit_code is not None else "no exit code"
        if self.phase == "restarting":
            return (
                f"the collation stopped ({code}); restarting in {self.seconds_to_restart()} s "
                f"(attempt {self.failures + 1} of {self.max_failures}; it resumes from its "
                "last checkpoint)"
            )
        if self.phase == "queued":
            return "the collation waits for that of another served model to finish"
        if self.phase == "failed":
            return (
                f"the collation failed {self.failures} times in a row (last: {code}) and is not "
                f"restarted; run `{self.manual}` by hand to see why"
            )
        return f"the collation is {self.phase}"


class Preparation:
    """The collation child, started by `start()`, reaped and restarted by a supervising thread,
    stopped by `stop()`. `command` is run as given (tests pass a short fake one)."""

    def __init__(
        self,
        command: Sequence[str],
        manual: str,
        backoff_s: float = BACKOFF_S,
        max_backoff_s: float = MAX_BACKOFF_S,
        max_failures: int = MAX_FAILURES,
        healthy_run_s: float = HEALTHY_RUN_S,
        popen: Callable[[list[str]], subprocess.Popen[bytes]] | None = None,
    ) -> None:
        self.command = list(command)
        self.manual = manual
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.max_failures = max_failures
        self.healthy_run_s = healthy_run_s
        self._popen = popen or subprocess.Popen
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._state = PreparationState("stopped", 0, max_failures, manual=manual)
        self._child: subprocess.Popen[bytes] | None = None
        self._started = 0.0  # time.monotonic() of the child's start
        self._thread: threading.Thread | None = None

    @property
    def child(self) -> subprocess.Popen[bytes] | None:
        """The child running now, or the last one."""
        return self._child

    def state(self) -> PreparationState:
        return self._state

    def start(self) -> Preparation:
        with self._lock:
            self._spawn()
        self._thread = threading.Thread(target=self._supervise, name="preparation", daemon=True)
        self._thread.start()
        return self

    def queue(self) -> Preparation:
        """Mark it as waiting for its turn (before `start`)."""
        self._state = PreparationState("queued", 0, self.max_failures, manual=self.manual)
        return self

    def wait(self) -> None:
        """Until it has finished, given up, or been stopped (after `start`)."""
        if self._thread is not None:
            self._thread.join()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop the child (SIGTERM, then SIGKILL after `timeout_s`) and its supervisor."""
        with self._lock:
            self._stopping.set()
            child = self._child
        stop_child(child, timeout_s)
        if self._thread is not None:
            self._thread.join(timeout_s)
        self._state = PreparationState("stopped", 0, self.max_failures, manual=self.manual)

    def _spawn(self) -> None:
        """Start a child (the caller holds the lock)."""
        self._child = self._popen(self.command)
        self._started = time.monotonic()
        failures = self._state.failures
        self._state = PreparationState("running", failures, self.max_failures, manual=self.manual)
        log.info("Collation started (pid %d): %s", self._child.pid, " ".join(self.command))

    def _supervise(self) -> None:
        while True:
            child = self._child
            assert child is not None
            code = child.wait()  # reaps it
            if self._stopping.is_set():
                return
            if code == 0:
                log.info("Collation (pid %d) finished", child.pid)
                self._state = PreparationState("finished", 0, self.max_failures)
                return
            ran_s = time.monotonic() - self._started
            failures = 1 if ran_s >= self.healthy_run_s else self._state.failures + 1
            if failures >= self.max_failures:
                log.error(
                    "Collation (pid %d) stopped (%s); %d failures in a row, not restarting it: "
                    "run `%s` by hand to see why",
                    child.pid,
                    exit_text(code),
                    failures,
                    self.manual,
                )
                self._state = PreparationState(
                    "failed", failures, self.max_failures, code, manual=self.manual
                )
                return
            delay = min(self.backoff_s * 2 ** (failures - 1), self.max_backoff_s)
            log.warning(
                "Collation (pid %d) stopped (%s); restarting it in %.0f s",
                child.pid,
                exit_text(code),
                delay,
            )
            self._state = PreparationState(
                "restarting",
                failures,
                self.max_failures,
                code,
                time.monotonic() + delay,
                manual=self.manual,
            )
            if self._stopping.wait(delay):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                try:
                    self._spawn()
                except OSError:
                    log.exception("Could not restart the collation; run `%s` by hand", self.manual)
                    self._state = PreparationState(
                        "failed", failures, self.max_failures, code, manual=self.manual
                    )
                    return


def start_preparation(settings: Settings) -> Preparation | None:
    """The supervised child collating `settings.model`'s datasets; None when they exist."""
    if not store_missing(settings):
        return None
    return Preparation(preparation_command(settings), manual_command(settings)).start()


class PreparationQueue:
    """`Preparation`s (by model name) run one after another, in order, from a thread."""

    def __init__(self, preparations: dict[str, Preparation]) -> None:
        self.preparations = {name: p.queue() for name, p in preparations.items()}
        self._lock = threading.Lock()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> PreparationQueue:
        self._thread = threading.Thread(target=self._run, name="preparations", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        for name, preparation in self.preparations.items():
            with self._lock:
                if self._stopping:
                    return
                try:
                    preparation.start()
                except OSError:
                    log.exception("Could not start the collation of %s", name)
                    preparation.stop(0)  # no longer queued: the routes say how to build it
                    continue
            preparation.wait()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop the running child; the queued ones never start."""
        with self._lock:
            self._stopping = True
        for preparation in self.preparations.values():
            if preparation.state().phase != "queued":
                preparation.stop(timeout_s)
        if self._thread is not None:
            self._thread.join(timeout_s)


def start_preparations(settings: Settings) -> PreparationQueue | None:
    """Collations of every served model without datasets, one after another; None when every
    served model has them."""
    missing = [settings.for_model(name) for name in settings.models]
    missing = [s for s in missing if store_missing(s)]
    if not missing:
        return None
    return PreparationQueue(
        {s.model: Preparation(preparation_command(s), manual_command(s)) for s in missing}
    ).start()


def stop_preparation(
    preparation: Preparation | PreparationQueue | None, timeout_s: float = 30.0
) -> None:
    if preparation is not None:
        preparation.stop(timeout_s)


def stop_child(child: subprocess.Popen[bytes] | None, timeout_s: float = 30.0) -> None:
    if child is None or child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout_s)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()

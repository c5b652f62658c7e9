"""A running collation's progress, in its work directory, for other processes to read (the
activation server tells a component page's reader how far its datasets are), and the lock that
keeps a second collation out of a work directory in use.

    WORK_DIR/progress.json   {"tokens_done", "n_tokens", "started", "updated", "pid", ...}
    WORK_DIR/lock            held (flock) by the collating process; its pid inside

`started` and `updated` are Unix times; the rate (and so the time left) counts the tokens done
since this process started, not those of shards finished by an earlier, interrupted run.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from neuron_explainer.datasets.shards import CollationFileError

PROGRESS_FILENAME = "progress.json"
LOCK_FILENAME = "lock"
STALE_AFTER_S = 120.0  # a progress file not updated for this long belongs to a stopped run


@dataclass(frozen=True)
class Progress:
    tokens_done: int
    n_tokens: int
    started: float
    updated: float
    pid: int
    tokens_at_start: int = 0  # done before this process started (resumed shards)

    @property
    def fraction(self) -> float:
        return self.tokens_done / self.n_tokens if self.n_tokens else 1.0

    def seconds_left(self) -> float | None:
        rate = (self.tokens_done - self.tokens_at_start) / max(self.updated - self.started, 1e-9)
        return (self.n_tokens - self.tokens_done) / rate if rate > 0 else None

    def is_running(self, now: float | None = None) -> bool:
        """Whether the collation is still going: updated lately, by a process still alive."""
        if (now if now is not None else time.time()) - self.updated > STALE_AFTER_S:
            return False
        return process_alive(self.pid)

    def describe(self) -> str:
        """'42% (440,320 of 1,048,576 tokens), about 3 min left'."""
        if self.tokens_done >= self.n_tokens:
            return f"all {self.n_tokens:,} tokens collated, writing the store"
        text = f"{self.fraction:.0%} ({self.tokens_done:,} of {self.n_tokens:,} tokens)"
        left = self.seconds_left()
        if left is not None:
            text += f", about {max(1, round(left / 60))} min left"
        return text


def process_alive(pid: int) -> bool:
    """Whether process `pid` exists and has not exited: a zombie (dead, not yet reaped by its
    parent) still answers signal 0, so on Linux its state in /proc is checked too."""
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # without /proc (not Linux) signal 0 is all there is; with it: just exited
        return not Path("/proc/self").exists()
    state = stat[stat.rindex(")") + 2 :][:1]  # the field after the command name in parentheses
    return state not in ("Z", "X")


class ProgressWriter:
    """Writes a collation's progress at most every `interval_s` (and on `flush`)."""

    def __init__(
        self, work_dir: str | Path, n_tokens: int, tokens_done: int, interval_s: float = 1.0
    ) -> None:
        self.path = Path(work_dir) / PROGRESS_FILENAME
        now = time.time()
        self.progress = Progress(tokens_done, n_tokens, now, now, os.getpid(), tokens_done)
        self.interval_s = interval_s
        self._written = 0.0
        self._write()

    def update(self, n: int) -> None:
        p = self.progress
        now = time.time()
        self.progress = Progress(
            p.tokens_done + n, p.n_tokens, p.started, now, p.pid, p.tokens_at_start
        )
        if now - self._written >= self.interval_s:
            self._write()

    def flush(self) -> None:
        self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(asdict(self.progress)))
        os.replace(tmp, self.path)  # readers never see half a file
        self._written = time.time()


def read_progress(work_dir: str | Path) -> Progress | None:
    """The progress a collation wrote in `work_dir`; None when there is none or it is unreadable."""
    try:
        raw = json.loads((Path(work_dir) / PROGRESS_FILENAME).read_text())
        return Progress(
            tokens_done=int(raw["tokens_done"]),
            n_tokens=int(raw["n_tokens"]),
            started=float(raw["started"]),
            updated=float(raw["updated"]),
            pid=int(raw["pid"]),
            tokens_at_start=int(raw.get("tokens_at_start", 0)),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextmanager
def claim_work_dir(work_dir: str | Path) -> Iterator[None]:
    """Hold the work directory's lock for the block; another process holding it (two
    `tdb prepare`, or two servers started with --prepare, on one data directory) is an error
    naming it. Without `fcntl` (not POSIX) nothing is locked."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - POSIX only
        yield
        return
    path = Path(work_dir) / LOCK_FILENAME
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "unknown"
            raise CollationFileError(
                str(work_dir),
                f"is in use by another collation (pid {holder}); wait for it to finish or stop it",
            ) from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)

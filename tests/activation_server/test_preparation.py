"""`tdb serve --prepare`: the dataset routes while a collation runs, and the child process."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from neuron_explainer.activation_server import preparation
from neuron_explainer.activation_server.settings import Settings
from neuron_explainer.datasets.progress import (
    PROGRESS_FILENAME,
    STALE_AFTER_S,
    Progress,
    ProgressWriter,
    read_progress,
)
from tests.activation_server.conftest import BASE_URL, MODEL, make_app


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_dataset_routes_answer_503_with_the_progress_while_collating(engine, tmp_path) -> None:
    work = tmp_path / "collations" / f"{MODEL}.work"
    writer = ProgressWriter(work, n_tokens=1_048_576, tokens_done=0, interval_s=0.0)
    writer.update(440_320)
    with TestClient(make_app(engine, tmp_path), base_url=BASE_URL) as client:
        for path in ("/api/datasets/records/neuron/0/0", "/api/datasets/summaries/neuron/0"):
            response = client.get(path)
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "15"
            message = response.json()["detail"]
            assert "being collated: 42% (440,320 of 1,048,576 tokens), about" in message
        dataset = client.get("/api/model").json()["dataset"]  # what the UI polls meanwhile
        assert dataset["available"] is False and dataset["collating"] is True
        assert "being collated: 42%" in dataset["message"]
        # The collation stopped (its process is gone): 404, naming the command that resumes it.
        progress = read_progress(work)
        assert progress is not None
        stopped = replace(progress, pid=_dead_pid())
        (work / PROGRESS_FILENAME).write_text(json.dumps(asdict(stopped)))
        response = client.get("/api/datasets/records/neuron/0/0")
        assert response.status_code == 404
        assert "resumes the interrupted collation" in response.json()["detail"]
        assert client.get("/api/model").json()["dataset"]["collating"] is False


def test_progress_describes_the_store_being_written_and_goes_stale() -> None:
    now = time.time()
    finished = Progress(100, 100, now - 10, now, os.getpid())
    assert finished.describe() == "all 100 tokens collated, writing the store"
    assert finished.is_running(now)
    assert not Progress(50, 100, now - 500, now - STALE_AFTER_S - 1, os.getpid()).is_running(now)


def test_preparation_starts_only_without_a_store(data_dir: Path, tmp_path, monkeypatch) -> None:
    assert preparation.start_preparation(Settings(model=MODEL, data_dir=data_dir)) is None
    started: list[Any] = []
    real_popen = subprocess.Popen

    def record(command: list[str]) -> subprocess.Popen[bytes]:  # runs no collation
        started.append(command)
        return real_popen([sys.executable, "-c", "pass"])

    monkeypatch.setattr(preparation.subprocess, "Popen", record)
    prepared = preparation.start_preparation(Settings(model=MODEL, data_dir=tmp_path))
    assert prepared is not None
    _wait_for(lambda: prepared.state().phase == "finished")
    prepared.stop()
    (command,) = started  # a child that finished is not restarted
    assert command[1:] == [
        "-m",
        "neuron_explainer.cli",
        "prepare",
        MODEL,
        "--data-dir",
        str(tmp_path),
        "--nice",
        str(preparation.NICENESS),
    ]
    assert prepared.manual == f"tdb prepare {MODEL} --data-dir {tmp_path}"


def test_stopping_the_server_stops_the_child() -> None:
    prepared = preparation.Preparation(SLEEPER, "tdb prepare", backoff_s=0.01).start()
    child = prepared.child
    assert child is not None
    preparation.stop_preparation(prepared, timeout_s=10.0)
    assert child.returncode is not None
    assert prepared.child is child  # stopped, not restarted
    assert prepared.state().phase == "stopped"
    preparation.stop_preparation(prepared)  # already stopped: nothing to do
    preparation.stop_preparation(None)


# ---- the supervised child ------------------------------------------------------------------------

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
# Writes the progress of a collation 6% done under its own pid, as `tdb prepare` does, and waits.
COLLATING_6_PERCENT = """
import json, os, sys, time
t = time.time()
progress = {"tokens_done": 60, "n_tokens": 1000, "started": t, "updated": t, "pid": os.getpid()}
os.makedirs(sys.argv[1], exist_ok=True)
path = os.path.join(sys.argv[1], "progress.json")
with open(path + ".tmp", "w") as f:
    json.dump(progress, f)
os.replace(path + ".tmp", path)
time.sleep(60)
"""
RECORD = "/api/datasets/records/neuron/0/0"


def _wait_for(condition: Any, timeout_s: float = 10.0) -> float:
    """Seconds until `condition()` held; fails after `timeout_s`."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout_s, "timed out"
        time.sleep(0.01)
    return time.monotonic() - start


def _progress_pid(work: Path) -> int | None:
    progress = read_progress(work)
    return None if progress is None else progress.pid


def _is_zombie_or_gone(pid: int) -> tuple[bool, bool]:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False, True
    return stat[stat.rindex(")") + 2] == "Z", False


def test_a_killed_collation_is_reaped_reported_at_once_and_restarted(engine, tmp_path) -> None:
    work = tmp_path / "collations" / f"{MODEL}.work"
    manual = f"tdb prepare {MODEL} --data-dir {tmp_path.name}"
    command = [sys.executable, "-c", COLLATING_6_PERCENT, str(work)]
    prepared = preparation.Preparation(command, manual, backoff_s=2.0)
    app = make_app(engine, tmp_path)
    app.state.preparations = {MODEL: prepared}  # as `tdb serve --prepare` does
    with TestClient(app, base_url=BASE_URL) as client:
        prepared.start()
        first = prepared.child
        assert first is not None
        _wait_for(lambda: _progress_pid(work) == first.pid)
        assert "being collated: 6%" in client.get(RECORD).json()["detail"]

        os.kill(first.pid, signal.SIGKILL)
        _wait_for(lambda: prepared.state().phase == "restarting")
        assert first.returncode == -signal.SIGKILL  # waited for: reaped
        zombie, gone = _is_zombie_or_gone(first.pid)
        assert gone and not zombie
        response = client.get(RECORD)  # at once, not once progress.json goes stale
        assert response.status_code == 503, response.text
        message = response.json()["detail"]
        stopped = r"the collation stopped \(killed by SIGKILL, exit -9\); restarting in ([12]) s"
        match = re.search(stopped, message)
        assert match is not None, message
        assert "6%" not in message
        assert response.headers["retry-after"] == match.group(1)
        dataset = client.get("/api/model").json()["dataset"]
        assert dataset["collating"] is True and "the collation stopped" in dataset["message"]

        waited = _wait_for(lambda: prepared.child is not first)  # restarted after the backoff
        assert waited > 1.0
        second = prepared.child
        assert second is not None and second.poll() is None
        assert prepared.state().phase == "running"
        _wait_for(lambda: _progress_pid(work) == second.pid)
        assert "being collated: 6%" in client.get(RECORD).json()["detail"]

        preparation.stop_preparation(prepared, timeout_s=10.0)  # the server stops
        assert second.returncode is not None and prepared.child is second


def test_a_collation_failing_again_and_again_is_given_up(engine, tmp_path) -> None:
    starts: list[float] = []
    real_popen = subprocess.Popen

    def failing(command: list[str]) -> subprocess.Popen[bytes]:
        starts.append(time.monotonic())
        return real_popen(command)

    manual = f"tdb prepare {MODEL} --data-dir {tmp_path.name}"
    command = [sys.executable, "-c", "import sys; sys.exit(3)"]
    prepared = preparation.Preparation(
        command, manual, backoff_s=0.1, max_backoff_s=0.15, max_failures=4, popen=failing
    )
    app = make_app(engine, tmp_path)
    app.state.preparations = {MODEL: prepared}
    with TestClient(app, base_url=BASE_URL) as client:
        prepared.start()
        _wait_for(lambda: prepared.state().phase == "failed")
        assert len(starts) == 4
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        assert gaps[0] >= 0.1 and gaps[1] >= 0.15 and gaps[2] >= 0.15  # doubled, capped
        response = client.get(RECORD)
        assert response.status_code == 503, response.text
        assert "retry-after" not in response.headers  # retrying will not help
        message = response.json()["detail"]
        assert "failed 4 times in a row (last: exit code 3)" in message
        assert f"run `{manual}` by hand" in message
        dataset = client.get("/api/model").json()["dataset"]
        assert dataset["collating"] is False and f"`{manual}`" in dataset["message"]
    prepared.stop()


def test_a_failure_after_a_long_run_starts_a_new_count() -> None:
    command = [sys.executable, "-c", "import sys; sys.exit(3)"]
    prepared = preparation.Preparation(
        command, "tdb prepare", backoff_s=0.01, max_failures=2, healthy_run_s=0.0
    ).start()
    children = set()

    def restarted_often() -> bool:
        children.add(prepared.child)
        assert prepared.state().phase != "failed"
        return len(children) >= 4

    _wait_for(restarted_often)
    prepared.stop()


def test_a_zombie_is_not_a_running_collation() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    _wait_for(lambda: _is_zombie_or_gone(child.pid)[0])  # exited, not yet waited for
    now = time.time()
    assert not Progress(6, 100, now, now, child.pid).is_running(now)
    child.wait()
    assert not Progress(6, 100, now, now, child.pid).is_running(now)
    assert Progress(6, 100, now, now, os.getpid()).is_running(now)


@pytest.mark.parametrize("text", ["", "{", '{"tokens_done": 1}'])
def test_unreadable_progress_is_none(tmp_path, text: str) -> None:
    (tmp_path / PROGRESS_FILENAME).write_text(text)
    assert read_progress(tmp_path) is None

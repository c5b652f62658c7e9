"""`tdb serve --prepare`: the dataset routes while a collation runs, and the child process."""

from __future__ import annotations

import json
import os
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
    child = preparation.start_preparation(Settings(model=MODEL, data_dir=tmp_path))
    assert child is not None
    child.wait()
    (command,) = started
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


def test_stopping_the_server_stops_the_child() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    preparation.stop_preparation(child, timeout_s=10.0)
    assert child.returncode is not None
    preparation.stop_preparation(child)  # already stopped: nothing to do
    preparation.stop_preparation(None)


@pytest.mark.parametrize("text", ["", "{", '{"tokens_done": 1}'])
def test_unreadable_progress_is_none(tmp_path, text: str) -> None:
    (tmp_path / PROGRESS_FILENAME).write_text(text)
    assert read_progress(tmp_path) is None

"""`tdb serve --prepare`: when the served model has no activation datasets yet, collate them
(`tdb prepare`) in a child process while the server answers. The debugger works at once; the
dataset routes answer 503 with the collation's progress until its store is written. The child
runs at a lower priority than the server, prints its own progress bar, and is stopped when the
server stops (collation resumes on the next start)."""

from __future__ import annotations

import subprocess
import sys

from neuron_explainer.activation_server.settings import Settings

NICENESS = 10


def store_missing(settings: Settings) -> bool:
    from neuron_explainer.datasets import CollationFileError, open_store
    from neuron_explainer.datasets.commands import default_store_dir

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


def start_preparation(settings: Settings) -> subprocess.Popen[bytes] | None:
    """The child collating the served model's datasets; None when they exist already."""
    if not store_missing(settings):
        return None
    return subprocess.Popen(preparation_command(settings))


def stop_preparation(child: subprocess.Popen[bytes] | None, timeout_s: float = 30.0) -> None:
    if child is None or child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout_s)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()

"""Shared by the benchmarks: interleaved timing and tokens from this repository's own text."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from neuron_explainer.models.tokenizers import Tokenizer

REPO = Path(__file__).resolve().parents[1]


def median_times(
    fns: dict[str, Callable[[], object]], repeats: int, warmup: int
) -> dict[str, tuple[float, float]]:
    """Median (wall, process CPU) seconds per call of each function, interleaving calls so drift
    hits all equally."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            samples[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    return {
        name: (statistics.median(w for w, _ in s), statistics.median(c for _, c in s))
        for name, s in samples.items()
    }


def repo_tokens(tokenizer: Tokenizer, n_tokens: int) -> npt.NDArray[np.uint16]:
    """n_tokens tokens of this repository's Python and Markdown files, repeated when short."""
    files = sorted(
        p for p in REPO.rglob("*") if p.suffix in (".py", ".md") and ".venv" not in p.parts
    )
    ids: list[int] = []
    for path in files:
        ids += tokenizer.encode(path.read_text(encoding="utf-8", errors="replace"))
        if len(ids) >= n_tokens:
            break
    return np.resize(np.asarray(ids, dtype=np.uint16), n_tokens)

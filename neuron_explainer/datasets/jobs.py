"""Collation jobs of a model by name: load it and its bundled autoencoders, find the split's token
file, collate into the model's store (`collate_model`), or only when it has none yet
(`ensure_collation`, what `tdb prepare` and `tdb serve --prepare` run); and the process tuning a
collation wants (`setup_job`), for the entry points that run one."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from neuron_explainer.datasets.locations import (
    BUNDLED_SPLIT,
    DEFAULT_DATA_DIR,
    default_store_dir,
    default_work_dir,
    token_file,
)

if TYPE_CHECKING:
    from neuron_explainer.datasets.config import CollationConfig

PREPARE_TOKENS = 1_048_576  # `tdb prepare`'s budget: 4,096 contexts of 256 tokens


def ensure_collation(
    model_name: str,
    data_dir: str | Path = DEFAULT_DATA_DIR,
    split: str = BUNDLED_SPLIT,
    token_budget: int | None = PREPARE_TOKENS,
    store_dir: str | None = None,
    progress: bool = True,
) -> str:
    """The model's store, collated first if it has none (resuming an interrupted collation)."""
    from neuron_explainer.datasets.reader import open_store
    from neuron_explainer.datasets.shards import CollationFileError

    store = store_dir or default_store_dir(data_dir, model_name)
    try:
        open_store(store)
        return store
    except CollationFileError:
        open_store.cache_clear()
    if progress:
        budget = "every token" if token_budget is None else f"{token_budget:,} tokens"
        print(
            f"No activation datasets for {model_name} in {store} yet: collating {budget} of the "
            f"{split} split once (minutes; later starts reuse them)",
            flush=True,
        )
    collate_model(model_name, data_dir, split, store, token_budget, progress=progress)
    return store


def collate_model(
    model_name: str,
    data_dir: str | Path,
    split: str,
    store: str,
    token_budget: int | None,
    cfg: CollationConfig | None = None,
    use_saes: bool = True,
    token_start: int = 0,
    work_dir: str | None = None,
    progress: bool = True,
    keep_work: bool = False,
) -> dict[str, Any] | None:
    """Collate into `store`; the work directory (a checkpoint of the shards so far, kept until
    the store is written, for resuming; about 250 MB for the default model) is then removed
    unless `keep_work`."""
    import shutil

    from neuron_explainer.datasets.collate import run_collation
    from neuron_explainer.datasets.config import CollationConfig
    from neuron_explainer.models.loading import load_model
    from neuron_explainer.models.sae_registry import load_model_saes

    model = load_model(model_name)
    saes = load_model_saes(model_name, dtype=model.dtype) if use_saes else {}
    tokens = token_file(data_dir, split, model)
    work = work_dir or default_work_dir(store)
    index = run_collation(
        model,
        saes,
        tokens,
        store,
        work,
        cfg or CollationConfig(),
        token_budget=token_budget,
        token_start=token_start,
        model_name=model_name,
        progress=progress,
    )
    if index is not None and not keep_work:
        shutil.rmtree(work, ignore_errors=True)
    return index


def setup_job(threads: int | None = None) -> None:
    """Threads, and freed memory kept for reuse: collation allocates and frees tensors of tens
    of MB per batch, which glibc otherwise maps and unmaps each time (page faults: about 10% of a
    collation's time here). The process keeps its peak memory, so only the entry points that
    run a collation call this (denormals are flushed by the entry points too, `cli.main`)."""
    import ctypes

    import torch

    if threads:
        torch.set_num_threads(threads)
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to tune
        return
    m_trim_threshold, m_mmap_max = -1, -4
    libc.mallopt(m_mmap_max, 0)
    libc.mallopt(m_trim_threshold, 2**31 - 1)

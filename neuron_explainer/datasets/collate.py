"""Collation as map and merge: `collate_shard` (map) over whole contexts of a token file,
`shards.merge` (associative), `run_collation` (resumable, with a progress bar) and the store.

The corpus split is cut into contexts of `context_size` consecutive tokens starting at
`token_start`; contexts are grouped into batches of `batch_contexts` (one forward pass each) and
batches into shards of `shard_contexts`. A shard's result is the merge of its batches' results,
and the final result the merge of the shards' in order; since shards are whole batches and merges
are associative, any split into shards gives the same result as one pass (moments to float64
rounding). Shards can be collated apart (on several machines) and merged; `run_collation` merges
each shard into the result of those before it as it goes, which lets a batch skip the examples
that cannot enter it, and saves that result as a checkpoint about once a minute, so an
interrupted run resumes close to where it stopped."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor
from tqdm import tqdm

from neuron_explainer.datasets.config import FORMAT_VERSION, CollationConfig, Group, model_groups
from neuron_explainer.datasets.examples import group_salt, node_keys
from neuron_explainer.datasets.plan import make_plan
from neuron_explainer.datasets.progress import ProgressWriter, claim_work_dir
from neuron_explainer.datasets.samples import KeyOrder
from neuron_explainer.datasets.shards import (
    CollationFileError,
    GroupResult,
    ShardResult,
    load_shard,
    merge,
    shard_bytes,
    write_bytes,
)
from neuron_explainer.datasets.stats import measure_batch
from neuron_explainer.datasets.store import write_store
from neuron_explainer.datasets.streams import (
    Cache,
    GroupBatch,
    cut_groups,
    forward_cache,
)
from neuron_explainer.models.sparse_autoencoder import SparseAutoencoder
from neuron_explainer.models.token_files import open_tokens
from neuron_explainer.models.transformer import Transformer

JOB_FILENAME = "job.json"
CHECKPOINT_PREFIX = "checkpoint-"
CHECKPOINT_SECONDS = 60.0  # at most about this much work is lost to an interruption
WORK_FORMAT = 2  # 2: one checkpoint of the shards so far (1: a file per shard)


def context_size(model: Transformer, cfg: CollationConfig) -> int:
    size = cfg.context_size or model.cfg.n_ctx
    if size > model.cfg.n_ctx:
        raise ValueError(f"context_size {size} exceeds the model's context of {model.cfg.n_ctx}")
    return size


def groups_of(model: Transformer, saes: Mapping[str, SparseAutoencoder]) -> list[Group]:
    return model_groups(model.cfg, list(saes))


def batch_statistics(
    batches: Mapping[str, GroupBatch],
    shape: tuple[int, ...],
    cfg: CollationConfig,
    prior: ShardResult | None = None,
) -> ShardResult:
    """The statistics of one batch's group values (`streams.cut_groups`); `shape`: the
    batch's tokens' (contexts, positions)."""
    results = {}
    for key, batch in batches.items():
        order = KeyOrder(node_keys(batch.ids, cfg.seed) ^ group_salt(key, cfg.seed))
        measures = {}
        for name, values in batch.measures.items():
            before = None if prior is None else prior.groups[key].measures[name]
            measures[name] = measure_batch(values, batch.ids, order, cfg, before)
        results[key] = GroupResult(measures, batch.sums)
    return ShardResult(results, shape[0] * shape[1], shape[0])


def collate_shard(
    model: Transformer,
    saes: Mapping[str, SparseAutoencoder],
    tokens: npt.NDArray[np.uint16],
    first_context: int,
    n_contexts: int,
    cfg: CollationConfig,
    token_start: int = 0,
    on_batch: Callable[[int], object] | None = None,
    into: ShardResult | None = None,
) -> ShardResult:
    """Map: collate contexts first_context .. first_context + n_contexts - 1 of `tokens`
    (context i starts at token_start + i * context_size). `on_batch` gets each batch's tokens.
    `into`: a result to merge the shard's into as it goes (given up by the caller; returned
    merged); equal to `merge(into, collate_shard(...))`, but cheaper, as examples that cannot
    enter `into` are skipped (no windows)."""
    size = context_size(model, cfg)
    if n_contexts <= 0:
        raise ValueError("A shard needs at least one context")
    if token_start + (first_context + n_contexts) * size > len(tokens):
        raise ValueError(f"Contexts up to {first_context + n_contexts} run past the token file")
    groups = groups_of(model, saes)
    if into is not None and into.groups.keys() != {g.key for g in groups}:
        raise ValueError("collate_shard: `into` holds other groups than the model's")
    result = into
    stop = first_context + n_contexts
    starts = [
        token_start + np.arange(first, min(first + cfg.batch_contexts, stop)) * size
        for first in range(first_context, stop, cfg.batch_contexts)
    ]

    def forward(at: npt.NDArray[np.int64]) -> tuple[Cache, Tensor]:
        batch = torch.from_numpy(np.stack([tokens[s : s + size] for s in at]).astype(np.int64))
        return forward_cache(model, groups, batch, saes), batch

    # The next batch's forward pass runs on another thread while this one's statistics are
    # taken (torch releases the GIL): with few cores, two streams of work use them better than
    # one stream of small multi-threaded operations. Results are unchanged.
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(forward, starts[0])
        for i, at in enumerate(starts):
            cache, batch = pending.result()
            if i + 1 < len(starts):
                pending = pool.submit(forward, starts[i + 1])
            batches = cut_groups(model, groups, cache, torch.from_numpy(at), cfg)
            del cache
            part = batch_statistics(batches, tuple(batch.shape), cfg, result)
            result = part if result is None else merge(result, part, cfg, into=True)
            if on_batch is not None:
                on_batch(part.n_tokens)
            del part
    assert result is not None
    return result


def fingerprint(model: Transformer, saes: Mapping[str, SparseAutoencoder]) -> str:
    """A hash of the weights, so that a work directory is never resumed with other weights."""
    h = hashlib.sha256()
    modules: list[tuple[str, torch.nn.Module]] = [("model", model), *sorted(saes.items())]
    for prefix, module in modules:
        for name, p in module.state_dict().items():
            h.update(f"{prefix}.{name}{tuple(p.shape)}{p.dtype}".encode())
            h.update(p.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def checkpoint_path(work_dir: str | Path, i: int) -> str:
    """The file of the merged result of shards 0..i."""
    return str(Path(work_dir) / f"{CHECKPOINT_PREFIX}{i:05d}.safetensors")


def _checkpoints(work_dir: Path) -> list[int]:
    """The shards with a checkpoint in the work directory, ascending."""
    found = []
    for path in work_dir.glob(f"{CHECKPOINT_PREFIX}*.safetensors"):
        number = path.name.removeprefix(CHECKPOINT_PREFIX).removesuffix(".safetensors")
        if number.isdigit():
            found.append(int(number))
    return sorted(found)


def run_collation(
    model: Transformer,
    saes: Mapping[str, SparseAutoencoder],
    tokens_path: str | Path,
    store_dir: str,
    work_dir: str | Path,
    cfg: CollationConfig = CollationConfig(),  # noqa: B008 (frozen, so sharing one is safe)
    token_budget: int | None = None,
    token_start: int = 0,
    model_name: str = "",
    max_new_shards: int | None = None,
    progress: bool = True,
) -> dict[str, Any] | None:
    """Collate a token file into a store; returns the store's index, or None when stopped after
    `max_new_shards` new shards (run again to resume).

    Shards are collated in order, each merged into the result of those before it
    (`collate_shard(into=...)`), and that result is saved as a checkpoint in `work_dir` about
    once a minute (the previous one then deleted); a rerun resumes from the last checkpoint."""
    size = context_size(model, cfg)
    tokens = open_tokens(tokens_path, size - 1, model.cfg.d_vocab)
    plan = make_plan(tokens_path, len(tokens), size, cfg, token_budget, token_start)
    weights = fingerprint(model, saes)
    job = {
        "format_version": FORMAT_VERSION,  # shards of another version do not merge with these
        "work_format": WORK_FORMAT,
        "plan": plan.__dict__,
        "config": cfg.to_dict(),
        "model": weights,
        "autoencoders": sorted(saes),
    }
    work = Path(work_dir)
    with claim_work_dir(work_dir):  # one collation per work directory at a time
        _check_job(work, job)
        done = _checkpoints(work)
        if done and done[-1] >= plan.n_shards:
            raise CollationFileError(
                checkpoint_path(work, done[-1]), f"is past the plan's {plan.n_shards} shards"
            )
        result = load_shard(checkpoint_path(work, done[-1]), cfg) if done else None
        next_shard = done[-1] + 1 if done else 0
        done_tokens = sum(plan.shard(i)[1] for i in range(next_shard)) * size
        if result is not None and result.n_tokens != done_tokens:
            raise CollationFileError(
                checkpoint_path(work, done[-1]),
                f"holds {result.n_tokens} tokens, not the {done_tokens} of shards "
                f"0..{done[-1]}; delete the work directory",
            )
        bar = tqdm(
            total=plan.n_tokens,
            initial=done_tokens,
            unit="tok",
            unit_scale=True,
            desc=f"collate {model_name or 'model'}",
            disable=not progress,
        )
        status = ProgressWriter(work_dir, plan.n_tokens, done_tokens)

        def on_batch(n: int) -> None:
            bar.update(n)
            status.update(n)

        # A checkpoint is written after a shard once CHECKPOINT_SECONDS have passed since the
        # last (and when stopping), on another thread while the next shard is collated; the
        # last shard's result goes to the store instead.
        with bar, ThreadPoolExecutor(1) as writer:
            written: Future[None] | None = None
            saved_at = time.monotonic()
            stopped = False
            for i in range(next_shard, plan.n_shards):
                if max_new_shards is not None and i - next_shard >= max_new_shards:
                    stopped = True
                    break
                first, count = plan.shard(i)
                result = collate_shard(
                    model, saes, tokens, first, count, cfg, plan.token_start, on_batch, result
                )
                stopping = max_new_shards is not None and i + 1 - next_shard >= max_new_shards
                due = time.monotonic() - saved_at >= CHECKPOINT_SECONDS
                if i + 1 < plan.n_shards and (stopping or due):
                    data = shard_bytes(result, cfg)
                    if written is not None:
                        written.result()  # raises what the write raised
                    written = writer.submit(_write_checkpoint, work, i, data)
                    saved_at = time.monotonic()
            if written is not None:
                written.result()
        status.flush()
        if stopped:
            return None
        assert result is not None
        return write_store(store_dir, result, model, saes, tokens, plan, cfg, model_name, weights)


def _write_checkpoint(work: Path, i: int, data: bytes) -> None:
    """Write the checkpoint of shards 0..i, then delete the earlier ones."""
    write_bytes(checkpoint_path(work, i), data)
    for older in _checkpoints(work):
        if older < i:
            Path(checkpoint_path(work, older)).unlink(missing_ok=True)


def _check_job(work_dir: Path, job: dict[str, Any]) -> None:
    path = work_dir / JOB_FILENAME
    if path.is_file():
        try:
            existing = json.loads(path.read_text())
        except json.JSONDecodeError:
            raise CollationFileError(str(path), "is not valid JSON; delete the work dir") from None
        if existing != job:
            raise CollationFileError(
                str(path),
                "describes another collation job (model, autoencoders, tokens or settings "
                "differ); delete this work directory or choose another",
            )
        return
    work_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(job, indent=2, sort_keys=True) + "\n")

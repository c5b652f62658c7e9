"""The store: reader round trip, summaries, resuming, and clear errors for bad files."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from neuron_explainer.datasets import (
    CollationConfig,
    CollationFileError,
    CollationStore,
    ShardResult,
    collate,
    layer_summary,
    open_store,
    read_record,
    run_collation,
)
from neuron_explainer.datasets.collate import checkpoint_path
from neuron_explainer.datasets.progress import claim_work_dir, read_progress
from neuron_explainer.datasets.records import Example, as_json
from neuron_explainer.datasets.shards import load_shard
from neuron_explainer.datasets.stats import derived_moments
from tests.datasets.conftest import CFG, N_CONTEXTS

RECORDS = [
    ("neuron", 0, 5),
    ("neuron", 1, 63),
    ("head", 1, 2),
    ("latent", 0, 7),  # the only autoencoder of layer 0 (blocks.0.mlp.hook_post)
    ("latent", "blocks.1.hook_resid_pre.hook_sae_acts_post", 15),
]


@pytest.fixture(scope="module")
def store(model, saes, tokens_path, tmp_path_factory) -> tuple[str, dict[str, Any]]:
    root = tmp_path_factory.mktemp("collation")
    index = run_collation(
        model,
        saes,
        tokens_path,
        str(root / "store"),
        root / "work",
        CFG,
        model_name="tiny",
        progress=False,
    )
    assert index is not None
    return str(root / "store"), index


def test_index(store, saes) -> None:
    _, index = store
    assert index["corpus"]["n_tokens"] == N_CONTEXTS * 12
    assert index["model"]["autoencoders"] == sorted(saes)
    sites = [(g["family"], g["site"]) for g in index["groups"]]
    assert ("head", "blocks.1.attn.hook_pattern") in sites
    assert len(sites) == 2 + 2 + len(saes)


@pytest.mark.parametrize("family, layer, c", RECORDS)
def test_record_round_trip(store, full: ShardResult, tokens, family, layer, c) -> None:
    root, _ = store
    record = read_record(root, family, layer, c)
    json.dumps(as_json(record), allow_nan=False)  # JSON-ready: no NaN, no numpy types
    group, _ = open_store(root).group(family, layer)
    assert record.site == group.site
    for measure, stats in full.groups[group.key].measures.items():
        got = record.measures[measure]
        assert got.stats.count == int(stats.count[c])
        assert got.stats.nonzero == int(stats.nonzero[c])
        assert sum(got.histogram.counts) == int(stats.count[c])
        assert len(got.histogram.edges) == len(got.histogram.counts) + 1
        expected = derived_moments(stats.count[c : c + 1].numpy(), stats.moments[c : c + 1].numpy())
        assert got.stats.mean == pytest.approx(float(expected.mean[0]), rel=1e-12)
        top = [(e.id, e.value) for e in got.top]
        n = len(top)
        assert top == list(
            zip(stats.top.ids[c, :n].tolist(), stats.top.values[c, :n].tolist(), strict=True)
        )
        assert n == int((stats.top.values[c] > 0).sum()) or n == CFG.top_k
        quantiles = got.quantiles
        samples = [e for q in quantiles for e in q.examples]
        assert {e.id for e in samples} == set(stats.quantile.ids[c].tolist()) - {-1}
        values = [e.value for e in samples]
        assert values == sorted(values) and all(v > 0 for v in values)
        if len(samples) == CFG.n_quantile_samples:
            assert [len(q.examples) for q in quantiles] == [CFG.per_quantile] * CFG.n_quantiles
        assert [e.id for e in got.random] == stats.random.ids[c].tolist()
        for e in got.top + samples + got.random:
            check_window(e, family, tokens)
    assert record.logits is not None
    assert len(record.logits.top) == CFG.n_logit_tokens


def check_window(e: Example, family: str, tokens: np.ndarray) -> None:
    size = CFG.context_size
    assert size is not None
    centre = e.id // size if family == "head" else e.id
    assert e.activations[e.position] == pytest.approx(e.value, rel=1e-6) or family == "head"
    first = centre - e.position
    assert e.tokens == tokens[first : first + len(e.tokens)].tolist()
    assert first // size == centre // size  # the window stays inside the node's context
    assert e.strings == [f"<{t}>" for t in e.tokens]
    assert len(e.activations) == len(e.tokens) <= CFG.window
    if family == "head":
        key = centre - e.key_distance
        assert e.key_token == int(tokens[key])
        if e.position - e.key_distance >= 0:
            assert e.activations[e.position - e.key_distance] == pytest.approx(e.value, rel=1e-6)


def test_neuron_logit_table(store, model) -> None:
    root, _ = store
    record = read_record(root, "neuron", 1, 9)
    w = model.blocks[1].mlp.W_out.detach()[9]
    scores = ((w - w.mean()) * model.ln_final.w.detach()) @ model.W_U.detach()
    top = scores.topk(CFG.n_logit_tokens)
    assert [e.token for e in record.logits.top] == top.indices.tolist()
    assert [e.value for e in record.logits.top] == pytest.approx(top.values.tolist())
    bottom = [e.value for e in record.logits.bottom]
    assert bottom == sorted(bottom) and bottom[0] == pytest.approx(float(scores.min()))


@pytest.mark.parametrize("by", ["kurtosis", "density", "max"])
def test_layer_summary(store, full: ShardResult, by: str) -> None:
    root, _ = store
    rows = layer_summary(root, "neuron", 0, by=by, limit=10).rows
    assert len(rows) == 10
    values = [getattr(r, by) for r in rows]
    assert values == sorted(values, reverse=True)
    stats = full.groups["neuron/blocks.0.mlp.hook_post"].measures["activation"]
    if by == "max":
        assert values[0] == pytest.approx(float(stats.top.values[:, 0].max()))
    if by == "density":
        assert values[0] == pytest.approx(float((stats.nonzero / stats.count).max()))


def test_warm_record_is_fast(store) -> None:
    root, _ = store
    reader = CollationStore(root)
    reader.record("neuron", 0, 0)  # loads and verifies the group's arrays
    start = time.perf_counter()
    for c in range(20):
        reader.record("neuron", 0, c)
    per_record = (time.perf_counter() - start) / 20
    assert per_record < 0.1  # generous on a busy test machine; about 1 ms when idle


def test_interrupted_and_resumed_equals_uninterrupted(model, saes, tokens_path, store, tmp_path):
    _, index = store
    work = tmp_path / "work"
    args = (model, saes, tokens_path, str(tmp_path / "store"), work, CFG)
    assert run_collation(*args, max_new_shards=1, progress=False) is None
    assert sorted(p.name for p in work.glob("checkpoint-*")) == ["checkpoint-00000.safetensors"]
    assert not (tmp_path / "store").exists()
    stopped = read_progress(work)  # what a server shows: how far, and by which process
    assert stopped is not None and stopped.pid == os.getpid()
    assert 0 < stopped.tokens_done < stopped.n_tokens == index["corpus"]["n_tokens"]
    resumed = run_collation(*args, progress=False, model_name="tiny")
    finished = read_progress(work)
    assert finished is not None and finished.tokens_done == finished.n_tokens
    assert finished.tokens_at_start == stopped.tokens_done  # the rate counts this run's only
    assert resumed == index | {"corpus": resumed["corpus"]}
    assert resumed["corpus"] == index["corpus"]


def test_checkpoints_are_written_once_due_and_when_stopping(
    model, saes, tokens_path, store, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, index = store
    work = tmp_path / "work"
    args = (model, saes, tokens_path, str(tmp_path / "store"), work, CFG)
    monkeypatch.setattr(collate, "CHECKPOINT_SECONDS", 1e9)  # never due: a full run writes none
    assert run_collation(*args, progress=False, model_name="tiny") == index
    assert not list(work.glob("checkpoint-*"))
    shutil.rmtree(work)
    monkeypatch.setattr(collate, "CHECKPOINT_SECONDS", 0.0)  # due after every shard
    assert run_collation(*args, max_new_shards=2, progress=False) is None
    assert [p.name for p in work.glob("checkpoint-*")] == ["checkpoint-00001.safetensors"]
    assert load_shard(checkpoint_path(work, 1), CFG).n_contexts == 2 * CFG.shard_contexts
    assert run_collation(*args, progress=False, model_name="tiny") == index


def test_a_work_dir_in_use_is_refused_naming_its_process(model, saes, tokens_path, tmp_path):
    work = tmp_path / "work"
    args = (model, saes, tokens_path, str(tmp_path / "store"), work, CFG)
    in_use = rf"in use by another collation \(pid {os.getpid()}\)"
    # As another `tdb prepare` on the same data directory would:
    with claim_work_dir(work), pytest.raises(CollationFileError, match=in_use):
        run_collation(*args, progress=False)
    assert run_collation(*args, max_new_shards=1, progress=False) is None  # free again


def test_work_dir_of_another_job(model, saes, tokens_path, tmp_path) -> None:
    work = tmp_path / "work"
    small = CollationConfig(context_size=12, batch_contexts=4, shard_contexts=4, top_k=3)
    assert (
        run_collation(
            model,
            {},
            tokens_path,
            str(tmp_path / "s"),
            work,
            small,
            max_new_shards=1,
            progress=False,
        )
        is None
    )
    with pytest.raises(CollationFileError, match=str(work / "job.json")):
        run_collation(model, saes, tokens_path, str(tmp_path / "s"), work, small, progress=False)


def copy_store(store, tmp_path: Path) -> Path:
    root, _ = store
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    return copy


def test_missing_index(tmp_path) -> None:
    with pytest.raises(CollationFileError, match=str(tmp_path / "index.json")):
        CollationStore(str(tmp_path))


def test_missing_array(store, tmp_path) -> None:
    root = copy_store(store, tmp_path)
    path = root / "neuron" / "blocks.0.mlp.hook_post" / "activation.top.acts.npy"
    path.unlink()
    with pytest.raises(CollationFileError, match=f"{path}: file is missing"):
        CollationStore(str(root)).record("neuron", 0, 1)


def test_corrupt_array(store, tmp_path) -> None:
    root = copy_store(store, tmp_path)
    path = root / "head" / "blocks.1.attn.hook_pattern" / "write_norm.hist.npy"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    reader = CollationStore(str(root))
    reader.record("head", 0, 1)  # other groups still read
    with pytest.raises(CollationFileError, match=f"{path}: is corrupt"):
        reader.record("head", 1, 1)


def test_corrupt_index_and_shard(store, tmp_path) -> None:
    root = copy_store(store, tmp_path)
    (root / "index.json").write_text("{not json")
    with pytest.raises(CollationFileError, match=str(root / "index.json")):
        CollationStore(str(root))
    shard = tmp_path / "shard.safetensors"
    shard.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{truncated")
    with pytest.raises(CollationFileError, match=str(shard)):
        load_shard(str(shard), CFG)


def test_truncated_shard_file(model, saes, tokens_path, tmp_path) -> None:
    work = tmp_path / "work"
    args = (model, saes, tokens_path, str(tmp_path / "store"), work, CFG)
    run_collation(*args, max_new_shards=1, progress=False)
    path = Path(checkpoint_path(work, 0))
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CollationFileError, match=str(path)):
        run_collation(*args, progress=False)


def test_latents_are_named_by_their_splice_site_too(store) -> None:
    root, _ = store
    by_splice = read_record(root, "latent", "blocks.1.hook_resid_pre", 15)
    assert by_splice == read_record(
        root, "latent", "blocks.1.hook_resid_pre.hook_sae_acts_post", 15
    )

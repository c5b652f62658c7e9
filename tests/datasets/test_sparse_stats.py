"""The sparse path of the statistics (latents) against the dense path and a brute force."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neuron_explainer.datasets.config import CollationConfig
from neuron_explainer.datasets.examples import dense_lookup, node_keys
from neuron_explainer.datasets.samples import KeyOrder
from neuron_explainer.datasets.sparse_stats import SparseEntries
from neuron_explainer.datasets.stats import MeasureBatch, measure_batch, merge_stats

CFG = CollationConfig(
    top_k=5, n_quantiles=2, per_quantile=3, n_random=4, window_before=2, window_after=1
)
DENSITIES = [0.0, 0.01, 0.05, 0.3, 1.0]  # per row: fewer positives than top_k, and more


def sparse_values(n: int, seed: int) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    x = rng.gamma(1.5, 1.0, size=(len(DENSITIES), n)).astype(np.float32)
    x *= rng.random(x.shape) < np.array(DENSITIES)[:, None]
    x[3, :4] = x[3, 4]  # ties, broken by id
    return torch.from_numpy(x)


def batch(x: torch.Tensor, sparse: bool) -> MeasureBatch:
    def windows(comps: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
        return x[comps, nodes][:, None] + torch.arange(CFG.window) / (1 + nodes[:, None])

    if sparse:
        rows, cols = x.nonzero(as_tuple=True)
        entries = SparseEntries(rows, cols, x[rows, cols], tuple(x.shape), dense_lookup(x))
        return MeasureBatch(None, windows, entries)
    return MeasureBatch(x, windows)


def stats(x: torch.Tensor, ids: torch.Tensor, sparse: bool, prior=None):
    order = KeyOrder(node_keys(ids, CFG.seed))
    return measure_batch(batch(x, sparse), ids, order, CFG, prior)


@pytest.mark.parametrize("shuffled", [False, True])
def test_sparse_equals_dense_but_lists_only_activating_top_examples(shuffled: bool) -> None:
    x = sparse_values(400, seed=0)
    ids = torch.arange(1000, 1400)
    if shuffled:  # ties are broken by id, whatever the order of the nodes
        ids = ids[torch.randperm(400, generator=torch.Generator().manual_seed(0))]
    dense, sparse = stats(x, ids, False), stats(x, ids, True)
    for field in ("count", "nonzero", "hist"):
        assert torch.equal(getattr(dense, field), getattr(sparse, field)), field
    torch.testing.assert_close(dense.moments, sparse.moments, rtol=1e-5, atol=0)
    for name in ("quantile", "random"):
        for f in ("keys", "ids", "values", "windows"):
            assert torch.equal(getattr(getattr(dense, name), f), getattr(getattr(sparse, name), f))
    for row, values in enumerate(x.numpy()):
        positive = np.flatnonzero(values > 0)
        node_ids = ids.numpy()[positive]
        expected = positive[np.lexsort((node_ids, -values[positive]))][: CFG.top_k]
        got = sparse.top.ids[row].numpy()
        assert got[: len(expected)].tolist() == ids.numpy()[expected].tolist()
        assert (got[len(expected) :] == -1).all()
        np.testing.assert_array_equal(sparse.top.values[row, : len(expected)], values[expected])


def test_sparse_merge_equals_one_pass() -> None:
    x = sparse_values(600, seed=1)
    ids = torch.arange(600)
    whole = stats(x, ids, True)
    first = stats(x[:, :250], ids[:250], True)
    merged = merge_stats(first, stats(x[:, 250:], ids[250:], True, prior=first), CFG)
    for name in ("top", "quantile", "random"):
        for f in ("keys", "ids", "values"):
            assert torch.equal(getattr(getattr(whole, name), f), getattr(getattr(merged, name), f))
    assert torch.equal(whole.hist, merged.hist) and torch.equal(whole.nonzero, merged.nonzero)

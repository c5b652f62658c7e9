"""Collation equals a brute-force computation, and merging shards equals one pass."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neuron_explainer.datasets import ShardResult, collate_shard, merge, streams
from neuron_explainer.datasets.config import bin_index
from neuron_explainer.datasets.examples import Examples, group_salt, node_keys
from neuron_explainer.datasets.stats import MeasureStats, derived_moments
from tests.datasets.brute_force import Nodes, brute_force
from tests.datasets.conftest import CFG, N_CONTEXTS

VALUE_RTOL = 1e-5  # write norms: float32 Gram-matrix route vs float64 explicit norms
MOMENT_RTOL = 1e-5  # float32 powers summed in float64 vs float64 throughout
MERGE_RTOL = 1e-9  # the same float64 partial sums added in another order


@pytest.fixture(scope="module")
def nodes(model, saes, tokens) -> dict[tuple[str, str], Nodes]:
    return brute_force(model, saes, tokens, N_CONTEXTS, CFG)


def all_measures(result: ShardResult) -> list[tuple[str, str, MeasureStats]]:
    return [(k, m, s) for k, g in result.groups.items() for m, s in g.measures.items()]


def test_groups(full: ShardResult, nodes) -> None:
    assert {(k, m) for k, m, _ in all_measures(full)} == set(nodes)
    assert full.n_tokens == N_CONTEXTS * 12 and full.n_contexts == N_CONTEXTS


def expected_sample(ids: np.ndarray, keys: np.ndarray, eligible: np.ndarray, n: int) -> list:
    order = np.argsort(np.where(eligible, keys, np.iinfo(np.int64).max), kind="stable")
    return [int(ids[i]) for i in order[: min(n, int(eligible.sum()))]]


def check_examples(got: Examples, c: int, truth: Nodes, expected_ids: list[int]) -> None:
    ids = got.ids[c].numpy()
    n = len(expected_ids)
    assert ids[:n].tolist() == expected_ids
    assert (ids[n:] == -1).all()
    where = {int(i): j for j, i in enumerate(truth.ids)}
    cols = [where[i] for i in expected_ids]
    np.testing.assert_allclose(got.values[c, :n].numpy(), truth.values[c, cols], rtol=VALUE_RTOL)
    np.testing.assert_allclose(
        got.windows[c, :n].numpy(), truth.windows[c, cols], rtol=VALUE_RTOL, atol=1e-7
    )


@pytest.mark.parametrize("c", [0, 3])
def test_equals_brute_force(full: ShardResult, nodes, c: int) -> None:
    for key, measure, stats in all_measures(full):
        truth = nodes[key, measure]
        x = truth.values[c]
        assert int(stats.count[c]) == len(x)
        assert int(stats.nonzero[c]) == int((x != 0).sum())
        powers = np.stack([(x**p).sum() for p in range(1, 5)])
        np.testing.assert_allclose(stats.moments[c].numpy(), powers, rtol=MOMENT_RTOL)
        bins = bin_index(torch.from_numpy(x).float(), CFG).numpy()
        np.testing.assert_array_equal(
            stats.hist[c].numpy(), np.bincount(bins, minlength=CFG.n_bins)
        )
        # top-k: by value, ties by id (the brute force's order is by id already)
        by_value = np.argsort(-x, kind="stable")[: CFG.top_k]
        if key.startswith("latent/"):  # latents list activating examples only (sparse_stats)
            by_value = by_value[x[by_value] > 0]
        check_examples(stats.top, c, truth, [int(truth.ids[i]) for i in by_value])
        keys = (
            node_keys(torch.from_numpy(truth.ids), CFG.seed) ^ group_salt(key, CFG.seed)
        ).numpy()
        everyone = np.ones_like(x, dtype=bool)
        check_examples(
            stats.random, c, truth, expected_sample(truth.ids, keys, everyone, CFG.n_random)
        )
        sample = expected_sample(truth.ids, keys, x > 0, CFG.n_quantile_samples)
        check_examples(stats.quantile, c, truth, sample)


def test_histogram_bins_bracket_values() -> None:
    x = torch.tensor([0.0, 1e-9, -1e-9, 1.0, -1.0, 0.3, -5.5, 1e6, -1e6, 2.0**-20])
    bins = bin_index(x, CFG).numpy()
    edges = CFG.bin_edges()
    for value, b in zip(x.tolist(), bins.tolist(), strict=True):
        low = -np.inf if b == 0 else edges[b]
        high = np.inf if b == CFG.n_bins - 1 else edges[b + 1]
        assert low <= value <= high, (value, b, low, high)
    assert bins[0] == bins[1] == bins[2] == CFG.zero_bin


def test_derived_moments_match_numpy() -> None:
    x = np.random.default_rng(0).gamma(2.0, 1.5, size=(3, 1000))
    moments = np.stack([(x**p).sum(1) for p in range(1, 5)], axis=1)
    got = derived_moments(np.full(3, 1000), moments)
    d = x - x.mean(1, keepdims=True)
    var = (d**2).mean(1)
    np.testing.assert_allclose(got.mean, x.mean(1), rtol=1e-12)
    np.testing.assert_allclose(got.variance, var, rtol=1e-10)
    np.testing.assert_allclose(got.skew, (d**3).mean(1) / var**1.5, rtol=1e-8)
    np.testing.assert_allclose(got.kurtosis, (d**4).mean(1) / var**2 - 3, rtol=1e-8)


def assert_same(a: ShardResult, b: ShardResult) -> None:
    assert (a.n_tokens, a.n_contexts) == (b.n_tokens, b.n_contexts)
    for key, group in a.groups.items():
        for name, t in group.sums.items():
            torch.testing.assert_close(t, b.groups[key].sums[name], rtol=MERGE_RTOL, atol=0)
        for measure, sa in group.measures.items():
            sb = b.groups[key].measures[measure]
            for field in ("count", "nonzero", "hist"):
                assert torch.equal(getattr(sa, field), getattr(sb, field)), (key, field)
            torch.testing.assert_close(sa.moments, sb.moments, rtol=MERGE_RTOL, atol=0)
            for name in ("top", "quantile", "random"):
                ea, eb = getattr(sa, name), getattr(sb, name)
                for f in ("keys", "ids", "values", "windows"):
                    assert torch.equal(getattr(ea, f), getattr(eb, f)), (key, measure, name, f)


def test_latent_windows_read_from_codes_or_a_dense_matrix_alike(
    model, saes, tokens, full: ShardResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The tiny collation reads latents' windows from their sparse codes; force the dense matrix.
    monkeypatch.setattr(streams, "_SPARSE_WINDOW_LOOKUPS", 0)
    assert_same(collate_shard(model, saes, tokens, 0, N_CONTEXTS, CFG), full)


def test_merge_equals_one_pass(model, saes, tokens, full: ShardResult) -> None:
    # Shards of whole batches, of different sizes; merged in two groupings.
    a = collate_shard(model, saes, tokens, 0, 8, CFG)
    b = collate_shard(model, saes, tokens, 8, 4, CFG)
    c = collate_shard(model, saes, tokens, 12, N_CONTEXTS - 12, CFG)
    assert_same(merge(merge(a, b, CFG), c, CFG), full)
    assert_same(merge(a, merge(b, c, CFG), CFG), full)


def test_a_shard_collated_into_the_result_before_it_equals_the_merge(
    model, saes, tokens, full: ShardResult
) -> None:
    # As run_collation goes: each shard merged into the result so far, skipping the examples
    # that cannot enter it; the same result as merging standalone shards.
    a = collate_shard(model, saes, tokens, 0, 8, CFG)
    ab = collate_shard(model, saes, tokens, 8, 4, CFG, into=a)
    assert_same(collate_shard(model, saes, tokens, 12, N_CONTEXTS - 12, CFG, into=ab), full)
    with pytest.raises(ValueError, match="other groups"):
        collate_shard(model, {}, tokens, 0, 4, CFG, into=full)

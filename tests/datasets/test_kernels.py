"""The compiled collation loops equal their definitions: `top_k_rows` the k largest of each row
(ties to the lower index), `row_stats` counts, float64 power sums and histogram bins (which
follow their edges exactly)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neuron_explainer.datasets import CollationConfig
from neuron_explainer.datasets.config import bin_index
from neuron_explainer.datasets.kernels import (
    entries_at_least,
    entries_by_latent,
    head_pair_measures,
    row_stats,
    top_k_rows,
)
from neuron_explainer.datasets.streams import _encode_in_chunks, head_pairs
from neuron_explainer.models.sparse_autoencoder import SaeConfig, SparseAutoencoder


def expected_top_k(x: torch.Tensor, k: int) -> list[set[int]]:
    """Per row: every index above the k-th largest value, then tied ones by lower index."""
    out = []
    for row in x.tolist():
        kth = sorted(row, reverse=True)[k - 1]
        above = [j for j, v in enumerate(row) if v > kth]
        tied = [j for j, v in enumerate(row) if v == kth]
        out.append(set(above + tied[: k - len(above)]))
    return out


@pytest.mark.parametrize(("n", "k"), [(4096, 64), (2048, 32), (1000, 7), (100, 4), (64, 2)])
def test_top_k_rows_are_the_k_largest(n: int, k: int) -> None:
    g = torch.Generator().manual_seed(n)
    x = torch.randn(300, n, generator=g)
    x[:5] = x[:5].round()  # many ties at the k-th value
    x[5, :] = 1.0  # every value tied
    x[6] = torch.arange(n, dtype=torch.float32)  # sorted: the largest sit in one block
    x[7] = -torch.arange(n, dtype=torch.float32) - 1e6  # all negative, descending
    indices, values = top_k_rows(x, k)
    assert indices.shape == values.shape == (300, k)
    assert torch.equal(x.gather(1, indices), values)
    got = [set(row) for row in indices.tolist()]
    assert got == expected_top_k(x, k)
    ref = x.topk(k, dim=1).values  # the values agree with torch's, ties or not
    assert torch.equal(values.sort(1, descending=True).values, ref)


def test_top_k_rows_falls_back_beyond_the_block_bound() -> None:
    x = torch.randn(3, 40, generator=torch.Generator().manual_seed(0))
    indices, values = top_k_rows(x, 5)  # 40 values: 2 blocks, fewer than k
    assert torch.equal(values.sort(1).values, x.topk(5, dim=1).values.sort(1).values)
    assert torch.equal(x.gather(1, indices), values)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("row", [2, 250])  # of 300: in the calling thread's half, the helper's
def test_top_k_rows_refuses_non_finite_values(bad: float, row: int) -> None:
    x = torch.randn(300, 256)
    x[row, 77] = bad
    with pytest.raises(ValueError, match="not all finite"):
        top_k_rows(x, 8)


def test_row_stats_counts_sums_and_bins() -> None:
    cfg = CollationConfig()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(4, 5003, generator=g) * torch.logspace(-8, 5, 5003)
    x[0, :100] = 0.0
    x[3] = 0.0
    edges_f32 = torch.from_numpy(cfg.bin_edges().astype(np.float32))
    x[1, : len(edges_f32)] = edges_f32  # values on the edges
    nonzero, positive, moments, hist = row_stats(x, cfg)

    assert nonzero.tolist() == (x != 0).sum(1).tolist()
    assert positive.tolist() == (x > 0).sum(1).tolist()
    x64 = x.double()
    powers = torch.stack([(x64**p).sum(1) for p in range(1, 5)], dim=1)
    torch.testing.assert_close(moments, powers, rtol=1e-12, atol=0.0)

    edges = cfg.bin_edges()
    bins = bin_index(x, cfg).numpy()
    for value, b in zip(x.view(-1).tolist(), bins.reshape(-1).tolist(), strict=True):
        low = -np.inf if b == 0 else edges[b]
        high = np.inf if b == cfg.n_bins - 1 else edges[b + 1]
        if b == cfg.zero_bin:
            assert abs(value) < edges[b + 1], value
        elif b > cfg.zero_bin:
            assert low <= value < high, (value, b)
        else:
            assert low < value <= high, (value, b)
    counts = np.stack([np.bincount(row, minlength=cfg.n_bins) for row in bins])
    np.testing.assert_array_equal(hist.numpy(), counts)


def test_row_stats_sums_carry_non_finite_values() -> None:
    x = torch.ones(3, 100)
    x[1, 5] = float("nan")
    x[2, 9] = float("inf")
    _, _, moments, _ = row_stats(x, CollationConfig())
    assert moments[0].isfinite().all()
    assert not moments[1].isfinite().any()
    assert not moments[2, 1].isfinite()


def test_entries_at_least_are_the_nonzero_of_the_comparison() -> None:
    g = torch.Generator().manual_seed(2)
    x = torch.randn(50, 3000, generator=g).round(decimals=1)  # ties with the floor
    floor = torch.randn(50, generator=g).round(decimals=1) + 2.0
    floor[3] = -float("inf")  # every entry
    floor[4] = float("inf")  # none
    rows, cols = entries_at_least(x, floor)
    want_rows, want_cols = (x >= floor[:, None]).nonzero(as_tuple=True)
    assert torch.equal(rows, want_rows)
    assert torch.equal(cols, want_cols)


def test_head_pair_measures_list_the_causal_pairs() -> None:
    g = torch.Generator().manual_seed(3)
    batch, heads, pos = 3, 2, 9
    pattern = torch.rand(batch, heads, pos, pos, generator=g)
    v_norm = torch.rand(heads, batch, pos, generator=g)
    attention, write_norm = head_pair_measures(pattern, v_norm)
    pair_q, pair_k = head_pairs(pos)
    want = pattern[:, :, pair_q, pair_k].permute(1, 0, 2).reshape(heads, -1)
    assert torch.equal(attention, want)
    key_norm = v_norm[:, :, pair_k].reshape(heads, -1)
    assert torch.equal(write_norm, want * key_norm)


def test_entries_by_latent_sort_the_positive_codes() -> None:
    g = torch.Generator().manual_seed(4)
    n, w, width = 500, 6, 40
    index = torch.stack([torch.randperm(width, generator=g)[:w] for _ in range(n)])
    value = torch.randn(n, w, generator=g).clamp(min=0)  # about half zero
    rows, cols, vals = entries_by_latent(index, value, width)
    node, slot = (value > 0).nonzero(as_tuple=True)
    comp = index[node, slot]
    order = torch.argsort(comp * n + node)
    assert torch.equal(rows, comp[order])
    assert torch.equal(cols, node[order])
    assert torch.equal(vals, value[node, slot][order])
    with pytest.raises(ValueError, match="beyond the width"):
        entries_by_latent(index, value + 1.0, width - 1)


def test_collation_codes_equal_the_autoencoders_sparse_codes() -> None:
    torch.manual_seed(5)
    sae = SparseAutoencoder(SaeConfig("topk", d_in=48, d_sae=640, k=12))
    with torch.no_grad():
        sae.b_enc.normal_()
    x = torch.randn(3, 700, 48)  # 2,100 tokens: chunks of 1,024 rows, split across threads
    indices, values = _encode_in_chunks(sae, x)
    want_indices, want_values = sae.encode_sparse(x)
    order, want_order = indices.argsort(-1), want_indices.argsort(-1)
    assert torch.equal(indices.gather(-1, order), want_indices.gather(-1, want_order))
    assert torch.equal(values.gather(-1, order), want_values.gather(-1, want_order))

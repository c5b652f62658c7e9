"""Statistics of a sparse, non-negative measure (autoencoder latents) from its nonzero values.

A TopK latent is nonzero on k of d_sae latents per token (64 of 4,096 for the bundled MLP
autoencoders), so the dense passes of `stats.measure_batch` (powers, signs, histogram bins and a
top-k over every (latent, token) pair) mostly read zeros. This module computes the same
statistics from the list of nonzero entries:

    count, nonzero, moments   sums over the nonzero entries (zeros add nothing)
    hist                      bins of the nonzero values, plus the zeros in the zero bin
    top                       the top_k nonzero nodes by value, ties by id; slots stay empty
                              when a latent has fewer nonzero nodes (never zero-valued examples)
    quantile                  the positive nodes with the smallest keys (as the dense path)
    random                    as the dense path (any value; needs no values to choose)

Everything but `top` equals the dense path's result (moments up to float64 summation order); the
dense path fills a latent's missing top examples with zero-valued nodes, which say nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from jaxtyping import Float, Int
from torch import Tensor

from neuron_explainer.datasets.config import CollationConfig, bin_cells
from neuron_explainer.datasets.examples import (
    Examples,
    ValueFn,
    WindowFn,
    fill_examples,
    row_ranks,
)


@dataclass(frozen=True)
class SparseEntries:
    """The positive entries (rows, cols, vals) of a non-negative [c, n] measure, grouped by row
    and in ascending column order within a row, and a lookup of any entry's value."""

    rows: Int[Tensor, " m"]
    cols: Int[Tensor, " m"]
    vals: Float[Tensor, " m"]
    shape: tuple[int, int]
    value_at: ValueFn


def _by_row_then(rows: Tensor, key: Tensor, span: int) -> Tensor:
    """The stable permutation sorting entries by row, then by `key` (integers in [0, span))."""
    return torch.argsort(rows * span + key, stable=True)


def sparse_measure_parts(
    rows: Int[Tensor, " m"],
    cols: Int[Tensor, " m"],
    vals: Float[Tensor, " m"],
    c: int,
    n: int,
    cfg: CollationConfig,
) -> tuple[Tensor, Tensor, Tensor]:
    """count [c], nonzero [c], moments [c, 4] (float64) and hist [c, bins] of the measure whose
    nonzero entries are (rows, cols, vals) of a [c, n] matrix."""
    if bool((vals < 0).any()):
        raise ValueError("sparse statistics need non-negative values")
    if not bool(vals.isfinite().all()):
        raise ValueError("Activations are not all finite (NaN or inf in the forward pass)")
    v = vals.double()
    powers = torch.stack([v, v**2, v**3, v**4], dim=1)
    moments = torch.zeros(c, 4, dtype=torch.float64).index_add_(0, rows, powers)
    nonzero = torch.bincount(rows, minlength=c)
    bins = bin_cells(vals, cfg).long() + rows * cfg.n_bins
    hist = torch.bincount(bins, minlength=c * cfg.n_bins).view(c, cfg.n_bins)
    hist[:, cfg.zero_bin] += n - nonzero
    return nonzero, moments, hist


@dataclass(frozen=True)
class SparseBatch:
    """The positive entries (rows, cols, vals) of a [c, n] measure, with what `fill_examples`
    needs to turn chosen entries into examples."""

    rows: Int[Tensor, " m"]
    cols: Int[Tensor, " m"]
    vals: Float[Tensor, " m"]
    c: int
    value_at: ValueFn
    keys: Int[Tensor, " n"]
    ids: Int[Tensor, " n"]
    windows: WindowFn
    cfg: CollationConfig

    def first_per_row(
        self, size: int, top: bool, key: Tensor, span: int, admit: Tensor | None
    ) -> Examples:
        """Per row, the first `size` entries in the order of `key` (per entry, integers in
        [0, span); ties in entry order) among those `admit` lets in. Admission must keep a
        prefix of each row's order (a bound on the sort key), so ranks are slots."""
        c, rows, cols = self.c, self.rows, self.cols
        if admit is not None:  # the admitted entries first: after a few batches, a handful
            where = admit.nonzero().view(-1)
            rows, cols, key = rows[where], cols[where], key[where]
        order = _by_row_then(rows, key, span)
        rows, cols = rows[order], cols[order]
        rank = row_ranks(rows, c)
        keep = rank < size
        cfg = self.cfg
        chosen = (rows[keep], rank[keep], cols[keep])
        return fill_examples(
            c, size, cfg.window, top, *chosen, self.keys, self.ids, self.value_at, self.windows
        )


def sparse_top(batch: SparseBatch, prior: Examples | None) -> Examples:
    """Per row, the top_k positive entries by value (descending), ties by id (ascending); an
    entry below the prior's k-th value cannot enter the merged top-k."""
    admit = None if prior is None else batch.vals >= prior.values[batch.rows, -1]
    # Positive float32 values order as their bit patterns; ties keep entry order, by id.
    descending = 0x7FFFFFFF - batch.vals.view(torch.int32).long()
    by_id = _entries_by_id(batch)
    if by_id is not None:
        batch = replace(
            batch, rows=batch.rows[by_id], cols=batch.cols[by_id], vals=batch.vals[by_id]
        )
        descending, admit = descending[by_id], None if admit is None else admit[by_id]
    return batch.first_per_row(batch.cfg.top_k, True, descending, 2**31, admit)


def sparse_quantile(batch: SparseBatch, prior: Examples | None) -> Examples:
    """Per row, the positive nodes with the smallest keys (below the prior's full-sample bound)."""
    n = batch.keys.shape[0]
    key_rank = torch.empty(n, dtype=torch.int64)
    key_rank[torch.argsort(batch.keys)] = torch.arange(n)  # keys are distinct
    keys = batch.keys[batch.cols]
    admit = None if prior is None else keys < prior.keys[batch.rows, -1]
    return batch.first_per_row(batch.cfg.n_quantile_samples, False, key_rank[batch.cols], n, admit)


def _entries_by_id(batch: SparseBatch) -> Tensor | None:
    """The entries of a row come in ascending node order (as `nonzero` lists them). None when
    node ids ascend with the node index too (as collation numbers them), else the stable
    permutation of the entries by id."""
    if bool((batch.ids[1:] > batch.ids[:-1]).all()):
        return None
    return torch.argsort(batch.ids[batch.cols], stable=True)

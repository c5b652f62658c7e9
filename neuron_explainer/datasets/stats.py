"""Per-component statistics of one measure, computed on a batch and merged associatively.

For every component (row) of a measure:

    count     nodes seen                                   merge: add
    nonzero   nodes with a value != 0                      merge: add
    moments   sums of x, x^2, x^3, x^4                     merge: add
    hist      counts per log-spaced bin (`config`)         merge: add
    top, quantile, random   example sets (`examples`)      merge: top-k / bottom-k by key

Powers are formed and summed in float64 (`kernels.row_stats`; latents: `sparse_stats`). Mean,
variance, skew and kurtosis derive from the sums at read time (`derived_moments`); merging shards
adds the same float64 partial sums in another order, so results agree to about 1e-15 relative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch
from jaxtyping import Float, Int
from torch import Tensor

from neuron_explainer.datasets.config import CollationConfig
from neuron_explainer.datasets.examples import (
    Examples,
    WindowFn,
    batch_top,
    dense_lookup,
    merge_lowest_keys,
    merge_top,
)
from neuron_explainer.datasets.kernels import row_stats
from neuron_explainer.datasets.samples import KeyOrder, positive_sample, random_sample
from neuron_explainer.datasets.sparse_stats import (
    SparseBatch,
    SparseEntries,
    sparse_measure_parts,
    sparse_quantile,
    sparse_top,
)


@dataclass(frozen=True)
class MeasureStats:
    count: Int[Tensor, " c"]
    nonzero: Int[Tensor, " c"]
    moments: Float[Tensor, "c 4"]
    hist: Int[Tensor, "c bins"]
    top: Examples
    quantile: Examples
    random: Examples


@dataclass(frozen=True)
class MeasureBatch:
    """One measure of one group in one batch: a value per (component, node), given densely
    (`values`) or, for sparse non-negative measures (latents), as its positive entries, from
    which `sparse_stats` computes the statistics without reading the zeros."""

    values: Float[Tensor, "c n_nodes"] | None
    windows: WindowFn  # per-token values around given (component, node) pairs
    positive: SparseEntries | None = None

    def __post_init__(self) -> None:
        if (self.values is None) == (self.positive is None):
            raise ValueError("A measure batch has either dense values or sparse entries")


def measure_batch(
    batch: MeasureBatch,
    ids: Int[Tensor, " n_nodes"],
    order: KeyOrder,
    cfg: CollationConfig,
    prior: MeasureStats | None = None,
) -> MeasureStats:
    """The statistics of one batch: `ids` are the nodes' global ids, `order` their random keys
    (shared by the group's components; see `examples`). With `prior`, the statistics this
    batch's will be merged into, example nodes that cannot enter the merge are left out, which
    saves their windows and changes nothing in the merge."""
    if batch.positive is not None:
        return _sparse_measure_batch(batch.positive, batch.windows, ids, order, cfg, prior)
    x = batch.values
    assert x is not None
    c, n = x.shape
    nonzero, positive, moments, hist = row_stats(x, cfg)
    if not bool(moments.isfinite().all()):
        raise ValueError("Activations are not all finite (NaN or inf in the forward pass)")
    top_prior, random_prior, quantile_prior = (
        (None, None, None) if prior is None else (prior.top, prior.random, prior.quantile)
    )
    return MeasureStats(
        count=torch.full((c,), n, dtype=torch.int64),
        nonzero=nonzero,
        moments=moments,
        hist=hist,
        top=batch_top(x, order.keys, ids, batch.windows, cfg.window, cfg.top_k, top_prior),
        quantile=positive_sample(
            x,
            positive,
            ids,
            order,
            batch.windows,
            cfg.window,
            cfg.n_quantile_samples,
            quantile_prior,
        ),
        random=random_sample(
            c, dense_lookup(x), ids, order, batch.windows, cfg.window, cfg.n_random, random_prior
        ),
    )


def _sparse_measure_batch(
    entries: SparseEntries,
    windows: WindowFn,
    ids: Int[Tensor, " n_nodes"],
    order: KeyOrder,
    cfg: CollationConfig,
    prior: MeasureStats | None,
) -> MeasureStats:
    rows, cols, vals = entries.rows, entries.cols, entries.vals
    c, n = entries.shape
    nonzero, moments, hist = sparse_measure_parts(rows, cols, vals, c, n, cfg)
    top, quantile, random = (
        (None, None, None)
        if prior is None
        else (
            prior.top,
            prior.quantile,
            prior.random,
        )
    )
    sparse = SparseBatch(rows, cols, vals, c, entries.value_at, order.keys, ids, windows, cfg)
    return MeasureStats(
        count=torch.full((c,), n, dtype=torch.int64),
        nonzero=nonzero,
        moments=moments,
        hist=hist,
        top=sparse_top(sparse, top),
        quantile=sparse_quantile(sparse, quantile),
        random=random_sample(
            c, entries.value_at, ids, order, windows, cfg.window, cfg.n_random, random
        ),
    )


def merge_stats(
    a: MeasureStats, b: MeasureStats, cfg: CollationConfig, into: bool = False
) -> MeasureStats:
    """The statistics of a and b together; `into`: a's tensors take the result (a is given
    up by the caller), which saves copying its examples."""
    return MeasureStats(
        count=a.count + b.count,
        nonzero=a.nonzero + b.nonzero,
        moments=a.moments + b.moments,
        hist=a.hist + b.hist,
        top=merge_top(a.top, b.top, cfg.top_k, into),
        quantile=merge_lowest_keys(a.quantile, b.quantile, cfg.n_quantile_samples, into),
        random=merge_lowest_keys(a.random, b.random, cfg.n_random, into),
    )


@dataclass(frozen=True)
class DerivedMoments:
    """Per component; NaN where undefined (no nodes, or no variance for skew and kurtosis)."""

    mean: npt.NDArray[np.float64]
    variance: npt.NDArray[np.float64]  # population variance
    skew: npt.NDArray[np.float64]
    kurtosis: npt.NDArray[np.float64]  # excess kurtosis: 0 for a normal distribution


def derived_moments(
    count: npt.NDArray[np.int64], moments: npt.NDArray[np.float64]
) -> DerivedMoments:
    """Central moments from the power sums (float64)."""
    n = count.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        m1, m2, m3, m4 = (moments[:, i] / n for i in range(4))
        variance = np.maximum(m2 - m1**2, 0.0)
        c3 = m3 - 3 * m1 * m2 + 2 * m1**3
        c4 = m4 - 4 * m1 * m3 + 6 * m1**2 * m2 - 3 * m1**4
        # Below this relative size the variance is rounding noise of the power sums.
        flat = variance <= 1e-12 * np.maximum(m2, np.finfo(np.float64).tiny)
        skew = np.where(flat, np.nan, c3 / variance**1.5)
        kurtosis = np.where(flat, np.nan, c4 / variance**2 - 3.0)
    return DerivedMoments(m1, variance, skew, kurtosis)

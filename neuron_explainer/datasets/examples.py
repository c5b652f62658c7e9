"""Example sets per component, kept as tensors, and their associative merges.

Three sets are kept per component (row):

- top: the `top_k` nodes with the largest value, ordered by value (descending), ties by node id
  (ascending). Merging two sets keeps the first `top_k` of their union in that order.
- quantile: the `n_quantiles * per_quantile` nodes with a positive value and the smallest random
  keys, a uniform sample without replacement of the positive nodes (bottom-k sampling).
- random: the `n_random` nodes (any value) with the smallest random keys.

A node's random key depends only on its node id, its group and the seed (every component of a
group shares the keys), so the bottom-k of a union is the bottom-k of the bottom-k's of its parts:
merges are associative and a sharded job picks the same samples as a single pass. Keys are 62-bit:
key = mix(node id, seed) XOR salt(group, seed). Each component's sample is a uniform sample of its
nodes (for quantiles: of its positive nodes); the components of a group draw from one key order,
so their random samples are the same nodes. Sampling one batch: `samples`.

Empty slots (fewer nodes than slots) have id -1, key KEY_EMPTY, value -inf (top) or 0, window 0.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from jaxtyping import Float, Int
from torch import Tensor

from neuron_explainer.datasets.kernels import entries_at_least

KEY_EMPTY = torch.iinfo(torch.int64).max
KEY_BITS = 62

# Per-token values of (component, node) pairs: the window of values around each node.
WindowFn = Callable[[Int[Tensor, " m"], Int[Tensor, " m"]], Float[Tensor, "m window"]]
# The values of (component, node) pairs.
ValueFn = Callable[[Int[Tensor, " m"], Int[Tensor, " m"]], Float[Tensor, " m"]]


def dense_lookup(values: Float[Tensor, "c n_nodes"]) -> ValueFn:
    """Values of (component, node) pairs read from a dense [c, n_nodes] matrix."""
    flat, n = values.reshape(-1), values.shape[1]
    return lambda rows, nodes: flat.index_select(0, rows * n + nodes)


def node_keys(ids: Int[Tensor, " n"], seed: int) -> Int[Tensor, " n"]:
    """A pseudo-random 62-bit key per node id (splitmix64 of the id and the seed)."""
    with np.errstate(over="ignore"):
        z = ids.cpu().numpy().astype(np.uint64) ^ np.uint64(
            (seed * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        )
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    keys = (z >> np.uint64(64 - KEY_BITS)).astype(np.int64)
    return torch.from_numpy(keys).to(ids.device)


def group_salt(group_key: str, seed: int) -> int:
    """The salt XORed into the node keys of a group, fixed by the group and the seed."""
    rng = np.random.default_rng([seed, zlib.crc32(group_key.encode())])
    return int(rng.integers(0, 2**KEY_BITS, dtype=np.int64))


@dataclass(frozen=True)
class Examples:
    """`n` example nodes per component: their keys, ids and values, and their windows of values,
    kept in a pool of rows: the window of slot (component, i) is `pool[slot[component, i]]`.
    Reordering moves slot numbers only, and a merge copies just the windows of the examples it
    brings in, into the pool rows of those it drops."""

    keys: Int[Tensor, "c n"]
    ids: Int[Tensor, "c n"]
    values: Float[Tensor, "c n"]
    pool: Float[Tensor, "p window"]
    slot: Int[Tensor, "c n"]

    @classmethod
    def dense(
        cls,
        keys: Int[Tensor, "c n"],
        ids: Int[Tensor, "c n"],
        values: Float[Tensor, "c n"],
        windows: Float[Tensor, "c n window"],
    ) -> Examples:
        """Examples whose windows are given per slot (a pool row per slot, in slot order)."""
        c, n, w = windows.shape
        return cls(keys, ids, values, windows.reshape(c * n, w), torch.arange(c * n).view(c, n))

    @property
    def size(self) -> int:
        return int(self.ids.shape[1])

    @property
    def windows(self) -> Float[Tensor, "c n window"]:
        """The windows in slot order."""
        c, n = self.slot.shape
        return self.pool.index_select(0, self.slot.reshape(-1)).view(c, n, -1)

    def owned(self) -> Examples:
        """These examples with a pool row of their own per slot (what a merge writes into)."""
        if self.pool.shape[0] == self.slot.numel():  # one row per slot: a permutation
            return self
        return Examples.dense(self.keys, self.ids, self.values, self.windows)

    def clone(self) -> Examples:
        return Examples(
            self.keys.clone(),
            self.ids.clone(),
            self.values.clone(),
            self.pool.clone(),
            self.slot.clone(),
        )

    def take(self, order: Int[Tensor, "c m"]) -> Examples:
        """The examples at `order` (indices along each row)."""
        return Examples(
            self.keys.gather(1, order),
            self.ids.gather(1, order),
            self.values.gather(1, order),
            self.pool,
            self.slot.gather(1, order),
        )


def empty_examples(n_components: int, n: int, window: int, top: bool) -> Examples:
    """Every slot empty; all share one zero window."""
    return Examples(
        torch.full((n_components, n), KEY_EMPTY, dtype=torch.int64),
        torch.full((n_components, n), -1, dtype=torch.int64),
        torch.full((n_components, n), float("-inf") if top else 0.0),
        torch.zeros(1, window),
        torch.zeros((n_components, n), dtype=torch.int64),
    )


def top_order(values: Float[Tensor, "c n"], ids: Int[Tensor, "c n"]) -> Int[Tensor, "c n"]:
    """Row-wise order by value (descending), ties by id (ascending); empty slots last."""
    by_id = torch.argsort(ids.masked_fill(ids < 0, KEY_EMPTY), dim=1, stable=True)
    by_value = torch.argsort(values.gather(1, by_id), dim=1, descending=True, stable=True)
    return by_id.gather(1, by_value)


# The order of a row's examples: (keys, ids, values) -> a permutation of each row.
OrderFn = Callable[[Tensor, Tensor, Tensor], Tensor]


def merge_top(a: Examples, b: Examples, k: int, into: bool = False) -> Examples:
    return _merge_rows(a, b, lambda keys, ids, values: top_order(values, ids), k, into)


def merge_lowest_keys(a: Examples, b: Examples, k: int, into: bool = False) -> Examples:
    """The k examples with the smallest keys; keys are distinct within a row (empty aside)."""
    order = lambda keys, ids, values: torch.argsort(keys, dim=1, stable=True)  # noqa: E731
    return _merge_rows(a, b, order, k, into)


def _merge_rows(a: Examples, b: Examples, order: OrderFn, k: int, into: bool) -> Examples:
    """The union's first k examples per row in `order` (a's, which are in order, before b's on
    ties; so b's empty slots never enter). Only the rows in which `b` has examples are merged
    (after the first few batches a batch brings new examples to few components), and only the
    windows of b's examples that enter are copied, into the pool rows of a's that leave.
    `into`: write into `a`'s tensors and return it (the caller gives `a` up)."""
    if a.size != k:
        raise ValueError(f"Merging example sets of {a.size} slots into {k}")
    a = a.owned() if into else a.clone().owned()
    rows = (b.ids >= 0).any(1).nonzero().view(-1)
    if not len(rows):
        return a
    both = [
        torch.cat([x.index_select(0, rows), y.index_select(0, rows)], 1)
        for x, y in ((a.keys, b.keys), (a.ids, b.ids), (a.values, b.values))
    ]
    chosen = order(*both)[:, :k]  # columns < k: a's slots; the others b's
    from_b = chosen >= k
    a_slot = a.slot.index_select(0, rows)
    kept = torch.zeros(both[0].shape, dtype=torch.bool).scatter_(1, chosen, True)[:, :k]
    # Row by row, as many of a's examples leave as b's enter: pair them up in row-major order.
    free_row, free_col = (~kept).nonzero(as_tuple=True)
    new_row, new_col = from_b.nonzero(as_tuple=True)
    free = a_slot[free_row, free_col]
    source = b.slot.index_select(0, rows)[new_row, chosen[new_row, new_col] - k]
    a.pool.index_copy_(0, free, b.pool.index_select(0, source))
    slot = a_slot.gather(1, chosen.clamp(max=k - 1))
    slot[new_row, new_col] = free
    for out, merged in zip((a.keys, a.ids, a.values), both, strict=True):
        out.index_copy_(0, rows, merged.gather(1, chosen))
    a.slot.index_copy_(0, rows, slot)
    return a


def fill_examples(
    n_components: int,
    size: int,
    window_len: int,
    top: bool,
    rows: Int[Tensor, " m"],
    slots: Int[Tensor, " m"],
    nodes: Int[Tensor, " m"],
    keys: Int[Tensor, " n_nodes"],
    ids: Int[Tensor, " n_nodes"],
    value_at: ValueFn,
    windows: WindowFn,
) -> Examples:
    """Examples of one batch: node `nodes[i]` of component `rows[i]` in slot `slots[i]`, the
    other slots empty; with their values and windows (pool row i, and a zero row for empties)."""
    out = empty_examples(n_components, size, window_len, top)
    if not len(nodes):
        return out
    slot = rows * size + slots
    out.keys.view(-1).index_copy_(0, slot, keys.index_select(0, nodes))
    out.ids.view(-1).index_copy_(0, slot, ids.index_select(0, nodes))
    out.values.view(-1).index_copy_(0, slot, value_at(rows, nodes))
    pool = torch.cat([out.pool, windows(rows, nodes)])
    out.slot.view(-1).index_copy_(0, slot, torch.arange(1, len(nodes) + 1))
    return Examples(out.keys, out.ids, out.values, pool, out.slot)


def row_ranks(rows: Int[Tensor, " m"], c: int) -> Int[Tensor, " m"]:
    """The rank of each entry within its row, for entries already grouped by row in order."""
    starts = torch.zeros(c + 1, dtype=torch.int64)
    starts[1:] = torch.bincount(rows, minlength=c).cumsum(0)
    return torch.arange(len(rows)) - starts[rows]


def batch_top(
    values: Float[Tensor, "c n_nodes"],
    keys: Int[Tensor, " n_nodes"],
    ids: Int[Tensor, " n_nodes"],
    windows: WindowFn,
    window_len: int,
    k: int,
    prior: Examples | None = None,
) -> Examples:
    """The batch's top-k examples per component, in merge order (value descending, ties by id
    ascending). Candidates are the nodes at or above a floor: the prior's k-th (value, id) when
    every component's prior is full (a node below it cannot enter the merged top-k, so after a
    few batches there are few), else each row's k-th largest value."""
    c, n = values.shape
    m = min(k, n)
    if prior is not None and bool((prior.ids[:, -1] >= 0).all()):
        floor, floor_id = prior.values[:, -1], prior.ids[:, -1]
        rows, nodes = entries_at_least(values, floor)
        tied = values[rows, nodes] == floor[rows]
        keep = ~tied | (ids.index_select(0, nodes) < floor_id[rows])
        rows, nodes = rows[keep], nodes[keep]
    else:  # every node tied with the k-th largest is a candidate: ties are broken by id below
        floor = values.topk(m, dim=1, sorted=False).values.amin(1, keepdim=True)
        rows, nodes = (values >= floor).nonzero(as_tuple=True)
    order = torch.argsort(ids.index_select(0, nodes), stable=True)
    order = order[torch.argsort(values[rows[order], nodes[order]], descending=True, stable=True)]
    order = order[torch.argsort(rows[order], stable=True)]
    rows, nodes = rows[order], nodes[order]
    slots = row_ranks(rows, c)
    keep = slots < m
    rows, slots, nodes = rows[keep], slots[keep], nodes[keep]
    return fill_examples(
        c, k, window_len, True, rows, slots, nodes, keys, ids, dense_lookup(values), windows
    )

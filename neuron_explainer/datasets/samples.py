"""Random and quantile samples of one batch, read off one key order shared by a group.

Every component of a group gives a node the same random key (`examples.node_keys` XOR the group's
salt), so the batch's nodes are put in key order once per group, and only as far as needed
(`KeyOrder`). A component's random sample is the first `n_random` nodes of that order; its
quantile sample the first `n_quantile_samples` nodes of it with a positive value. With the prior
(the samples the batch's will be merged into), nodes whose key is not below the prior's largest
key of a full sample cannot enter the merge and are left out.

The quantile sample of a component with many positive values sits in a short prefix of the key
order (about k * n / positives nodes), so it costs a gather of that prefix; components with few
positive values are scanned further.
"""

from __future__ import annotations

import torch
from jaxtyping import Float, Int
from torch import Tensor

from neuron_explainer.datasets.examples import (
    KEY_EMPTY,
    Examples,
    ValueFn,
    WindowFn,
    dense_lookup,
    fill_examples,
)

_MIN_PREFIX = 64
_FULL_SCAN = 8  # rows needing more than n / _FULL_SCAN of the key order are scanned whole


class KeyOrder:
    """The nodes of one batch in ascending key order, sorted lazily as far as asked."""

    def __init__(self, keys: Int[Tensor, " n_nodes"]) -> None:
        self.keys = keys
        self.n = int(keys.shape[0])
        self._keys = keys[:0]
        self._nodes = keys[:0]

    def prefix(self, length: int) -> tuple[Int[Tensor, " m"], Int[Tensor, " m"]]:
        """The first min(length, n) nodes in key order, and their keys."""
        length = min(length, self.n)
        if len(self._nodes) < length:
            grow = max(length, 2 * len(self._nodes), _MIN_PREFIX)
            if grow * _FULL_SCAN >= self.n:
                self._keys, self._nodes = torch.sort(self.keys)
            else:
                self._keys, self._nodes = self.keys.topk(grow, largest=False, sorted=True)
        return self._nodes[:length], self._keys[:length]


def _bounds(prior: Examples | None, c: int) -> Int[Tensor, " c"]:
    """Per component, the key a batch node must be below to enter the merge with `prior`."""
    if prior is None:
        return torch.full((c,), KEY_EMPTY, dtype=torch.int64)
    return prior.keys[:, -1]  # KEY_EMPTY while the prior sample is not full


def random_sample(
    c: int,
    value_at: ValueFn,
    ids: Int[Tensor, " n_nodes"],
    order: KeyOrder,
    windows: WindowFn,
    window_len: int,
    k: int,
    prior: Examples | None = None,
) -> Examples:
    """Per component (of `c`), the k nodes with the smallest keys, in key order."""
    nodes, keys = order.prefix(k)
    valid = keys[None, :] < _bounds(prior, c)[:, None]
    rows, slots = valid.nonzero(as_tuple=True)
    return fill_examples(
        c, k, window_len, False, rows, slots, nodes[slots], order.keys, ids, value_at, windows
    )


def positive_sample(
    values: Float[Tensor, "c n_nodes"],
    positives: Int[Tensor, " c"],
    ids: Int[Tensor, " n_nodes"],
    order: KeyOrder,
    windows: WindowFn,
    window_len: int,
    k: int,
    prior: Examples | None = None,
) -> Examples:
    """Per component, the k nodes with a positive value and the smallest keys, in key order.
    `positives`: each component's number of positive values in the batch (components without
    any are skipped). The key order is scanned in chunks of growing length, each over the
    components whose sample is not complete yet."""
    c, n = values.shape
    bounds = _bounds(prior, c)
    found = torch.zeros(c, dtype=torch.int64)
    rows = torch.nonzero(positives > 0).view(-1)
    parts: list[tuple[Tensor, Tensor, Tensor]] = []
    start, length = 0, _MIN_PREFIX * 2
    while len(rows) and start < n:
        nodes, keys = order.prefix(start + length)
        nodes, keys = nodes[start:], keys[start:]
        chunk = values.index_select(1, nodes)
        if len(rows) < c:
            chunk = chunk.index_select(0, rows)
        eligible = (chunk > 0) & (keys[None, :] < bounds[rows, None])
        rank = eligible.cumsum(1).add_(found[rows, None])
        take = eligible & (rank <= k)
        i, j = take.nonzero(as_tuple=True)
        parts.append((rows[i], rank[take] - 1, nodes[j]))
        found[rows] = rank[:, -1]
        # Done: k found, or every node below the bound seen.
        rows = rows[(found[rows] < k) & (keys[-1] < bounds[rows])]
        start, length = start + length, length * 4
    rows, slots, nodes = (
        (torch.cat(t) for t in zip(*parts, strict=True)) if parts else (ids[:0],) * 3
    )
    return fill_examples(
        c, k, window_len, False, rows, slots, nodes, order.keys, ids, dense_lookup(values), windows
    )

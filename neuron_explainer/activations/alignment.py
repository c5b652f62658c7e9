"""Two prompts of different token counts side by side, right-aligned at their last tokens:

    left    a  b  c  d  e        right index = left index + offset, offset = right - left length
    right         x  y  z        (here -2): left tokens 0 and 1 have no pair

So position -1 of one prompt pairs with -1 of the other, -2 with -2, and so on. The explained
position, a traced node's tokens and every node of the right run are the left run's shifted by
the offset; a position counting from the end (negative) names paired tokens in both prompts.

The two prompts run in separate passes (their objectives read different positions). Their
metrics are then laid out on one token axis of max(left, right) tokens, each prompt's tokens at
its end as if the shorter one were left-padded, so that a paired node's two values sit at one
index and the node table (`tables.select_nodes`) ranks left, right or diff as for prompts of one
length. A run has a node (`present`) where all the node's tokens (a head pair's query and key)
are in its prompt; elsewhere its metrics are NaN, so that no ranking of that run (or of the
difference) picks the node, and its side is None. Whether a node is valid (a head pair is
causal; when tracing, the node is upstream) does not change under the shift, so a paired node is
valid in both runs or in neither. Listed nodes are given in the left prompt's positions, or, for
a node of the right run alone, in the right prompt's.

Token sums keep each prompt's own tokens; their difference is laid out on the left prompt's
tokens, NaN (undefined) where a left token has no pair.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import torch
from torch import Tensor

from neuron_explainer.activations.metrics import METRICS, SiteMetrics
from neuron_explainer.activations.nodes import Node, Selection
from neuron_explainer.activations.tables import (
    ListedNode,
    Pin,
    RankOn,
    Sides,
    select_nodes,
)


@dataclass(frozen=True)
class Alignment:
    """The token pairing of a left and a right prompt, right-aligned (module docstring)."""

    left_length: int
    right_length: int

    @property
    def offset(self) -> int:
        """Right index = left index + offset."""
        return self.right_length - self.left_length

    @property
    def left_to_right(self) -> list[int | None]:
        """For each left token, the right token it pairs with, or None."""
        return [i + self.offset if i + self.offset >= 0 else None for i in range(self.left_length)]

    @property
    def right_to_left(self) -> list[int | None]:
        """For each right token, the left token it pairs with, or None."""
        return [i - self.offset if i - self.offset >= 0 else None for i in range(self.right_length)]

    @property
    def length(self) -> int:
        """Tokens of the common layout: the longer prompt's."""
        return max(self.left_length, self.right_length)

    def shift(self, side: int) -> int:
        """Where the tokens of side 0 (left) or 1 (right) start in the common layout."""
        return self.length - (self.left_length, self.right_length)[side]

    def right_position(self, position: int) -> int:
        """The right token paired with left token `position` (non-negative); an error when
        there is none."""
        if position + self.offset < 0:
            raise ValueError(
                f"The explained position, token {position} of the prompt, has no paired token "
                f"in the compare prompt, which is {-self.offset} tokens shorter: the prompts are "
                f"right-aligned, so the compare prompt starts at the prompt's token "
                f"{-self.offset}. Explain a later position, or lengthen the compare prompt"
            )
        return position + self.offset


def select_aligned(
    left: Sequence[SiteMetrics],
    right: Sequence[SiteMetrics],
    alignment: Alignment,
    k: int,
    rank_on: RankOn,
    pins: Mapping[Node, Sequence[Pin]],
) -> list[ListedNode]:
    """The node table of two runs measured apart (each batch 1, the same sites in the same
    order); `pins` are nodes of the left prompt."""
    sites, present = [], []
    for one, other in zip(left, right, strict=True):
        if one.site != other.site:
            raise ValueError(f"Sites differ between the runs: {one.site} and {other.site}")
        sites.append(_aligned_site(one, other, alignment))
        present.append(torch.stack([_block(one, alignment, 0), _block(other, alignment, 1)]))
    shift = alignment.shift(0)
    aligned_pins = {_moved(node, shift): why for node, why in pins.items()}
    listed = select_nodes(sites, k, rank_on, aligned_pins, present)
    return [
        replace(n, node=_moved(n.node, -alignment.shift(0 if n.values.left is not None else 1)))
        for n in listed
    ]


def aligned_token_sums(
    left: Mapping[Selection, Sides[list[float]]],
    right: Mapping[Selection, Sides[list[float]]],
    alignment: Alignment,
) -> dict[Selection, Sides[list[float]]]:
    """Each run's token sums on its own tokens, with left - right on the left's tokens (NaN,
    undefined, where a left token has no pair)."""
    out = {}
    pairs = alignment.left_to_right
    for family, sums in left.items():
        own, other = sums.left, right[family].left
        diff = [float("nan") if j is None else own[i] - other[j] for i, j in enumerate(pairs)]
        out[family] = Sides(own, other, diff)
    return out


def _aligned_site(left: SiteMetrics, right: SiteMetrics, alignment: Alignment) -> SiteMetrics:
    """Both runs' metrics in the common layout (batch 2), NaN where a run has no node."""
    nan = float("nan")
    axes = tuple(a + 1 for a in left.site.token_axes)  # after the batch axis
    metrics = {
        m: torch.cat(
            [
                _place(left.get(m), axes, alignment.length, alignment.shift(0), nan),
                _place(right.get(m), axes, alignment.length, alignment.shift(1), nan),
            ]
        )
        for m in METRICS
    }
    token_axes = left.site.token_axes
    valid = _place(left.valid, token_axes, alignment.length, alignment.shift(0), False) | _place(
        right.valid, token_axes, alignment.length, alignment.shift(1), False
    )
    return SiteMetrics(left.site, **metrics, valid=valid)


def _block(site: SiteMetrics, alignment: Alignment, side: int) -> Tensor:
    """Where in the common layout the run of `side` has nodes: the entries of its own tokens."""
    ones = torch.ones_like(site.valid)
    return _place(ones, site.site.token_axes, alignment.length, alignment.shift(side), False)


def _place(x: Tensor, axes: tuple[int, ...], length: int, shift: int, fill: float | bool) -> Tensor:
    """`x` with each of its token `axes` grown to `length`, its entries from index `shift` on."""
    shape = list(x.shape)
    index: list[slice] = [slice(None)] * x.dim()
    for axis in axes:
        index[axis] = slice(shift, shift + shape[axis])
        shape[axis] = length
    out = torch.full(shape, fill, dtype=x.dtype, device=x.device)
    out[tuple(index)] = x
    return out


def _moved(node: Node, by: int) -> Node:
    key = None if node.key_token is None else node.key_token + by
    return replace(node, token=node.token + by, key_token=key)

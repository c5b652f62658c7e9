"""The four metrics of every node of a family, from one forward and one backward pass.

For a node with activation a, write vector a·w (w its write direction per unit activation),
objective f with gradient g at its direct read (see `direction.DirectRead`) and gradient
∂f/∂a from the backward pass:

    activation        a
    write magnitude   ||a·w|| = |a| ||w||
    direct effect     a (w · g) for nodes at the read's token whose write comes before the read;
                      0 for every other node (a write at another token never reaches it directly)
    total effect      a ∂f/∂a, the first-order estimate of f(a) - f(0) (attribution patching
                      against a zero baseline)

What a and w are for each family is in its module of `families/` (per batch row; a node's row is
that of the run it belongs to).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from jaxtyping import Bool, Float
from torch import Tensor

from neuron_explainer.activations.nodes import NodeSite

MetricName = Literal["activation", "write_magnitude", "direct_effect", "total_effect"]
METRICS: tuple[MetricName, ...] = get_args(MetricName)
PerNode = Float[Tensor, "batch *nodes"]  # a metric of every node of a site, per batch row


@dataclass(frozen=True)
class SiteMetrics:
    """The four metrics of every node at one site, in the site's layout (`nodes` module)."""

    site: NodeSite
    activation: PerNode
    write_magnitude: PerNode
    direct_effect: PerNode
    total_effect: PerNode
    valid: Bool[Tensor, "*nodes"]  # False where the layout holds no node

    def get(self, metric: MetricName) -> PerNode:
        value: Tensor = getattr(self, metric)
        return value

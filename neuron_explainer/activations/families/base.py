"""What a node family is: one object that knows its sites, its node layout, its four metrics,
its write and read directions, its collated measures and what traces it. Each family is one
file of this package; `families/__init__.py` registers them (`FAMILY_REGISTRY`).

A new family subclasses `Family`, fills in its class attributes and the abstract methods, and
is added to the registry's list; `tests/activations/test_families.py` checks every registered
family against the model."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal

import torch
from jaxtyping import Float, Int
from torch import Tensor

from neuron_explainer.activations.direction import DirectRead
from neuron_explainer.activations.metrics import SiteMetrics
from neuron_explainer.activations.nodes import FamilyName, NodeSite, Selection
from neuron_explainer.models.config import TransformerConfig
from neuron_explainer.models.sites import Site
from neuron_explainer.models.sparse_autoencoder import SparseAutoencoder
from neuron_explainer.models.transformer import Transformer

# How collation cuts a family's activations into nodes: one per token (`tokens`), one per
# query-key pair (`pairs`), or one per token from an autoencoder's sparse codes (`latents`).
CollationLayout = Literal["tokens", "pairs", "latents"]
# The pre-activation quantity whose trace explains a node (`tracing.Trace.of_node`).
TracedBy = Literal["neuron_pre", "latent_pre", "head_pair"]


class Family(abc.ABC):
    """How one node family (or a selection of it, `LatentFamily("mlp_latent", "mlp")`) finds
    its sites and computes what the engine, the collation and the server ask of it."""

    name: Selection
    # The node's family on the wire (`nodes.FamilyName`) and in collation stores.
    node_family: ClassVar[FamilyName]
    display_name: ClassVar[str]  # e.g. "neuron", for messages: "Neuron of layer 3"
    # The `Node` fields that index one batch row of its metrics, in layout order.
    node_axes: ClassVar[tuple[str, ...]] = ("token", "index")
    measures: ClassVar[tuple[str, ...]] = ("activation",)  # collated; the first is its main one
    collation: ClassVar[CollationLayout] = "tokens"
    # Named by their autoencoder's site (latents), not by a layer.
    by_autoencoder: ClassVar[bool] = False
    traced_by: ClassVar[TracedBy | None] = None
    collated: ClassVar[bool] = True  # whether `tdb collate` keeps its examples and statistics

    @abc.abstractmethod
    def owns(self, site: Site) -> bool:
        """Whether the activations at this hook site are this family's nodes."""

    def selects(self, site: str) -> bool:
        """Whether this selection takes the family's nodes at `site` (all, but for a selection
        of latents by their autoencoder's kind)."""
        return True

    @abc.abstractmethod
    def sites(self, model: Transformer) -> list[NodeSite]: ...

    def layer_sites(self, cfg: TransformerConfig) -> list[str]:
        """The family's site in each block, for families with one site per layer; empty for
        the others, and where the model has none (neurons of an attention-only model)."""
        return []

    def layer_site(self, cfg: TransformerConfig, layer: int) -> str:
        """The family's site in block `layer`; a `ValueError` saying why there is none."""
        sites = self.layer_sites(cfg)
        if not sites:
            raise ValueError(f"{self.display_name.capitalize()}s are not named by a layer")
        return sites[layer]

    @abc.abstractmethod
    def width(self, model: Transformer, site: str) -> int:
        """How many components the family has at `site` (neurons, heads, latents)."""

    def cache_names(self, site: NodeSite) -> list[str]:
        """Hook sites the metrics read; the first is the activation (gradients are taken there)."""
        return [site.site]

    def collation_hook_names(self, site: str) -> list[str]:
        """The model's hook sites collation reads for the group at `site`."""
        return [site]

    @abc.abstractmethod
    def metrics(
        self,
        model: Transformer,
        site: NodeSite,
        cache: Mapping[str, Tensor],
        grad: Tensor,
        read: DirectRead,
    ) -> SiteMetrics: ...

    @abc.abstractmethod
    def token_sums(self, total_effect: Tensor) -> Float[Tensor, "batch pos"]:
        """A site's total effects summed per token (heads: per key token)."""

    def write_directions(
        self,
        model: Transformer,
        site: str,
        nodes: NodeIndex,
        cache: Mapping[str, Tensor],
    ) -> Float[Tensor, "m d_model"] | None:
        """What each node adds to the residual stream per unit activation, for nodes of a run
        whose activations are in `cache` (batch row 0); None where that is not linear."""
        return None

    def read_directions(
        self, model: Transformer, site: str, index: Int[Tensor, " m"]
    ) -> Float[Tensor, "m d_model"] | None:
        """The residual-stream direction each component reads its token embedding along
        (`vocab`'s input tokens); None where the family has none."""
        return None

    def output_directions(
        self, model: Transformer, site: str, sums: Mapping[str, Tensor]
    ) -> Float[Tensor, "c d_model"] | None:
        """Each component's write direction for its collated logit table (`sums`: what the
        collation added up for the group); None where it has none."""
        return None

    def output_site(self, model: Transformer, site: str) -> tuple[str, int]:
        """Where zeroing index i along an axis removes a component's output from the forward pass:
        the hook site and the axis of its [batch, ...] activation."""
        return site, -1

    def steering(
        self, model: Transformer, site: str, index: int, saes: Mapping[str, SparseAutoencoder]
    ) -> tuple[str, Float[Tensor, " d"]]:
        """Where a component writes a fixed output direction, and that direction."""
        raise ValueError(
            f"Steering adds a fixed output direction: give a neuron or a latent; a "
            f"{self.display_name}'s output depends on its inputs (ablate it instead)"
        )

    @property
    def pairs(self) -> bool:
        """Whether a node is a pair of tokens (a query and a key)."""
        return "key_token" in self.node_axes


@dataclass(frozen=True)
class NodeIndex:
    """Nodes of one site whose directions are asked for: their component indices, their token
    ids (the run's token at each node's token), and their key tokens (pairs; else zeros)."""

    index: Int[Tensor, " m"]
    token_id: Int[Tensor, " m"]
    key_token: Int[Tensor, " m"]


def at_read(
    site: NodeSite, read: DirectRead, per_node: Float[Tensor, "batch pos *rest"]
) -> Float[Tensor, "batch pos *rest"]:
    """Direct effects laid out per token: the values at the read's token, zero elsewhere."""
    out = torch.zeros_like(per_node)
    if site.sublayer < read.before_sublayer:
        out[:, read.position] = per_node[:, read.position]
    return out

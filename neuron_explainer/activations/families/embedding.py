"""Token embeddings as nodes: one per token, at `hook_embed`.

activation  a = 1, the presence of the token (the write is the scalar a times its token
            embedding e = W_E[token], so a ∂f/∂a = e · ∂f/∂e); write direction w = e.
            Position embeddings belong to no node.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import torch
from jaxtyping import Float
from torch import Tensor

from neuron_explainer.activations.direction import DirectRead
from neuron_explainer.activations.families.base import Family, NodeIndex, at_read
from neuron_explainer.activations.metrics import SiteMetrics
from neuron_explainer.activations.nodes import FamilyName, NodeSite, Selection
from neuron_explainer.models.sites import Site, act_name
from neuron_explainer.models.transformer import Transformer


class EmbeddingFamily(Family):
    name: Selection = "embedding"
    node_family: ClassVar[FamilyName] = "embedding"
    display_name: ClassVar[str] = "embedding"
    node_axes: ClassVar[tuple[str, ...]] = ("token",)
    collated: ClassVar[bool] = False

    def owns(self, site: Site) -> bool:
        return site == Site("embed")

    def sites(self, model: Transformer) -> list[NodeSite]:
        return [NodeSite("embedding", act_name("embed"))]

    def width(self, model: Transformer, site: str) -> int:
        return 1

    def metrics(
        self,
        model: Transformer,
        site: NodeSite,
        cache: Mapping[str, Tensor],
        grad: Tensor,
        read: DirectRead,
    ) -> SiteMetrics:
        embed = cache[site.site].detach()  # [batch, pos, d_model]
        batch, pos, _ = embed.shape
        direct = torch.einsum("bpd,bd->bp", embed, read.gradient)
        return SiteMetrics(
            site,
            activation=torch.ones(batch, pos, dtype=embed.dtype, device=embed.device),
            write_magnitude=embed.norm(dim=-1),
            direct_effect=at_read(site, read, direct),
            total_effect=(embed * grad).sum(-1),
            valid=torch.ones(pos, dtype=torch.bool, device=embed.device),
        )

    def token_sums(self, total_effect: Tensor) -> Float[Tensor, "batch pos"]:
        return total_effect

    def write_directions(
        self, model: Transformer, site: str, nodes: NodeIndex, cache: Mapping[str, Tensor]
    ) -> Float[Tensor, "m d_model"]:
        return model.W_E.detach()[nodes.token_id]

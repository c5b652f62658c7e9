"""Attention heads as nodes: one per head and (query, key) pair with key <= query, at
`blocks.{L}.attn.hook_pattern` ([head, query, key] per batch row).

    activation  a = pattern[h, q, k]; write direction w = v[k, h] @ W_O[h]. ||w|| comes from the
                Gram matrix W_O[h] W_O[h]ᵀ and w · g from (W_O[h] g) · v[k, h], so no
                [q, k, h, d_model] tensor is formed. The output bias b_O belongs to no head. Pairs
                with k > q are not nodes (`valid` is False there).
    collated    attention a, and write norm a ||v[k, h] @ W_O[h]||; its logit table reads its
                mean write over the collated queries (q >= 1), mean(z[q, h]) @ W_O[h], where
                z[q, h] = sum_k pattern[h, q, k] v[k, h] is the sum of the head's pair writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import torch
from jaxtyping import Float
from torch import Tensor

from neuron_explainer.activations.direction import DirectRead
from neuron_explainer.activations.families.base import (
    CollationLayout,
    Family,
    NodeIndex,
    TracedBy,
    at_read,
)
from neuron_explainer.activations.metrics import SiteMetrics
from neuron_explainer.activations.nodes import FamilyName, NodeSite, Selection
from neuron_explainer.models.config import TransformerConfig
from neuron_explainer.models.sites import Site, act_name, block
from neuron_explainer.models.transformer import Transformer


class HeadFamily(Family):
    name: Selection = "head"
    node_family: ClassVar[FamilyName] = "head"
    display_name: ClassVar[str] = "head"
    node_axes: ClassVar[tuple[str, ...]] = ("index", "token", "key_token")
    measures: ClassVar[tuple[str, ...]] = ("attention", "write_norm")
    collation: ClassVar[CollationLayout] = "pairs"
    traced_by: ClassVar[TracedBy | None] = "head_pair"

    def owns(self, site: Site) -> bool:
        return site.kind == "pattern"

    def sites(self, model: Transformer) -> list[NodeSite]:
        return [NodeSite("head", site) for site in self.layer_sites(model.cfg)]

    def layer_sites(self, cfg: TransformerConfig) -> list[str]:
        return [act_name("pattern", layer) for layer in range(cfg.n_layers)]

    def width(self, model: Transformer, site: str) -> int:
        return model.cfg.n_heads

    def cache_names(self, site: NodeSite) -> list[str]:
        return [site.site, Site.parse(site.site).sibling("v").name]

    def collation_hook_names(self, site: str) -> list[str]:
        parsed = Site.parse(site)
        return [site, parsed.sibling("v").name, parsed.sibling("z").name]

    def metrics(
        self,
        model: Transformer,
        site: NodeSite,
        cache: Mapping[str, Tensor],
        grad: Tensor,
        read: DirectRead,
    ) -> SiteMetrics:
        pattern = cache[site.site].detach()  # [batch, head, q, k]
        v = cache[self.cache_names(site)[1]].detach()  # [batch, k, head, d_head]
        W_O = block(model, site.layer).attn.W_O.detach()  # [head, d_head, d_model]
        gram = W_O @ W_O.transpose(-1, -2)  # [head, d_head, d_head]
        vo_norm = torch.einsum("bkhe,hef,bkhf->bhk", v, gram, v).clamp(min=0).sqrt()
        O_g = torch.einsum("hed,bd->bhe", W_O, read.gradient)  # [batch, head, d_head]
        vo_dot_g = torch.einsum("bkhe,bhe->bhk", v, O_g)  # [batch, head, k]
        direct = (pattern * vo_dot_g[:, :, None, :]).transpose(1, 2)  # [batch, q, head, k]
        pos = pattern.shape[-1]
        causal = torch.ones(pos, pos, dtype=torch.bool, device=pattern.device).tril()
        return SiteMetrics(
            site,
            activation=pattern,
            write_magnitude=pattern * vo_norm[:, :, None, :],
            direct_effect=at_read(site, read, direct).transpose(1, 2),
            total_effect=pattern * grad,
            valid=causal.expand(pattern.shape[1], pos, pos),
        )

    def token_sums(self, total_effect: Tensor) -> Float[Tensor, "batch pos"]:
        return total_effect.sum((1, 2))

    def write_directions(
        self, model: Transformer, site: str, nodes: NodeIndex, cache: Mapping[str, Tensor]
    ) -> Float[Tensor, "m d_model"]:
        parsed = Site.parse(site)
        v = cache[parsed.sibling("v").name][0, nodes.key_token, nodes.index]  # [m, d_head]
        W_O = block(model, parsed.layer).attn.W_O.detach()[nodes.index]  # [m, d_head, d_model]
        return torch.einsum("me,med->md", v, W_O)

    def output_directions(
        self, model: Transformer, site: str, sums: Mapping[str, Tensor]
    ) -> Float[Tensor, "c d_model"]:
        z_mean = sums["z_sum"] / sums["z_count"].clamp(min=1)  # [head, d_head]
        W_O = block(model, Site.parse(site).layer).attn.W_O.detach()
        return torch.einsum("hd,hdm->hm", z_mean.to(W_O), W_O)

    def output_site(self, model: Transformer, site: str) -> tuple[str, int]:
        """A head's output: its z ([batch, pos, head, d_head]), whose head axis is 2."""
        return Site.parse(site).sibling("z").name, 2

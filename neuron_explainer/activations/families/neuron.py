"""MLP neurons: one per token and neuron, at `blocks.{L}.mlp.hook_post`.

activation  a = mlp.hook_post[t, i]; write direction w = W_out[i].
reads       the token embeddings along r = P (ln2.w ⊙ W_in[:, i]) (P: LayerNorm's centring),
            an approximation that ignores position embeddings, earlier layers and the
            LayerNorm scale.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import torch
from jaxtyping import Float, Int
from torch import Tensor

from neuron_explainer.activations.direction import DirectRead, centre, ln_weight
from neuron_explainer.activations.families.base import Family, NodeIndex, TracedBy, at_read
from neuron_explainer.activations.metrics import SiteMetrics
from neuron_explainer.activations.nodes import FamilyName, NodeSite, Selection
from neuron_explainer.models.config import TransformerConfig
from neuron_explainer.models.sites import Site, act_name, mlp
from neuron_explainer.models.sparse_autoencoder import SparseAutoencoder
from neuron_explainer.models.transformer import Transformer


class NeuronFamily(Family):
    name: Selection = "neuron"
    node_family: ClassVar[FamilyName] = "neuron"
    display_name: ClassVar[str] = "neuron"
    traced_by: ClassVar[TracedBy | None] = "neuron_pre"

    def owns(self, site: Site) -> bool:
        return site.kind == "mlp_post" and site.sae is None

    def sites(self, model: Transformer) -> list[NodeSite]:
        return [NodeSite("neuron", site) for site in self.layer_sites(model.cfg)]

    def layer_sites(self, cfg: TransformerConfig) -> list[str]:
        return [] if cfg.attn_only else [act_name("mlp_post", i) for i in range(cfg.n_layers)]

    def layer_site(self, cfg: TransformerConfig, layer: int) -> str:
        if cfg.attn_only:
            raise ValueError("This model is attention-only: it has no MLP neurons")
        return act_name("mlp_post", layer)

    def width(self, model: Transformer, site: str) -> int:
        return model.cfg.d_mlp

    def metrics(
        self,
        model: Transformer,
        site: NodeSite,
        cache: Mapping[str, Tensor],
        grad: Tensor,
        read: DirectRead,
    ) -> SiteMetrics:
        post = cache[site.site].detach()  # [batch, pos, d_mlp]
        W_out = mlp(model, site.layer).W_out.detach()  # [d_mlp, d_model]
        direct = post * (read.gradient @ W_out.T)[:, None, :]
        return SiteMetrics(
            site,
            activation=post,
            write_magnitude=post.abs() * W_out.norm(dim=-1),
            direct_effect=at_read(site, read, direct),
            total_effect=post * grad,
            valid=torch.ones(post.shape[1:], dtype=torch.bool, device=post.device),
        )

    def token_sums(self, total_effect: Tensor) -> Float[Tensor, "batch pos"]:
        return total_effect.sum(-1)

    def write_directions(
        self, model: Transformer, site: str, nodes: NodeIndex, cache: Mapping[str, Tensor]
    ) -> Float[Tensor, "m d_model"]:
        return self.output_directions(model, site, {})[nodes.index]

    def read_directions(
        self, model: Transformer, site: str, index: Int[Tensor, " m"]
    ) -> Float[Tensor, "m d_model"]:
        layer = Site.parse(site).layer
        return centre(mlp(model, layer).W_in.detach()[:, index].T * ln_weight(model, layer))

    def output_directions(
        self, model: Transformer, site: str, sums: Mapping[str, Tensor]
    ) -> Float[Tensor, "c d_model"]:
        return mlp(model, Site.parse(site).layer).W_out.detach()

    def steering(
        self, model: Transformer, site: str, index: int, saes: Mapping[str, SparseAutoencoder]
    ) -> tuple[str, Float[Tensor, " d"]]:
        """A neuron writes W_out[i] to the MLP's output."""
        parsed = Site.parse(site)
        return parsed.sibling("mlp_out").name, mlp(model, parsed.layer).W_out.detach()[index]

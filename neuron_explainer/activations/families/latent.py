"""Autoencoder latents as nodes: one per token and latent, at `{site}.hook_sae_acts_post` of
each spliced autoencoder (`models.sae_splice`).

    activation  a = hook_sae_acts_post[t, j]; write direction w = W_dec[j] for autoencoders that
                read the residual stream, attention output or MLP output, W_dec[j] @ W_out for
                ones that read MLP neurons. Latents reading MLP pre-activations reach the
                residual stream only through the nonlinearity: their write magnitude and direct
                effect are NaN, and they have no write direction.
    reads       the token embeddings along the encoder column W_enc[:, j] for an autoencoder on
                the residual stream, P (ln2.w ⊙ W_in W_enc[:, j]) for one on MLP pre-activations
                (an approximation, as for neurons); others read none.

`LatentFamily("mlp_latent", "mlp")` and `("attn_latent", "attn")` select the latents of the
autoencoders on MLP sites or on attention outputs alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Literal

import torch
from jaxtyping import Float, Int
from torch import Tensor

from neuron_explainer.activations.direction import DirectRead, centre, ln_weight
from neuron_explainer.activations.families.base import (
    CollationLayout,
    Family,
    NodeIndex,
    TracedBy,
    at_read,
)
from neuron_explainer.activations.metrics import SiteMetrics
from neuron_explainer.activations.nodes import FamilyName, NodeSite, Selection
from neuron_explainer.models.sae_splice import spliced_saes
from neuron_explainer.models.sites import Site, mlp
from neuron_explainer.models.sparse_autoencoder import SparseAutoencoder
from neuron_explainer.models.transformer import Transformer

LatentKind = Literal["mlp", "attn", "resid"]


def latent_kind(splice_site: str) -> LatentKind:
    """Whether an autoencoder reads an MLP site, an attention output or the residual stream."""
    kind = Site.parse(splice_site).kind
    if kind in ("mlp_pre", "mlp_post", "mlp_out"):
        return "mlp"
    return "attn" if kind == "attn_out" else "resid"


class LatentFamily(Family):
    """Latents of every spliced autoencoder, or (`kind`) of those on MLP or attention sites."""

    node_family: ClassVar[FamilyName] = "latent"
    display_name: ClassVar[str] = "latent"
    collation: ClassVar[CollationLayout] = "latents"
    by_autoencoder: ClassVar[bool] = True
    traced_by: ClassVar[TracedBy | None] = "latent_pre"

    def __init__(self, name: Selection = "latent", kind: LatentKind | None = None) -> None:
        self.name, self.kind = name, kind

    def owns(self, site: Site) -> bool:
        return site.is_latents and self.selects(site.name)

    def selects(self, site: str) -> bool:
        return self.kind is None or latent_kind(Site.parse(site).splice.name) == self.kind

    def sites(self, model: Transformer) -> list[NodeSite]:
        sites = [NodeSite("latent", Site.parse(s).autoencoder().name) for s in spliced_saes(model)]
        return sorted(
            (s for s in sites if self.owns(Site.parse(s.site))), key=lambda s: (s.sublayer, s.site)
        )

    def width(self, model: Transformer, site: str) -> int:
        return spliced_saes(model)[Site.parse(site).splice.name].cfg.d_sae

    def metrics(
        self,
        model: Transformer,
        site: NodeSite,
        cache: Mapping[str, Tensor],
        grad: Tensor,
        read: DirectRead,
    ) -> SiteMetrics:
        acts = cache[site.site].detach()  # [batch, pos, d_sae]
        W = self.output_directions(model, site.site, {})
        if W is None:
            undefined = torch.full_like(acts, float("nan"))
            write, direct = undefined, undefined
        else:
            write = acts.abs() * W.norm(dim=-1)
            direct = at_read(site, read, acts * (read.gradient @ W.T)[:, None, :])
        return SiteMetrics(
            site,
            activation=acts,
            write_magnitude=write,
            direct_effect=direct,
            total_effect=acts * grad,
            valid=torch.ones(acts.shape[1:], dtype=torch.bool, device=acts.device),
        )

    def token_sums(self, total_effect: Tensor) -> Float[Tensor, "batch pos"]:
        return total_effect.sum(-1)

    def collation_hook_names(self, site: str) -> list[str]:
        """The autoencoder's input: collation encodes it sparsely (`datasets.streams`)."""
        return [Site.parse(site).splice.name]

    def write_directions(
        self, model: Transformer, site: str, nodes: NodeIndex, cache: Mapping[str, Tensor]
    ) -> Float[Tensor, "m d_model"] | None:
        W = self.output_directions(model, site, {})
        return None if W is None else W[nodes.index]

    def read_directions(
        self, model: Transformer, site: str, index: Int[Tensor, " m"]
    ) -> Float[Tensor, "m d_model"] | None:
        splice = Site.parse(site).splice
        W_enc = spliced_saes(model)[splice.name].W_enc.detach()[:, index]  # [d_in, m]
        if splice.kind == "mlp_pre":
            W_in = mlp(model, splice.layer).W_in.detach()
            return centre((W_in @ W_enc).T * ln_weight(model, splice.layer))
        if splice.splice_input == "residual":
            return W_enc.T
        return None

    def output_directions(
        self, model: Transformer, site: str, sums: Mapping[str, Tensor]
    ) -> Float[Tensor, "c d_model"] | None:
        """What each latent adds to the residual stream per unit activation; None where that is
        not linear (autoencoders on MLP pre-activations). The autoencoder must be spliced."""
        splice = Site.parse(site).splice
        W_dec = spliced_saes(model)[splice.name].W_dec.detach()
        if splice.kind == "mlp_pre":
            return None
        if splice.kind == "mlp_post":
            return W_dec @ mlp(model, splice.layer).W_out.detach()
        return W_dec

    def steering(
        self, model: Transformer, site: str, index: int, saes: Mapping[str, SparseAutoencoder]
    ) -> tuple[str, Float[Tensor, " d"]]:
        """A latent writes its decoder row to its autoencoder's site."""
        splice = Site.parse(site).splice.name
        return splice, saes[splice].W_dec.detach()[index]

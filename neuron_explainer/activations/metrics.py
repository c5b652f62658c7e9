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

Per family (per batch row; a node's row is that of the run it belongs to):

    embedding  a = 1, the presence of the token (the write is the scalar a times its token
               embedding e = W_E[token], so a ∂f/∂a = e · ∂f/∂e); w = e. Position embeddings
               belong to no node.
    neuron     a = mlp.hook_post[t, i]; w = W_out[i].
    head       a = pattern[h, q, k]; w = v[k, h] @ W_O[h]. ||w|| comes from the Gram matrix
               W_O[h] W_O[h]ᵀ and w · g from (W_O[h] g) · v[k, h], so no [q, k, h, d_model]
               tensor is formed. The output bias b_O belongs to no head. Pairs with k > q are
               not nodes (`valid` is False there).
    latent     a = hook_sae_acts_post[t, j]; w = W_dec[j] for autoencoders that read the residual
               stream, attention output or MLP output, W_dec[j] @ W_out for ones that read MLP
               neurons. Latents reading MLP pre-activations reach the residual stream only
               through the nonlinearity: their write magnitude and direct effect are NaN.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

import torch
from jaxtyping import Bool, Float
from torch import Tensor

from neuron_explainer.activations.direction import DirectRead
from neuron_explainer.activations.nodes import (
    EMBED_SITE,
    LATENT_SUFFIX,
    NodeSite,
    Selection,
    latent_site,
    neuron_site,
    pattern_site,
    site_layer,
)
from neuron_explainer.models.accessors import block, mlp
from neuron_explainer.models.sae_splice import spliced_saes
from neuron_explainer.models.transformer import Transformer

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


class Family(abc.ABC):
    """How one node family (or selection of it) finds its sites and computes its metrics."""

    name: Selection

    @abc.abstractmethod
    def sites(self, model: Transformer) -> list[NodeSite]: ...

    def cache_names(self, site: NodeSite) -> list[str]:
        """Hook sites the metrics read; the first is the activation (gradients are taken there)."""
        return [site.site]

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


def _at_read(
    site: NodeSite, read: DirectRead, per_node: Float[Tensor, "batch pos *rest"]
) -> Float[Tensor, "batch pos *rest"]:
    """Direct effects laid out per token: the values at the read's token, zero elsewhere."""
    out = torch.zeros_like(per_node)
    if site.sublayer < read.before_sublayer:
        out[:, read.position] = per_node[:, read.position]
    return out


class EmbeddingFamily(Family):
    name: Selection = "embedding"

    def sites(self, model: Transformer) -> list[NodeSite]:
        return [NodeSite("embedding", EMBED_SITE)]

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
            direct_effect=_at_read(site, read, direct),
            total_effect=(embed * grad).sum(-1),
            valid=torch.ones(pos, dtype=torch.bool, device=embed.device),
        )

    def token_sums(self, total_effect: Tensor) -> Float[Tensor, "batch pos"]:
        return total_effect


class NeuronFamily(Family):
    name: Selection = "neuron"

    def sites(self, model: Transformer) -> list[NodeSite]:
        if model.cfg.attn_only:
            return []
        return [NodeSite("neuron", neuron_site(layer)) for layer in range(model.cfg.n_layers)]

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
            direct_effect=_at_read(site, read, direct),
            total_effect=post * grad,
            valid=torch.ones(post.shape[1:], dtype=torch.bool, device=post.device),
        )

    def token_sums(self, total_effect: Tensor) -> Float[Tensor, "batch pos"]:
        return total_effect.sum(-1)


class HeadFamily(Family):
    name: Selection = "head"

    def sites(self, model: Transformer) -> list[NodeSite]:
        return [NodeSite("head", pattern_site(layer)) for layer in range(model.cfg.n_layers)]

    def cache_names(self, site: NodeSite) -> list[str]:
        return [site.site, site.site.replace("hook_pattern", "hook_v")]

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
            direct_effect=_at_read(site, read, direct).transpose(1, 2),
            total_effect=pattern * grad,
            valid=causal.expand(pattern.shape[1], pos, pos),
        )

    def token_sums(self, total_effect: Tensor) -> Float[Tensor, "batch pos"]:
        return total_effect.sum((1, 2))


def latent_kind(splice_site: str) -> Literal["mlp", "attn", "resid"]:
    """Whether an autoencoder reads an MLP site, an attention output or the residual stream."""
    if ".mlp." in splice_site or splice_site.endswith("hook_mlp_out"):
        return "mlp"
    return "attn" if splice_site.endswith("hook_attn_out") else "resid"


class LatentFamily(Family):
    """Latents of every spliced autoencoder, or (`kind`) of those on MLP or attention sites."""

    def __init__(
        self, name: Selection = "latent", kind: Literal["mlp", "attn"] | None = None
    ) -> None:
        self.name, self.kind = name, kind

    def selects(self, site: NodeSite) -> bool:
        splice = site.site.removesuffix(LATENT_SUFFIX)
        return site.family == "latent" and self.kind in (None, latent_kind(splice))

    def sites(self, model: Transformer) -> list[NodeSite]:
        sites = [NodeSite("latent", latent_site(s)) for s in spliced_saes(model)]
        return sorted(filter(self.selects, sites), key=lambda s: (s.sublayer, s.site))

    def metrics(
        self,
        model: Transformer,
        site: NodeSite,
        cache: Mapping[str, Tensor],
        grad: Tensor,
        read: DirectRead,
    ) -> SiteMetrics:
        acts = cache[site.site].detach()  # [batch, pos, d_sae]
        W = latent_write_directions(model, site.site.removesuffix(LATENT_SUFFIX))
        if W is None:
            undefined = torch.full_like(acts, float("nan"))
            write, direct = undefined, undefined
        else:
            write = acts.abs() * W.norm(dim=-1)
            direct = _at_read(site, read, acts * (read.gradient @ W.T)[:, None, :])
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


def latent_write_directions(
    model: Transformer, splice_site: str
) -> Float[Tensor, "d_sae d_model"] | None:
    """What each latent of the autoencoder at `splice_site` adds to the residual stream per unit
    activation; None where that is not linear (autoencoders on MLP pre-activations)."""
    W_dec = spliced_saes(model)[splice_site].W_dec.detach()
    if splice_site.endswith("mlp.hook_pre"):
        return None
    if splice_site.endswith("mlp.hook_post"):
        return W_dec @ mlp(model, site_layer(splice_site)).W_out.detach()
    return W_dec


FAMILY_REGISTRY: dict[str, Family] = {
    f.name: f
    for f in (
        EmbeddingFamily(),
        NeuronFamily(),
        HeadFamily(),
        LatentFamily(),
        LatentFamily("mlp_latent", "mlp"),
        LatentFamily("attn_latent", "attn"),
    )
}


def selects(selection: str, site: NodeSite) -> bool:
    """Whether the nodes of `site` belong to a requested family or selection."""
    family = get_family(selection)
    if isinstance(family, LatentFamily):
        return family.selects(site)
    return site.family == selection


def get_family(name: str) -> Family:
    if name not in FAMILY_REGISTRY:
        raise ValueError(f"Unknown node family {name!r}; expected one of {list(FAMILY_REGISTRY)}")
    return FAMILY_REGISTRY[name]

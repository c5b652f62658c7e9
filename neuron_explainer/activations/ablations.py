"""Ablations: replace activations in the forward pass, as forward hooks built per request.

An `Ablation` selects part of the activation at one hook site (a token or all tokens; an index
or all indices) and says what replaces it:

    zero       0
    constant   `constant`
    mean       the component's mean: from `means` (collated statistics, one value per feature,
               broadcast over tokens) when given, else over the prompt's own tokens in an
               unablated run (attention patterns: over the causal (query, key) pairs)
    source     the value at the same position in an unablated run of a second prompt of the
               same token count

Targets, by site:

    Ablation.embedding(t)           hook_embed[t, :]              the token's embedding
    Ablation.neuron(L, t, i)        blocks.L.mlp.hook_post[t, i]  (t=None: every token)
    Ablation.latent(site, t, j)     {site}.hook_sae_acts_post[t, j]
    Ablation.head(L, h, t)          blocks.L.attn.hook_z[t, h, :] a head at a query token, all keys
    Ablation.head_pair(L, h, q, k)  blocks.L.attn.hook_pattern[h, q, k]
    Ablation.layer(L, "mlp", t)     every neuron of layer L (hook_post[t, :])
    Ablation.layer(L, "attn", t)    every head of layer L (hook_z[t, :, :])

Hooks replace values with `torch.where`, so gradients still reach the rest of the activation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from jaxtyping import Bool, Float, Int
from torch import Tensor

from neuron_explainer.activations.families import family_at
from neuron_explainer.activations.nodes import Node, NodeSite
from neuron_explainer.models.hooks import HookFn, HookPoint, HookSpec
from neuron_explainer.models.sae_splice import spliced_saes
from neuron_explainer.models.sites import Site, act_name
from neuron_explainer.models.transformer import Transformer

AblationValue = Literal["zero", "constant", "mean", "source"]
ABLATION_VALUES: tuple[AblationValue, ...] = ("zero", "constant", "mean", "source")


@dataclass(frozen=True)
class SiteLayout:
    """Which axes of a site's per-row activation are tokens and indices."""

    token_axis: int
    index_axis: int | None  # None: the index is not selectable (a whole embedding vector)
    key_axis: int | None = None  # attention patterns


# The kinds of sites ablations act on; their layouts come from `Site.axes`.
_ABLATABLE = frozenset({"embed", "mlp_pre", "mlp_post", "z", "pattern"})
_INDEX_AXES = ("d_mlp", "d_sae", "head")  # the axis an ablation's index selects


def site_layout(site: str) -> SiteLayout:
    parsed = _site(site)
    if parsed is None or not (
        parsed.is_latents or (parsed.sae is None and parsed.kind in _ABLATABLE)
    ):
        raise ValueError(
            f"Cannot ablate at {site!r}: ablations act on hook_embed, mlp.hook_pre|hook_post, "
            "attn.hook_z, attn.hook_pattern and autoencoder latents (hook_sae_acts_post)"
        )
    axes = parsed.axes
    token = axes.index("query") if "query" in axes else axes.index("pos")
    index = next((axes.index(a) for a in _INDEX_AXES if a in axes), None)
    key = axes.index("key") if "key" in axes else None
    return SiteLayout(token, index, key)


def _site(site: str) -> Site | None:
    try:
        return Site.parse(site)
    except ValueError:
        return None


def site_shape(model: Transformer, site: str, pos: int) -> tuple[int, ...]:
    """Shape of one batch row's activation at an ablatable site."""
    site_layout(site)
    model.hook_points[site]  # raises KeyError, with suggestions, for a site the model lacks
    parsed = Site.parse(site)
    d_sae = spliced_saes(model)[parsed.splice.name].cfg.d_sae if parsed.sae else 0
    return parsed.shape(model.cfg, pos, d_sae)


@dataclass(frozen=True)
class Ablation:
    """Replace the activation at `site` for `token` (None: all tokens) and `index` (None: all)."""

    site: str
    token: int | None = None
    index: int | None = None
    key_token: int | None = None
    value: AblationValue = "zero"
    constant: float = 0.0

    def __post_init__(self) -> None:
        layout = site_layout(self.site)
        if self.value not in ABLATION_VALUES:
            raise ValueError(f"Unknown ablation value {self.value!r}; one of {ABLATION_VALUES}")
        if layout.index_axis is None and self.index is not None:
            raise ValueError(f"Ablations at {self.site} take no index")
        if layout.key_axis is None and self.key_token is not None:
            raise ValueError(f"Only attention patterns take a key token, not {self.site}")
        if self.value != "constant" and self.constant != 0.0:
            raise ValueError(f"A constant is only used with value='constant', not {self.value!r}")

    @classmethod
    def node(cls, node: Node, value: AblationValue = "zero", constant: float = 0.0) -> Ablation:
        index = None if site_layout(node.site).index_axis is None else node.index
        return cls(node.site, node.token, index, node.key_token, value, constant)

    @classmethod
    def embedding(
        cls, token: int, value: AblationValue = "zero", constant: float = 0.0
    ) -> Ablation:
        return cls(act_name("embed"), token, None, None, value, constant)

    @classmethod
    def neuron(
        cls,
        layer: int,
        token: int | None,
        neuron: int,
        value: AblationValue = "zero",
        constant: float = 0.0,
    ) -> Ablation:
        return cls(act_name("mlp_post", layer), token, neuron, None, value, constant)

    @classmethod
    def latent(
        cls,
        splice_site: str,
        token: int | None,
        latent: int,
        value: AblationValue = "zero",
        constant: float = 0.0,
    ) -> Ablation:
        return cls(Site.parse(splice_site).autoencoder().name, token, latent, None, value, constant)

    @classmethod
    def head(
        cls,
        layer: int,
        head: int,
        token: int | None,
        value: AblationValue = "zero",
        constant: float = 0.0,
    ) -> Ablation:
        return cls(act_name("z", layer), token, head, None, value, constant)

    @classmethod
    def head_pair(
        cls,
        layer: int,
        head: int,
        query: int,
        key: int,
        value: AblationValue = "zero",
        constant: float = 0.0,
    ) -> Ablation:
        return cls(act_name("pattern", layer), query, head, key, value, constant)

    @classmethod
    def layer(
        cls,
        layer: int,
        part: Literal["mlp", "attn"],
        token: int | None = None,
        value: AblationValue = "zero",
        constant: float = 0.0,
    ) -> Ablation:
        if part not in ("mlp", "attn"):
            raise ValueError(f"part must be 'mlp' or 'attn', got {part!r}")
        site = act_name("mlp_post" if part == "mlp" else "z", layer)
        return cls(site, token, None, None, value, constant)

    def target_node(self) -> Node | None:
        """The one node of the node table this ablation replaces: a token's embedding, a neuron
        or latent at one token, a head pair. None when it replaces many nodes (a token or an
        index left null: every token, every neuron of a layer) or no node (attention's hook_z,
        MLP pre-activations). The node table pins these nodes, so an ablation of a whole site
        pins nothing: it would pin every node of the site."""
        layout = site_layout(self.site)
        if self.token is None or (layout.index_axis is not None and self.index is None):
            return None
        family = family_at(self.site)
        if family is None:
            return None
        if family.pairs and (self.key_token is None or self.key_token > self.token):
            return None  # every key of the query, or no pair (a key after its query)
        fields = {"token": self.token, "index": self.index, "key_token": self.key_token}
        index = tuple(fields[a] for a in family.node_axes)
        assert all(i is not None for i in index)  # checked above
        return NodeSite(family.node_family, self.site).node(index)  # type: ignore[arg-type]

    def selection(self, shape: tuple[int, ...]) -> tuple[int | slice, ...]:
        """The index into one row's activation of this shape; checks bounds."""
        layout = site_layout(self.site)
        index: list[int | slice] = [slice(None)] * len(shape)
        for axis, value, what in (
            (layout.token_axis, self.token, "token"),
            (layout.index_axis, self.index, "index"),
            (layout.key_axis, self.key_token, "key token"),
        ):
            if axis is None or value is None:
                continue
            if not 0 <= value < shape[axis]:
                raise ValueError(
                    f"Ablation at {self.site}: {what} {value} not in [0, {shape[axis]})"
                )
            index[axis] = value
        return tuple(index)


@dataclass(frozen=True)
class ResolvedAblation:
    """An ablation as a mask and replacement values over one row's activation."""

    site: str
    mask: Bool[Tensor, "*shape"]
    value: Float[Tensor, "*shape"]


def component_mean(site: str, act: Float[Tensor, "*shape"]) -> Float[Tensor, "*shape"]:
    """The mean over one row's tokens, broadcast back to the row's shape."""
    if site_layout(site).key_axis is not None:  # [head, q, k]: over the causal pairs
        causal = torch.ones(act.shape[1:], dtype=torch.bool, device=act.device).tril()
        mean = (act * causal).sum((1, 2), keepdim=True) / causal.sum()
    else:
        mean = act.mean(0, keepdim=True)
    return mean.expand_as(act)


def resolve_ablations(
    model: Transformer,
    tokens: Int[Tensor, " pos"],
    ablations: Sequence[Ablation],
    source_tokens: Int[Tensor, " source_pos"] | None = None,
    means: Mapping[str, Tensor] | None = None,
) -> list[ResolvedAblation]:
    """Masks and values for one row; runs the prompt (for means) and the source prompt (for
    "source") unablated, without gradients, when an ablation needs them."""
    means = means or {}
    pos = tokens.shape[0]
    need_clean = sorted({a.site for a in ablations if a.value == "mean" and a.site not in means})
    need_source = sorted({a.site for a in ablations if a.value == "source"})
    if need_source and source_tokens is None:
        raise ValueError("A 'source' ablation needs a source prompt")
    if source_tokens is not None and source_tokens.shape[0] != pos:
        raise ValueError(f"The source prompt has {source_tokens.shape[0]} tokens, not {pos}")
    clean, source = _cache(model, tokens, need_clean), _cache(model, source_tokens, need_source)
    resolved = []
    for ablation in ablations:
        shape = site_shape(model, ablation.site, pos)
        mask = torch.zeros(shape, dtype=torch.bool, device=model.device)
        mask[ablation.selection(shape)] = True
        if ablation.value in ("zero", "constant"):
            fill = ablation.constant if ablation.value == "constant" else 0.0
            value = torch.full(shape, fill, dtype=model.dtype, device=model.device)
        elif ablation.value == "source":
            value = source[ablation.site]
        elif ablation.site in means:
            value = _broadcast_mean(ablation.site, means[ablation.site], shape).to(model.dtype)
        else:
            value = component_mean(ablation.site, clean[ablation.site])
        resolved.append(ResolvedAblation(ablation.site, mask, value))
    return resolved


def _broadcast_mean(site: str, mean: Tensor, shape: tuple[int, ...]) -> Tensor:
    try:
        return torch.broadcast_to(mean, shape)
    except RuntimeError:
        raise ValueError(
            f"The mean given for {site} has shape {tuple(mean.shape)}, which does not broadcast "
            f"to the activation's {shape}"
        ) from None


def _cache(
    model: Transformer, tokens: Int[Tensor, " pos"] | None, sites: list[str]
) -> dict[str, Tensor]:
    if not sites or tokens is None:
        return {}
    with torch.no_grad():
        _, cache = model.run_with_cache(tokens[None], names_filter=sites)
    return {name: act[0] for name, act in cache.items()}


def ablation_hooks(rows: Sequence[Sequence[ResolvedAblation]]) -> list[HookSpec]:
    """Forward hooks applying each batch row's ablations (later ones win where they overlap)."""
    per_site: dict[str, list[tuple[int, ResolvedAblation]]] = {}
    for row, ablations in enumerate(rows):
        for ablation in ablations:
            per_site.setdefault(ablation.site, []).append((row, ablation))
    hooks: list[HookSpec] = []
    for site, items in per_site.items():
        shape = items[0][1].mask.shape
        mask = torch.zeros((len(rows), *shape), dtype=torch.bool, device=items[0][1].mask.device)
        values = torch.zeros((len(rows), *shape), dtype=items[0][1].value.dtype, device=mask.device)
        for row, ablation in items:
            values[row] = torch.where(ablation.mask, ablation.value, values[row])
            mask[row] |= ablation.mask
        hooks.append((site, _replace(mask, values)))
    return hooks


def _replace(mask: Tensor, values: Tensor) -> HookFn:
    def hook(x: Tensor, hook: HookPoint) -> Tensor:
        if x.shape != mask.shape:
            raise ValueError(
                f"Ablation at {hook.name} built for {tuple(mask.shape)}, got {x.shape}"
            )
        return torch.where(mask, values, x)

    return hook


def node_zeroing_hooks(nodes: Sequence[Node], rows: Sequence[int]) -> list[HookSpec]:
    """Forward hooks that zero `nodes[i]` in batch row `rows[i]`, vectorised per site."""
    if len(nodes) != len(rows):
        raise ValueError(f"{len(nodes)} nodes but {len(rows)} rows")
    per_site: dict[NodeSite, list[int]] = {}
    for i, node in enumerate(nodes):
        per_site.setdefault(NodeSite(node.family, node.site), []).append(i)
    hooks: list[HookSpec] = []
    for site, members in per_site.items():
        where = torch.tensor([(rows[i], *site.index(nodes[i])) for i in members], dtype=torch.long)
        hooks.append((site.site, _zero_at(where)))
    return hooks


def _zero_at(where: Int[Tensor, "n ndim"]) -> HookFn:
    def hook(x: Tensor, hook: HookPoint) -> Tensor:
        mask = torch.zeros_like(x, dtype=torch.bool)
        mask[tuple(where.to(x.device).T)] = True  # trailing axes (an embedding vector) in full
        return x.masked_fill(mask, 0.0)

    return hook

"""Splicing sparse autoencoders into a model's forward pass, with the error term added back.

At a hook site carrying activation x, the splice computes

    latents = encode(x)                      hook_sae_acts_pre, hook_sae_acts_post
    recons  = decode(latents)                hook_sae_recons
    error   = x - decode(encode(x))          hook_sae_error: a separate, hook-free path from x
    output  = recons + error                 hook_sae_output; equals x in value

so the model's output is unchanged, while each latent is a node that can be cached, ablated
(edit `hook_sae_acts_post`; the error stays that of the clean input, so the edit reaches the
output) and receives gradients (d output / d latents = W_dec). The error keeps its graph: the
gradient of the output with respect to x is the identity, so upstream gradients are those of the
model without the splice. (SAELens computes the error without gradients instead.)

Hook names follow SAELens's HookedSAETransformer: `f"{site}.hook_sae_acts_post"` and so on.
With nothing attached to an autoencoder's hook sites, its splice returns x without running the
autoencoder: the output would equal x anyway, and an idle splice should cost nothing. Likewise,
without gradients, when hooks only read the input or the latents (a cache), the splice encodes
and returns x: no decoder and no second encoding for the error term.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import torch
from torch import Tensor

from neuron_explainer.models.hooks import HookPoint, is_active
from neuron_explainer.models.sites import SAE_KINDS, Site, is_splice_site, splice_paths
from neuron_explainer.models.sparse_autoencoder import SparseAutoencoder
from neuron_explainer.models.transformer import Transformer


class SaeSplice:
    """One autoencoder spliced at one hook site, with the hook sites it adds to the model."""

    def __init__(self, site: str, sae: SparseAutoencoder, use_error_term: bool = True) -> None:
        self.site = site
        self.sae = sae
        # Without the error term the site carries the reconstruction alone (to measure what the
        # autoencoder misses); the model's output then changes.
        self.use_error_term = use_error_term
        at = Site.parse(site)
        self.hook_sae_input = HookPoint(at.autoencoder("sae_input").name)  # [batch, pos, d_in]
        self.hook_sae_acts_pre = HookPoint(
            at.autoencoder("sae_acts_pre").name
        )  # [batch, pos, d_sae]
        self.hook_sae_acts_post = HookPoint(at.autoencoder("sae_acts_post").name)
        self.hook_sae_recons = HookPoint(at.autoencoder("sae_recons").name)  # [batch, pos, d_in]
        self.hook_sae_error = HookPoint(at.autoencoder("sae_error").name)  # [batch, pos, d_in]
        self.hook_sae_output = HookPoint(at.autoencoder("sae_output").name)  # [batch, pos, d_in]

    def __repr__(self) -> str:
        return f"SaeSplice({self.site!r}, {self.sae!r}, use_error_term={self.use_error_term})"

    @property
    def hook_points(self) -> list[HookPoint]:
        return [getattr(self, hook) for hook in SAE_KINDS.values()]

    def hook_names(self) -> list[str]:
        return [p.name for p in self.hook_points]

    def __call__(self, x: Tensor) -> Tensor:
        if self.use_error_term and not any(is_active(p) for p in self.hook_points):
            return x
        sae = self.sae
        sae_in = self.hook_sae_input(x)
        raw_pre = sae.encode_pre_act(sae_in)
        pre = self.hook_sae_acts_pre(raw_pre)
        raw_latents = sae.activate(pre)
        latents = self.hook_sae_acts_post(raw_latents)
        if self._only_read(x, sae_in, raw_pre, pre, raw_latents, latents):
            return x  # = decode(latents) + x - decode(encode(x)) when nothing was edited
        recons = self.hook_sae_recons(sae.decode(latents))
        if not self.use_error_term:
            return self.hook_sae_output(recons)
        # The error of the clean input, on a path of its own: edits of the latents above change
        # the output, and d output / d x = d recons / d x + I - d decode(encode(x)) / d x = I.
        error = self.hook_sae_error(x - sae.decode(sae.encode(x)))
        return self.hook_sae_output(recons + error)

    def _only_read(self, *pairs: Tensor) -> bool:
        """Whether hooks only read (cached) the input and latents, with no gradients to carry
        and nothing attached past the latents: the output is then x itself, and the decoder
        and the error term's second encoding need not run (collation's case)."""
        if torch.is_grad_enabled() or not self.use_error_term:
            return False
        if any(pairs[i] is not pairs[i + 1] for i in range(0, len(pairs), 2)):
            return False  # a hook replaced the input, pre-activations or latents
        later = (self.hook_sae_recons, self.hook_sae_error, self.hook_sae_output)
        return not any(is_active(p) for p in later)


def site_width(model: Transformer, site: str) -> int:
    """Width of the activation at a site an autoencoder can be spliced into."""
    if not is_splice_site(site):
        raise ValueError(
            f"Cannot splice an autoencoder at {site!r}; sites are blocks.{{L}}.<kind> with kind "
            f"one of {splice_paths()}"
        )
    model.hook_points[site]  # raises KeyError, with suggestions, for a site the model lacks
    return Site.parse(site).shape(model.cfg, 1)[-1]


def attach_sae(
    model: Transformer, site: str, sae: SparseAutoencoder, use_error_term: bool = True
) -> SaeSplice:
    """Splice `sae` at `site` until `detach_sae(model, site)`; its hook sites join the model's."""
    width = site_width(model, site)
    if sae.cfg.d_in != width:
        raise ValueError(f"Autoencoder has d_in={sae.cfg.d_in} but {site} has width {width}")
    if sae.dtype != model.dtype or sae.device != model.device:
        raise ValueError(
            f"Autoencoder is {sae.dtype} on {sae.device}, the model {model.dtype} on "
            f"{model.device}; move it with sae.to(model.device, model.dtype)"
        )
    point = model.hook_points[site]
    if point.splice is not None:
        what = repr(point.splice.sae) if isinstance(point.splice, SaeSplice) else "not ours"
        raise ValueError(f"{site} already has a splice ({what}); detach_sae(model, {site!r}) first")
    splice = SaeSplice(site, sae, use_error_term)
    taken = [n for n in splice.hook_names() if n in model.hook_points]
    if taken:
        raise ValueError(f"Hook names {taken} are already registered")
    for p in splice.hook_points:
        model.hook_points.add(p)
    point.splice = splice
    return splice


def detach_sae(model: Transformer, site: str) -> SparseAutoencoder:
    """Remove the autoencoder spliced at `site` and its hook sites; returns the autoencoder."""
    splice = model.hook_points[site].splice
    if not isinstance(splice, SaeSplice):
        raise ValueError(f"No autoencoder is spliced at {site!r}")
    _remove(model, splice)
    return splice.sae


def spliced_saes(model: Transformer) -> dict[str, SparseAutoencoder]:
    """The autoencoders spliced into `model`, by site."""
    points = model.hook_points.resolve(lambda _: True)
    return {p.name: p.splice.sae for p in points if isinstance(p.splice, SaeSplice)}


@contextmanager
def splice_saes(
    model: Transformer, saes: Mapping[str, SparseAutoencoder], use_error_term: bool = True
) -> Iterator[dict[str, SaeSplice]]:
    """Splice autoencoders ({site: sae}) for the duration of the block; they and their hook names
    are removed on exit, also on errors."""
    attached: list[SaeSplice] = []
    try:
        for site, sae in saes.items():
            attached.append(attach_sae(model, site, sae, use_error_term))
        yield {s.site: s for s in attached}
    finally:
        for splice in reversed(attached):
            _remove(model, splice)


def _remove(model: Transformer, splice: SaeSplice) -> None:
    """Undo `attach_sae`; a no-op for parts already undone (e.g. detached inside the block)."""
    if splice.site in model.hook_points and model.hook_points[splice.site].splice is splice:
        model.hook_points[splice.site].splice = None
    for point in splice.hook_points:
        if point.name in model.hook_points and model.hook_points[point.name] is point:
            model.hook_points.remove(point.name)

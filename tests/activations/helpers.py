"""Tiny models, a character tokenizer, autoencoders and brute-force references for the engine."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import torch
from torch import Tensor

from neuron_explainer.models import HookPoint, SaeConfig, SparseAutoencoder, Transformer
from neuron_explainer.models.sae_splice import splice_saes
from neuron_explainer.models.tokenizers import ENDOFTEXT, Tokenizer
from tests.models.tiny import tiny_model

PROMPT = [5, 17, 3, 42, 8, 17, 60]  # token ids; the logit difference is read at the last token
TARGET, DISTRACTOR = 11, 29
# Autoencoder sites of every kind whose latents write linearly (plus one on pre-activations).
SAE_SITES = [
    "blocks.0.hook_resid_pre",
    "blocks.0.hook_attn_out",
    "blocks.0.mlp.hook_post",
    "blocks.1.hook_resid_mid",
    "blocks.1.hook_mlp_out",
    "blocks.1.mlp.hook_pre",
]


class CharTokenizer(Tokenizer):
    """One token per printable ASCII character (ids 0-94), newline (95), end of text (96)."""

    name = "chars"

    @property
    def vocab_size(self) -> int:
        return 97

    @property
    def special_tokens(self) -> dict[str, int]:
        return {ENDOFTEXT: 96}

    def encode(self, text: str) -> list[int]:
        return [95 if c == "\n" else ord(c) - 32 for c in text]

    def token_bytes(self, token_id: int) -> bytes:
        if token_id == 96:
            return ENDOFTEXT.encode()
        return b"\n" if token_id == 95 else bytes([token_id + 32])


def model64(seed: int = 0, attn_only: bool = False) -> Transformer:
    """The tiny random model in float64, so finite differences are exact to ~1e-9."""
    model = tiny_model(seed, attn_only=attn_only, std=0.2).double()
    model.tokenizer = CharTokenizer()
    return model


def make_sae(d_in: int, seed: int, dtype: torch.dtype = torch.float64) -> SparseAutoencoder:
    """A random ReLU autoencoder with many active latents."""
    torch.manual_seed(seed)
    sae = SparseAutoencoder(SaeConfig("relu", d_in, 2 * d_in)).to(dtype)
    with torch.no_grad():
        sae.b_enc.normal_(0.2, 0.2)
        sae.b_dec.normal_(0.0, 0.2)
    return sae


@contextmanager
def with_saes(model: Transformer, sites: list[str] = SAE_SITES) -> Iterator[None]:
    saes = {
        s: make_sae(model.cfg.d_mlp if ".mlp." in s else model.cfg.d_model, i)
        for i, s in enumerate(sites)
    }
    with splice_saes(model, saes):
        yield


def logit_diff(logits: Tensor, position: int = -1) -> Tensor:
    return logits[:, position, TARGET] - logits[:, position, DISTRACTOR]


def clean_final_scale(model: Transformer, tokens: Tensor) -> Tensor:
    _, cache = model.run_with_cache(tokens, names_filter="ln_final.hook_scale")
    return cache["ln_final.hook_scale"]


def run_edited(
    model: Transformer,
    tokens: Tensor,
    site: str,
    edit: Callable[[Tensor], Tensor],
    frozen_scale: Tensor | None = None,
) -> float:
    """The logit difference with `edit` applied at `site` (a fresh tensor, no in-place edit), and
    optionally the final LayerNorm scale held at `frozen_scale`."""

    def hook(x: Tensor, _: HookPoint) -> Tensor:
        return edit(x.clone())

    hooks: list[tuple[str, Callable[[Tensor, HookPoint], Tensor | None]]] = [(site, hook)]
    if frozen_scale is not None:
        hooks.append(("ln_final.hook_scale", lambda x, _: frozen_scale))
    with torch.no_grad():
        return float(logit_diff(model.run_with_hooks(tokens, fwd_hooks=hooks))[0])


def set_at(index: tuple[int | slice, ...], value: float | Tensor) -> Callable[[Tensor], Tensor]:
    def edit(x: Tensor) -> Tensor:
        x[(0, *index)] = value
        return x

    return edit


def scale_at(index: tuple[int | slice, ...], factor: float) -> Callable[[Tensor], Tensor]:
    def edit(x: Tensor) -> Tensor:
        x[(0, *index)] *= factor
        return x

    return edit


def final_gradient_by_autograd(model: Transformer, tokens: Tensor, position: int) -> Tensor:
    """d(logit diff)/d(final residual stream) at `position`, final LN scale frozen, by autograd
    through the real LayerNorm code."""
    scale = clean_final_scale(model, tokens)
    resid = model(tokens, stop_at_layer=model.cfg.n_layers).detach().requires_grad_(True)
    with model.hooks([("ln_final.hook_scale", lambda x, _: scale)]):
        value = logit_diff(model.unembed(resid), position).sum()
    (grad,) = torch.autograd.grad(value, resid)
    return grad[0, position]


def cache_of(model: Transformer, tokens: Tensor, names: list[str]) -> Mapping[str, Tensor]:
    with torch.no_grad():
        _, cache = model.run_with_cache(tokens, names_filter=names)
    return cache

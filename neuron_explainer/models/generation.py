"""Sampling with a KV cache: greedy, temperature and nucleus (top-p), seeded; hooks apply."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from jaxtyping import Float, Int
from torch import Tensor

from neuron_explainer.models.hooks import HookSpec
from neuron_explainer.models.transformer import (
    KVCache,
    TokensLike,
    Transformer,
    check_attention_mask,
)

# Temperatures below this sample greedily. At this temperature two logits 1e-4 apart already
# differ by a factor e^100 in probability, so sampling is greedy up to float32 noise in the
# logits; far tinier temperatures are not even float32 numbers (1e-40 is a denormal that
# `set_flush_denormal` makes 0, 1e-300 underflows) and would divide by zero.
MIN_TEMPERATURE = 1e-6


def generate(
    model: Transformer,
    tokens: TokensLike,
    max_new_tokens: int = 20,
    temperature: float = 0.0,
    top_p: float = 1.0,
    seed: int | None = None,
    attention_mask: Int[Tensor, "batch pos"] | None = None,
    use_cache: bool = True,
    fwd_hooks: Sequence[HookSpec] = (),
) -> Int[Tensor, "batch total_pos"]:
    """Prompt plus `max_new_tokens` sampled tokens. `temperature=0` is greedy decoding.

    Prompts of different lengths go in left-padded with an `attention_mask` (see `pad_batch`).
    Forward hooks given here (or attached around the call) apply at every decoding step; with
    the cache, each step's hook sees only the new position.
    """
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens}")
    if not (math.isfinite(temperature) and temperature >= 0):
        raise ValueError(
            f"temperature must be a finite number >= 0 (0 is greedy), got {temperature}"
        )
    if not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")
    tokens = model.check_tokens(tokens)
    total = tokens.shape[1] + max_new_tokens
    if total > model.cfg.n_ctx:
        raise ValueError(
            f"Prompt of {tokens.shape[1]} tokens plus {max_new_tokens} new tokens exceeds the "
            f"model's context of {model.cfg.n_ctx}"
        )
    if attention_mask is None:
        attention_mask = torch.ones_like(tokens)
    attention_mask = check_attention_mask(attention_mask, tokens).long()
    generator = None
    if seed is not None:
        generator = torch.Generator(device=tokens.device).manual_seed(seed)

    with torch.no_grad(), model.hooks(fwd_hooks):
        cache = KVCache(model.cfg.n_layers, attention_mask) if use_cache else None
        next_input = tokens
        for _ in range(max_new_tokens):
            if cache is not None:
                logits = _cached_step(model, next_input, cache)
            else:
                logits = model(tokens, attention_mask=attention_mask)[:, -1]
            new = sample(logits, temperature, top_p, generator)[:, None]
            tokens = torch.cat([tokens, new], dim=1)
            attention_mask = torch.cat([attention_mask, torch.ones_like(new)], dim=1)
            if cache is not None:
                cache.attention_mask = attention_mask
            next_input = new
    return tokens


def _cached_step(
    model: Transformer, new_tokens: Int[Tensor, "batch pos"], cache: KVCache
) -> Float[Tensor, "batch d_vocab"]:
    """Logits at the last position, running only the positions not yet in the cache."""
    assert cache.attention_mask is not None
    resid = model.embed(new_tokens, cache.attention_mask, past_length=cache.length)
    resid = model.run_blocks(resid, attention_mask=cache.attention_mask, kv_cache=cache)
    return model.unembed(resid[:, -1:])[:, 0]


def sample(
    logits: Float[Tensor, "batch d_vocab"],
    temperature: float,
    top_p: float,
    generator: torch.Generator | None = None,
) -> Int[Tensor, " batch"]:
    """Greedy when temperature is below `MIN_TEMPERATURE` (0 included); otherwise sample from the
    nucleus holding `top_p` mass. The logits are shifted so their maximum is 0 before dividing by
    the temperature: every scaled logit is <= 0 and the softmax cannot overflow. Probabilities
    that are still not finite (NaN logits) raise a ValueError rather than reach the sampler."""
    if temperature < MIN_TEMPERATURE:
        return logits.argmax(dim=-1)
    logits = logits.float()
    shifted = logits - logits.max(dim=-1, keepdim=True).values
    probs = torch.softmax(shifted / temperature, dim=-1)
    if not bool(torch.isfinite(probs).all()):
        raise ValueError(
            f"Sampling at temperature {temperature} gave non-finite probabilities (the logits "
            "hold NaN or are all -inf); check the interventions, or sample greedily (temperature 0)"
        )
    if top_p < 1:
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        mass_before = sorted_probs.cumsum(dim=-1) - sorted_probs
        sorted_probs = sorted_probs.masked_fill(mass_before >= top_p, 0.0)  # keeps the top token
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_probs)
    return torch.multinomial(probs, 1, generator=generator)[:, 0]

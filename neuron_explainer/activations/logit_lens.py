"""Logit lens and direct logit attribution (DLA) at one token of one prompt.

Logit lens: the accumulated residual stream after the embedding and after each sublayer, read
as if it were the last one, through the final LayerNorm and the unembedding. The LayerNorm
computes its own scale from each of those residual vectors (the standard lens; TransformerLens's
`apply_ln_to_stack(..., recompute_ln=True)`), not the scale of the final residual stream, so each
layer reads as a calibrated distribution and the last entry is exactly the model's logits.

Direct logit attribution: the final residual stream x at `position` is the sum of its components

    x = embed + pos_embed + sum_L (sum_h z[L, h] @ W_O[L, h] + b_O[L] + mlp_out[L]).

With the final LayerNorm's scale s frozen at its value on x, the logit difference is linear in x:

    logit_diff = x · g + ln_final.b · d + (mean_A b_U[A] - mean_B b_U[B]),
    g = P (w ⊙ d) / s,   d = mean_A W_U[:, A] - mean_B W_U[:, B],

P the LayerNorm's centring and w = ln_final.w (1 without an affine part), so each component c
contributes c · g. The two constant terms come last in the result, so the contributions of all
entries sum to the real logit difference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from jaxtyping import Float, Int
from torch import Tensor

from neuron_explainer.activations.attribution import PromptLike, encode_prompt, resolve_position
from neuron_explainer.activations.direction import LogitDifference, resolve_tokens
from neuron_explainer.activations.vocab import vocabulary_strings
from neuron_explainer.models.config import TransformerConfig
from neuron_explainer.models.sites import act_name, block
from neuron_explainer.models.transformer import Transformer

PromptInput = PromptLike | Int[Tensor, "*batch pos"]  # one prompt: [pos] or [1, pos]
ComponentKind = Literal[
    "embed", "pos_embed", "head", "attn_bias", "mlp", "ln_final_bias", "unembed_bias"
]


@dataclass(frozen=True)
class LensToken:
    token: int
    string: str
    logit: float
    probability: float


@dataclass(frozen=True)
class LensLayer:
    label: str  # "embed", then per layer "{L}_mid" (absent in attention-only models), "{L}_post"
    top: tuple[LensToken, ...]  # most likely first
    logit_difference: float | None  # None when no targets and distractors were given


@dataclass(frozen=True)
class ComponentAttribution:
    # "embed", "pos_embed", "L{L}H{h}", "{L}_attn_bias", "{L}_mlp_out", "ln_final_bias",
    # "unembed_bias"
    label: str
    kind: ComponentKind
    layer: int | None
    head: int | None
    contribution: float  # to the logit difference; all entries sum to it


def lens_sites(cfg: TransformerConfig) -> list[tuple[str, str]]:
    """(label, hook name) of the accumulated residual streams the lens reads, in forward order."""
    sites = [("embed", act_name("resid_pre", 0))]
    for layer in range(cfg.n_layers):
        if not cfg.attn_only:
            sites.append((f"{layer}_mid", act_name("resid_mid", layer)))
        sites.append((f"{layer}_post", act_name("resid_post", layer)))
    return sites


def logit_lens(
    model: Transformer,
    tokens: PromptInput,
    position: int,
    *,
    top_n: int = 10,
    targets: Sequence[int | str] = (),
    distractors: Sequence[int | str] = (),
) -> list[LensLayer]:
    """The lens at token `position` (negative counts from the end) after the embedding and each
    sublayer: the top_n tokens, and the logit difference when targets and distractors are given."""
    ids = _encode(model, tokens)
    pos = resolve_position(position, ids.shape[0])
    if top_n < 1:
        raise ValueError(f"top_n must be at least 1, got {top_n}")
    diff = _objective(model, targets, distractors, pos) if targets or distractors else None
    sites = lens_sites(model.cfg)
    with torch.no_grad():
        _, cache = model.run_with_cache(ids[None], names_filter=[name for _, name in sites])
        resid = torch.stack([cache[name][0, pos] for _, name in sites])  # [site, d_model]
        # Each row is its own batch entry, so the final LayerNorm normalises it by its own scale.
        logits = model.unembed(resid[:, None])[:, 0]  # [site, d_vocab]
    return [
        LensLayer(label, _top_tokens(model, row, top_n), _difference(row, diff))
        for (label, _), row in zip(sites, logits, strict=True)
    ]


def direct_logit_attribution(
    model: Transformer,
    tokens: PromptInput,
    targets: Sequence[int | str],
    distractors: Sequence[int | str],
    position: int,
) -> list[ComponentAttribution]:
    """Each component's direct contribution to the logit difference at token `position`, final
    LayerNorm scale frozen: embed, pos_embed, then per layer its heads, the attention bias and
    the MLP output, then the constant terms ln_final_bias and unembed_bias."""
    ids = _encode(model, tokens)
    pos = resolve_position(position, ids.shape[0])
    objective = _objective(model, targets, distractors, pos)
    cfg = model.cfg
    names = [act_name("embed"), act_name("pos_embed"), act_name("final_scale")]
    for layer in range(cfg.n_layers):
        names.append(act_name("z", layer))
        if not cfg.attn_only:
            names.append(act_name("mlp_out", layer))
    with torch.no_grad():
        _, cache = model.run_with_cache(ids[None], names_filter=names)
        gradient = objective.direct_read(model, cache).gradient[0]  # [d_model]
        rows, vectors = _components(model, cache, pos)
        contributions = (torch.stack(vectors) @ gradient).tolist()
        constants = _constant_terms(model, objective)
    out = [
        ComponentAttribution(label, kind, layer, head, value)
        for (label, kind, layer, head), value in zip(rows, contributions, strict=True)
    ]
    return out + constants


Row = tuple[str, ComponentKind, int | None, int | None]


def _components(
    model: Transformer, cache: Mapping[str, Tensor], pos: int
) -> tuple[list[Row], list[Float[Tensor, " d_model"]]]:
    """The components of the final residual stream at `pos`; they sum to it exactly."""
    rows: list[Row] = [("embed", "embed", None, None), ("pos_embed", "pos_embed", None, None)]
    vectors = [cache[act_name("embed")][0, pos], cache[act_name("pos_embed")][0, pos]]
    for layer in range(model.cfg.n_layers):
        attn = block(model, layer).attn
        z = cache[act_name("z", layer)][0, pos]  # [head, d_head]
        results = torch.einsum("hd,hdm->hm", z, attn.W_O)  # [head, d_model]
        for head in range(model.cfg.n_heads):
            rows.append((f"L{layer}H{head}", "head", layer, head))
            vectors.append(results[head])
        rows.append((f"{layer}_attn_bias", "attn_bias", layer, None))
        vectors.append(attn.b_O)
        if not model.cfg.attn_only:
            rows.append((f"{layer}_mlp_out", "mlp", layer, None))
            vectors.append(cache[act_name("mlp_out", layer)][0, pos])
    return rows, vectors


def _constant_terms(model: Transformer, objective: LogitDifference) -> list[ComponentAttribution]:
    """The parts of the logit difference that no component writes: the final LayerNorm's bias
    (0 without an affine part) and the unembedding bias."""
    b = model.ln_final.b
    ln_bias = 0.0 if b is None else float(b @ objective.direction(model))
    b_U = model.b_U
    targets, distractors = list(objective.targets), list(objective.distractors)
    unembed_bias = float(b_U[targets].mean() - b_U[distractors].mean())
    return [
        ComponentAttribution("ln_final_bias", "ln_final_bias", None, None, ln_bias),
        ComponentAttribution("unembed_bias", "unembed_bias", None, None, unembed_bias),
    ]


def _encode(model: Transformer, tokens: PromptInput) -> Int[Tensor, " pos"]:
    """One prompt: text, token ids, or a [pos] (or [1, pos]) tensor of ids."""
    if isinstance(tokens, Tensor):
        if tokens.ndim == 2 and tokens.shape[0] == 1:
            tokens = tokens[0]
        if tokens.ndim != 1:
            raise ValueError(
                f"tokens must be one prompt of shape [pos] or [1, pos], got {tuple(tokens.shape)}"
            )
        return encode_prompt(model, [int(t) for t in tokens.tolist()])
    return encode_prompt(model, tokens)


def _objective(
    model: Transformer,
    targets: Sequence[int | str],
    distractors: Sequence[int | str],
    pos: int,
) -> LogitDifference:
    """Checks the tokens: each a single token, at least one of each, no overlap."""
    return LogitDifference(
        resolve_tokens(model, targets, "Target"),
        resolve_tokens(model, distractors, "Distractor"),
        pos,
    )


def _difference(logits: Float[Tensor, " d_vocab"], diff: LogitDifference | None) -> float | None:
    if diff is None:
        return None
    target = logits[list(diff.targets)].mean()
    distractor = logits[list(diff.distractors)].mean()
    return float(target - distractor)


def _top_tokens(
    model: Transformer, logits: Float[Tensor, " d_vocab"], top_n: int
) -> tuple[LensToken, ...]:
    probs = logits.double().softmax(-1)
    values, ids = logits.topk(min(top_n, logits.shape[0]))
    strings = vocabulary_strings(model, ids.tolist())
    return tuple(
        LensToken(int(i), s, float(v), float(probs[i]))
        for i, s, v in zip(ids.tolist(), strings, values.tolist(), strict=True)
    )

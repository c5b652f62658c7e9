"""Logit tables: the tokens each component's output direction promotes and suppresses.

The direct-path reading of a write direction w, as in `activations.vocab`: the final LayerNorm's
centring and weight applied, its scale left out: scores = (P w ⊙ ln_final.w) @ W_U. Directions:

    neuron   W_out[i]
    latent   its write direction per unit activation (`metrics.latent_write_directions`:
             W_dec[j], or W_dec[j] @ W_out for autoencoders on MLP neurons); none for
             autoencoders on MLP pre-activations
    head     its mean write over the collated queries (q >= 1): mean(z[q, h]) @ W_O[h], where
             z[q, h] = sum_k pattern[h, q, k] v[k, h] is the sum of the head's pair writes
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from jaxtyping import Float, Int
from torch import Tensor

from neuron_explainer.activations.metrics import latent_write_directions
from neuron_explainer.datasets.config import Group
from neuron_explainer.models.accessors import block, mlp
from neuron_explainer.models.transformer import Transformer

CHUNK = 512  # components per [chunk, d_vocab] score matrix


@dataclass(frozen=True)
class LogitTable:
    top_tokens: Int[Tensor, "c n"]
    top_values: Float[Tensor, "c n"]
    bottom_tokens: Int[Tensor, "c n"]
    bottom_values: Float[Tensor, "c n"]  # ascending: the most suppressed token first


def output_directions(
    model: Transformer, group: Group, sums: Mapping[str, Tensor]
) -> Float[Tensor, "c d_model"] | None:
    """Write directions of a group's components (latent groups need their autoencoder spliced)."""
    if group.family == "neuron":
        return mlp(model, group.layer).W_out.detach()
    if group.family == "head":
        z_mean = sums["z_sum"] / sums["z_count"].clamp(min=1)  # [head, d_head]
        W_O = block(model, group.layer).attn.W_O.detach()
        return torch.einsum("hd,hdm->hm", z_mean.to(W_O), W_O)
    return latent_write_directions(model, group.splice_site)


def logit_table(model: Transformer, directions: Float[Tensor, "c d_model"], n: int) -> LogitTable:
    ln_w = model.ln_final.w
    scale = 1.0 if ln_w is None else ln_w.detach()
    W_U = model.W_U.detach()
    n = min(n, W_U.shape[1])
    parts = []
    with torch.no_grad():
        for start in range(0, directions.shape[0], CHUNK):
            d = directions[start : start + CHUNK].to(W_U.dtype)
            scores = ((d - d.mean(-1, keepdim=True)) * scale) @ W_U  # [chunk, d_vocab]
            top = scores.topk(n, dim=-1)
            bottom = scores.topk(n, dim=-1, largest=False)
            parts.append((top.indices, top.values, bottom.indices, bottom.values))
    top_tokens, top_values, bottom_tokens, bottom_values = (
        torch.cat([p[i] for p in parts]) for i in range(4)
    )
    return LogitTable(  # on the CPU, as the rest of the store
        top_tokens.cpu(), top_values.float().cpu(), bottom_tokens.cpu(), bottom_values.float().cpu()
    )

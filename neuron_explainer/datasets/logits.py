"""Logit tables: the tokens each component's output direction promotes and suppresses.

The direct-path reading of a write direction w, as in `activations.vocab.direct_path_scores`:
the final LayerNorm's centring and weight applied, its scale left out. The directions are each
family's `output_directions`: W_out[i] for a neuron, a latent's write direction per unit
activation (none for autoencoders on MLP pre-activations), and for a head its mean write over the
collated queries, from the sums the collation kept (`families/head.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from jaxtyping import Float, Int
from torch import Tensor

from neuron_explainer.activations.families import get_family
from neuron_explainer.activations.vocab import direct_path_scores
from neuron_explainer.datasets.config import Group
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
    return get_family(group.family).output_directions(model, group.site, sums)


def logit_table(model: Transformer, directions: Float[Tensor, "c d_model"], n: int) -> LogitTable:
    n = min(n, model.cfg.d_vocab)
    parts = []
    with torch.no_grad():
        for start in range(0, directions.shape[0], CHUNK):
            scores = direct_path_scores(model, directions[start : start + CHUNK])
            top = scores.topk(n, dim=-1)
            bottom = scores.topk(n, dim=-1, largest=False)
            parts.append((top.indices, top.values, bottom.indices, bottom.values))
    top_tokens, top_values, bottom_tokens, bottom_values = (
        torch.cat([p[i] for p in parts]) for i in range(4)
    )
    return LogitTable(  # on the CPU, as the rest of the store
        top_tokens.cpu(), top_values.float().cpu(), bottom_tokens.cpu(), bottom_values.float().cpu()
    )

"""One forward pass over a batch of contexts, cut into the values of every group's measures.

Nodes and their ids (global: the same node has the same id in every shard):

    neuron, latent   one node per token; id = the token's index in the token file
    head             one node per (query, key) pair with 1 <= query and key <= query, in one
                     context; id = query's index in the token file * context_size + (query - key)

A head's query at a context's first position has a single key, itself, attended to with
probability 1 by construction, so it says nothing about the head; those pairs are no nodes.

Measures: a neuron's post-activation (`mlp.hook_post`), a latent's activation
(`hook_sae_acts_post`); a head pair's attention probability `pattern[h, q, k]` and write norm
`pattern[h, q, k] * ||v[k, h] @ W_O[h]||` (the norm of what the pair adds to the residual stream;
`W_O`'s bias belongs to no head).

Windows (per-token values around a node): `window_before` tokens before the node's token (a head
pair's query), `window_after` after, inside the node's context; positions outside it hold 0 and
are marked by token -1 in the store. For a head the window holds the query's row: the measure of
the pairs (query, t) for each token t in the window (0 for t after the query).

Heads also sum their output z[q, h] over the collated queries (q >= 1), from which the store
derives each head's mean write, z_mean @ W_O[h], for its logit table.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch
from jaxtyping import Float, Int
from torch import Tensor

from neuron_explainer.activations.metrics import block
from neuron_explainer.datasets.config import CollationConfig, Group
from neuron_explainer.datasets.examples import WindowFn
from neuron_explainer.datasets.stats import MeasureBatch
from neuron_explainer.models.transformer import Transformer


@dataclass(frozen=True)
class GroupBatch:
    ids: Int[Tensor, " n_nodes"]
    measures: dict[str, MeasureBatch]
    sums: dict[str, Tensor]  # added across batches (heads: z_sum, z_count)


def group_hook_names(group: Group) -> list[str]:
    if group.family == "head":
        prefix = group.site.removesuffix(".hook_pattern")
        return [group.site, f"{prefix}.hook_v", f"{prefix}.hook_z"]
    return [group.site]


def forward_cache(
    model: Transformer, groups: list[Group], tokens: Int[Tensor, "batch pos"]
) -> dict[str, Tensor]:
    """The activations the groups read, from a forward pass that stops before the unembedding
    (the autoencoders of latent groups spliced into `model`)."""
    names = {name for g in groups for name in group_hook_names(g)}
    with torch.no_grad():
        _, cache = model.run_with_cache(
            tokens, names_filter=lambda n: n in names, stop_at_layer=model.cfg.n_layers
        )
    return cache


def cut_groups(
    model: Transformer,
    groups: list[Group],
    cache: dict[str, Tensor],
    context_starts: Int[Tensor, " batch"],
    cfg: CollationConfig,
) -> dict[str, GroupBatch]:
    """The groups' measures from the cached activations of one batch, on the CPU (where the
    statistics are taken, whatever device ran the forward pass)."""
    cache = {name: act.cpu() for name, act in cache.items()}
    out = {}
    with torch.no_grad():
        for group in groups:
            if group.family == "head":
                out[group.key] = _head_batch(model, group, cache, context_starts, cfg)
            else:
                sparse = group.family == "latent"
                out[group.key] = _token_batch(cache[group.site], context_starts, cfg, sparse)
    return out


def _offsets(cfg: CollationConfig) -> Int[Tensor, " window"]:
    return torch.arange(-cfg.window_before, cfg.window_after + 1)


def _token_batch(
    acts: Float[Tensor, "batch pos c"],
    context_starts: Int[Tensor, " batch"],
    cfg: CollationConfig,
    sparse: bool = False,
) -> GroupBatch:
    """Per-token measures; `sparse` (latents: non-negative, mostly zero) also passes the positive
    entries, and builds the [c, n] values from them rather than by a transposing copy."""
    batch, pos, c = acts.shape
    n = batch * pos
    positive = None
    if sparse and not bool((acts < 0).any()):
        flat = acts.reshape(n, c)
        node, comp = flat.nonzero(as_tuple=True)
        vals = flat[node, comp].float()
        values = torch.zeros(c, n).index_put_((comp, node), vals)
        positive = (comp, node, vals)
    else:
        values = acts.reshape(n, c).T.float().contiguous()  # [c, n]: one row per component
    ids = (context_starts[:, None] + torch.arange(pos)).reshape(-1)
    padded: list[Tensor] = []  # made on first use: each context's values, zero-padded
    stride = pos + cfg.window - 1

    def windows(comps: Int[Tensor, " m"], nodes: Int[Tensor, " m"]) -> Float[Tensor, "m window"]:
        if not padded:
            pad = (cfg.window_before, cfg.window_after)
            padded.append(torch.nn.functional.pad(values.view(c, batch, pos), pad).view(-1))
        # Window w of position p is padded position p + w: rows of an unfold of the padding.
        context, position = nodes.div(pos, rounding_mode="floor"), nodes % pos
        starts = (comps * batch + context) * stride + position
        return padded[0].unfold(0, cfg.window, 1).index_select(0, starts)

    return GroupBatch(ids, {"activation": MeasureBatch(values, windows, positive)}, {})


@lru_cache(maxsize=8)
def head_pairs(pos: int) -> tuple[Tensor, Tensor]:
    """Query and key positions of the head nodes of one context (queries 1..pos-1)."""
    q, k = torch.tril_indices(pos, pos)
    keep = q >= 1
    return q[keep], k[keep]


@lru_cache(maxsize=8)
def _flat_pairs(pos: int) -> Tensor:
    pair_q, pair_k = head_pairs(pos)
    return pair_q * pos + pair_k


def _head_batch(
    model: Transformer,
    group: Group,
    cache: dict[str, Tensor],
    context_starts: Int[Tensor, " batch"],
    cfg: CollationConfig,
) -> GroupBatch:
    prefix = group.site.removesuffix(".hook_pattern")
    pattern = cache[group.site].float()  # [batch, head, q, k]
    v, z = cache[f"{prefix}.hook_v"].float(), cache[f"{prefix}.hook_z"].float()
    batch, heads, pos, _ = pattern.shape
    W_O = block(model, group.layer).attn.W_O.detach().float().cpu()  # [head, d_head, d_model]
    gram = W_O @ W_O.transpose(1, 2)  # ||v W_O||^2 = v G v^T, with no [.., d_model] tensor
    v_norm = torch.einsum("bkhd,hde,bkhe->hbk", v, gram, v).clamp_(min=0).sqrt_()

    pair_q, pair_k = head_pairs(pos)
    n_pairs = len(pair_q)
    flat_pairs = _flat_pairs(pos)
    attention = pattern.reshape(batch * heads, pos * pos).index_select(1, flat_pairs)
    attention = attention.view(batch, heads, n_pairs).transpose(0, 1).reshape(heads, -1)
    write_norm = attention * v_norm.index_select(2, pair_k).view(heads, batch * n_pairs)
    ids = ((context_starts[:, None] + pair_q) * pos + (pair_q - pair_k)).reshape(-1)
    flat_pattern = pattern.reshape(-1)
    flat_norm = v_norm.reshape(-1)  # [head, batch, key]

    def make_windows(with_norm: bool) -> WindowFn:
        def windows(comps: Tensor, nodes: Tensor) -> Float[Tensor, "m window"]:
            b, q = nodes // n_pairs, pair_q[nodes % n_pairs]
            where = q[:, None] + _offsets(cfg)
            inside = (where >= 0) & (where < pos)
            keys = where.clamp(0, pos - 1)
            row = ((b * heads + comps) * pos + q) * pos
            values = flat_pattern[row[:, None] + keys]
            if with_norm:
                values = values * flat_norm[((comps * batch + b) * pos)[:, None] + keys]
            return torch.where(inside, values, 0.0)

        return windows

    measures = {
        "attention": MeasureBatch(attention, make_windows(False)),
        "write_norm": MeasureBatch(write_norm, make_windows(True)),
    }
    sums = {
        "z_sum": z[:, 1:].sum((0, 1), dtype=torch.float64),  # [head, d_head]
        "z_count": torch.tensor([batch * (pos - 1)], dtype=torch.int64),
    }
    return GroupBatch(ids, measures, sums)

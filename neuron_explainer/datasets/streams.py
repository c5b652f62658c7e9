"""One forward pass over a batch of contexts, cut into the values of every group's measures.

Nodes and their ids (global: the same node has the same id in every shard):

    neuron, latent   one node per token; id = the token's index in the token file
    head             one node per (query, key) pair with 1 <= query and key <= query, in one
                     context; id = query's index in the token file * context_size + (query - key)

A head's query at a context's first position has a single key, itself, attended to with
probability 1 by construction, so it says nothing about the head; those pairs are no nodes.

Measures: a neuron's post-activation (`mlp.hook_post`), a latent's activation
(`hook_sae_acts_post`, computed here from the autoencoder's input with `encode_sparse`: the
values a spliced autoencoder gives, as an idle splice leaves the forward pass unchanged, but no
[tokens, d_sae] tensor of mostly zeros); a head pair's attention probability `pattern[h, q, k]`
and write norm `pattern[h, q, k] * ||v[k, h] @ W_O[h]||` (the norm of what the pair adds to the
residual stream; `W_O`'s bias belongs to no head).

Windows (per-token values around a node): `window_before` tokens before the node's token (a head
pair's query), `window_after` after, inside the node's context; positions outside it hold 0 and
are marked by token -1 in the store. For a head the window holds the query's row: the measure of
the pairs (query, t) for each token t in the window (0 for t after the query).

Heads also sum their output z[q, h] over the collated queries (q >= 1), from which the store
derives each head's mean write, z_mean @ W_O[h], for its logit table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import torch
from jaxtyping import Float, Int
from torch import Tensor

from neuron_explainer.activations.families import get_family
from neuron_explainer.datasets.config import CollationConfig, Group
from neuron_explainer.datasets.examples import WindowFn
from neuron_explainer.datasets.kernels import (
    entries_by_latent,
    head_pair_measures,
    top_k_rows,
)
from neuron_explainer.datasets.sparse_stats import SparseEntries
from neuron_explainer.datasets.stats import MeasureBatch
from neuron_explainer.models.sites import Site, block
from neuron_explainer.models.sparse_autoencoder import SparseAutoencoder
from neuron_explainer.models.transformer import Transformer

# Windows of at most this many (window token) lookups are read from the sparse codes; larger
# requests (a first batch fills every latent's examples) build a dense matrix.
_SPARSE_WINDOW_LOOKUPS = 1 << 22
_ENCODE_ROWS = 1024


@dataclass(frozen=True)
class LatentCodes:
    """A latent group's activations in one batch: `width` latents, of which each token has the
    listed (indices, values), all others zero (`SparseAutoencoder.encode_sparse`)."""

    indices: Int[Tensor, "batch pos w"]
    values: Float[Tensor, "batch pos w"]
    width: int

    def cpu(self) -> LatentCodes:
        return LatentCodes(self.indices.cpu(), self.values.cpu(), self.width)


@dataclass(frozen=True)
class GroupBatch:
    ids: Int[Tensor, " n_nodes"]
    measures: dict[str, MeasureBatch]
    sums: dict[str, Tensor]  # added across batches (heads: z_sum, z_count)


Cache = dict[str, "Tensor | LatentCodes"]


def group_hook_names(group: Group) -> list[str]:
    """The model's hook sites a group reads (a latent group: its autoencoder's input)."""
    return get_family(group.family).collation_hook_names(group.site)


def forward_cache(
    model: Transformer,
    groups: list[Group],
    tokens: Int[Tensor, "batch pos"],
    saes: Mapping[str, SparseAutoencoder],
) -> Cache:
    """The activations the groups read, from a forward pass that stops before the unembedding,
    with each latent group's codes from its autoencoder (`saes`, by splice site; none spliced)."""
    names = {name for g in groups for name in group_hook_names(g)}
    with torch.no_grad():
        _, acts = model.run_with_cache(
            tokens, names_filter=lambda n: n in names, stop_at_layer=model.cfg.n_layers
        )
        cache: Cache = dict(acts)
        for group in groups:
            if get_family(group.family).collation == "latents":
                site = group.splice_site
                indices, values = _encode_in_chunks(saes[site], acts[site])
                cache[group.site] = LatentCodes(indices, values, saes[site].cfg.d_sae)
    return cache


def _encode_in_chunks(
    sae: SparseAutoencoder, x: Float[Tensor, "batch pos d_in"]
) -> tuple[Int[Tensor, "batch pos w"], Float[Tensor, "batch pos w"]]:
    """`sae.encode_sparse(x)`, _ENCODE_ROWS tokens at a time: each chunk's pre-activations
    ([rows, d_sae]) stay small enough for the caches and for memory glibc reuses (about 5%
    faster for the bundled MLP autoencoders; rows are encoded independently), and on the CPU
    their top k is taken by `kernels.top_k_rows`. TopK only: other architectures' width (the
    most nonzero latents of a row) would differ between chunks."""
    if sae.activation.max_active is None:
        return sae.encode_sparse(x)
    flat = x.reshape(-1, x.shape[-1])
    parts = [
        _encode_top_k(sae, flat[i : i + _ENCODE_ROWS]) for i in range(0, len(flat), _ENCODE_ROWS)
    ]
    indices = torch.cat([p[0] for p in parts]).view(*x.shape[:-1], -1)
    values = torch.cat([p[1] for p in parts]).view(*x.shape[:-1], -1)
    return indices, values


def _encode_top_k(
    sae: SparseAutoencoder, x: Float[Tensor, "rows d_in"]
) -> tuple[Int[Tensor, "rows k"], Float[Tensor, "rows k"]]:
    if x.device.type != "cpu" or sae.W_enc.dtype != torch.float32:
        return sae.encode_sparse(x)
    k = sae.activation.max_active
    assert k is not None
    indices, values = top_k_rows(sae.encode_pre_act(x), k)
    return indices, torch.relu_(values)


def cut_groups(
    model: Transformer,
    groups: list[Group],
    cache: Cache,
    context_starts: Int[Tensor, " batch"],
    cfg: CollationConfig,
) -> dict[str, GroupBatch]:
    """The groups' measures from the cached activations of one batch, on the CPU (where the
    statistics are taken, whatever device ran the forward pass)."""
    out = {}
    with torch.no_grad():
        for group in groups:
            layout = get_family(group.family).collation
            if layout == "pairs":
                names = group_hook_names(group)
                head_acts = {name: _tensor(cache[name]).cpu() for name in names}
                out[group.key] = _head_batch(model, group, head_acts, context_starts, cfg)
            elif layout == "latents":
                codes = cache[group.site]
                assert isinstance(codes, LatentCodes)
                out[group.key] = _latent_batch(codes.cpu(), context_starts, cfg)
            else:
                acts = _tensor(cache[group.site]).cpu()
                out[group.key] = _token_batch(acts, context_starts, cfg)
    return out


def _tensor(value: Tensor | LatentCodes) -> Tensor:
    assert isinstance(value, Tensor)
    return value


def _offsets(cfg: CollationConfig) -> Int[Tensor, " window"]:
    return torch.arange(-cfg.window_before, cfg.window_after + 1)


def _token_batch(
    acts: Float[Tensor, "batch pos c"],
    context_starts: Int[Tensor, " batch"],
    cfg: CollationConfig,
) -> GroupBatch:
    """Per-token measures, one row per component."""
    batch, pos, c = acts.shape
    values = acts.reshape(batch * pos, c).T.float().contiguous()  # [c, n]
    windows = _dense_windows(values, batch, pos, cfg)
    return GroupBatch(
        _token_ids(context_starts, pos), {"activation": MeasureBatch(values, windows)}, {}
    )


def _token_ids(context_starts: Int[Tensor, " batch"], pos: int) -> Int[Tensor, " n"]:
    return (context_starts[:, None] + torch.arange(pos)).reshape(-1)


def _token_windows(
    read: Callable[[Tensor], Tensor], n: int, pos: int, cfg: CollationConfig
) -> WindowFn:
    """Windows of a per-token measure of n tokens in contexts of `pos`, where `read` gives the
    values at flat indices component * n + token (0 outside the node's context)."""

    def windows(comps: Int[Tensor, " m"], nodes: Int[Tensor, " m"]) -> Float[Tensor, "m window"]:
        position = nodes % pos
        where = position[:, None] + _offsets(cfg)
        inside = (where >= 0) & (where < pos)
        at = (comps * n + nodes - position)[:, None] + where.clamp(0, pos - 1)
        return torch.where(inside, read(at), 0.0)

    return windows


def _dense_windows(
    values: Float[Tensor, "c n"], batch: int, pos: int, cfg: CollationConfig
) -> WindowFn:
    """Windows of per-token values [c, batch * pos], read in place."""
    flat = values.reshape(-1)
    return _token_windows(lambda at: flat[at], values.shape[1], pos, cfg)


def _latent_batch(
    codes: LatentCodes, context_starts: Int[Tensor, " batch"], cfg: CollationConfig
) -> GroupBatch:
    """A latent group's measure as its positive entries (`sparse_stats`), looked up in the
    codes: a (latent, token) value is the token's listed value for that latent, or 0, found by
    a binary search of the entries' (latent, token) keys."""
    batch, pos, w = codes.indices.shape
    n, c = batch * pos, codes.width
    index = codes.indices.reshape(n, w)
    value = codes.values.reshape(n, w).float()
    if not bool(value.isfinite().all()):
        raise ValueError("Activations are not all finite (NaN or inf in the forward pass)")
    if bool((value < 0).any()):
        raise ValueError("Autoencoder latents must be non-negative")
    rows, cols, vals = entries_by_latent(index, value, c)  # by latent, tokens ascending
    entry_keys = rows * n + cols
    last = max(len(vals) - 1, 0)
    found_vals = torch.cat([vals, vals.new_zeros(1)])  # position len(vals): not found

    def lookup(keys: Int[Tensor, "*shape"]) -> Float[Tensor, "*shape"]:
        at = torch.searchsorted(entry_keys, keys).clamp_(max=last)
        hit = entry_keys[at] == keys if len(vals) else torch.zeros_like(keys, dtype=torch.bool)
        return found_vals[torch.where(hit, at, len(vals))]

    def value_at(comps: Int[Tensor, " m"], nodes: Int[Tensor, " m"]) -> Float[Tensor, " m"]:
        return lookup(comps * n + nodes)

    sparse_windows = _token_windows(lookup, n, pos, cfg)
    dense: list[WindowFn] = []  # made on first use by a large request

    def windows(comps: Int[Tensor, " m"], nodes: Int[Tensor, " m"]) -> Float[Tensor, "m window"]:
        if len(nodes) * cfg.window <= _SPARSE_WINDOW_LOOKUPS:
            return sparse_windows(comps, nodes)
        if not dense:
            values = torch.zeros(c, n).index_put_((rows, cols), vals)
            dense.append(_dense_windows(values, batch, pos, cfg))
        return dense[0](comps, nodes)

    entries = SparseEntries(rows, cols, vals, (c, n), value_at)
    measure = MeasureBatch(None, windows, entries)
    return GroupBatch(_token_ids(context_starts, pos), {"activation": measure}, {})


@lru_cache(maxsize=8)
def head_pairs(pos: int) -> tuple[Tensor, Tensor]:
    """Query and key positions of the head nodes of one context (queries 1..pos-1)."""
    q, k = torch.tril_indices(pos, pos)
    keep = q >= 1
    return q[keep], k[keep]


def _head_batch(
    model: Transformer,
    group: Group,
    cache: dict[str, Tensor],
    context_starts: Int[Tensor, " batch"],
    cfg: CollationConfig,
) -> GroupBatch:
    site = Site.parse(group.site)
    pattern = cache[group.site].float()  # [batch, head, q, k]
    v, z = cache[site.sibling("v").name].float(), cache[site.sibling("z").name].float()
    batch, heads, pos, _ = pattern.shape
    W_O = block(model, group.layer).attn.W_O.detach().float().cpu()  # [head, d_head, d_model]
    gram = W_O @ W_O.transpose(1, 2)  # ||v W_O||^2 = v G v^T, with no [.., d_model] tensor
    v_norm = torch.einsum("bkhd,hde,bkhe->hbk", v, gram, v).clamp_(min=0).sqrt_()

    pair_q, pair_k = head_pairs(pos)
    n_pairs = len(pair_q)
    attention, write_norm = head_pair_measures(pattern, v_norm)
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

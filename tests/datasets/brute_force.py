"""Every node's value and window, computed directly from a cached forward pass in float64."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from neuron_explainer.datasets import CollationConfig
from neuron_explainer.models.sae_splice import splice_saes
from neuron_explainer.models.sparse_autoencoder import SparseAutoencoder
from neuron_explainer.models.transformer import Transformer

CACHED = ("mlp.hook_post", "hook_pattern", "hook_v", "hook_z", "hook_sae_acts_post")


def CACHED_FILTER(name: str) -> bool:
    return name.endswith(CACHED)


@dataclass
class Nodes:
    ids: np.ndarray  # [n]
    values: np.ndarray  # [c, n] float64
    windows: np.ndarray  # [c, n, window] float64


def brute_force(
    model: Transformer,
    saes: dict[str, SparseAutoencoder],
    tokens: np.ndarray,
    n_contexts: int,
    cfg: CollationConfig,
) -> dict[tuple[str, str], Nodes]:
    """{(group key, measure): Nodes}, nodes in (context, position) or (context, query, key)
    order. Runs the collation's batches, so that activations match bit for bit."""
    size = cfg.context_size
    assert size is not None
    caches: list[dict[str, torch.Tensor]] = []
    with splice_saes(model, saes), torch.no_grad():
        for first in range(0, n_contexts, cfg.batch_contexts):
            starts = range(first, min(first + cfg.batch_contexts, n_contexts))
            batch = np.stack([tokens[s * size : (s + 1) * size] for s in starts]).astype(np.int64)
            # The collation's hook sites only: others (LayerNorm's) change the float rounding.
            caches.append(
                model.run_with_cache(torch.from_numpy(batch), names_filter=CACHED_FILTER)[1]
            )
    cache = {k: torch.cat([c[k] for c in caches]).double().numpy() for k in caches[0]}
    offsets = np.arange(-cfg.window_before, cfg.window_after + 1)
    out = {}
    token_sites = [f"blocks.{L}.mlp.hook_post" for L in range(model.cfg.n_layers)]
    keys = ["neuron/" + s for s in token_sites]
    for site in saes:
        token_sites.append(f"{site}.hook_sae_acts_post")
        keys.append(f"latent/{site}.hook_sae_acts_post")
    for key, site in zip(keys, token_sites, strict=True):
        acts = cache[site]  # [ctx, pos, c]
        ids = np.arange(n_contexts * size)
        values = acts.reshape(-1, acts.shape[-1]).T
        pos = np.arange(size)[:, None] + offsets  # [pos, window]
        inside = (pos >= 0) & (pos < size)
        win = np.where(inside[None, :, :, None], acts[:, np.clip(pos, 0, size - 1)], 0.0)
        windows = win.transpose(3, 0, 1, 2).reshape(acts.shape[-1], -1, len(offsets))
        out[key, "activation"] = Nodes(ids, values, windows)
    for layer in range(model.cfg.n_layers):
        pattern = cache[f"blocks.{layer}.attn.hook_pattern"]  # [ctx, head, q, k]
        v = cache[f"blocks.{layer}.attn.hook_v"]  # [ctx, k, head, d_head]
        W_O = model.blocks[layer].attn.W_O.detach().double().numpy()
        v_norm = np.linalg.norm(np.einsum("ckhd,hdm->chkm", v, W_O), axis=-1)  # [ctx, head, k]
        norm = pattern * v_norm[:, :, None, :]
        q, k = np.tril_indices(size)
        keep = q >= 1
        q, k = q[keep], k[keep]
        ctx = np.arange(n_contexts)[:, None]
        ids = ((ctx * size + q) * size + (q - k)).reshape(-1)
        t = q[:, None] + offsets
        inside = (t >= 0) & (t < size)
        for measure, full in (("attention", pattern), ("write_norm", norm)):
            values = full[:, :, q, k].transpose(1, 0, 2).reshape(full.shape[1], -1)
            win = np.where(inside, full[:, :, q[:, None], np.clip(t, 0, size - 1)], 0.0)
            windows = win.transpose(1, 0, 2, 3).reshape(full.shape[1], -1, len(offsets))
            out[f"head/blocks.{layer}.attn.hook_pattern", measure] = Nodes(ids, values, windows)
    return out

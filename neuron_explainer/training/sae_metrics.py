"""Metrics of a sparse autoencoder at a hook site, as SAELens (`sae_lens/evals.py`) defines them.

Over N tokens with activations x_t, latents f_t and reconstructions x̂_t (in d_in dimensions):

- l0 = mean_t #{j : f_tj != 0}
- mse = mean_t ||x_t - x̂_t||²  (summed over dimensions, averaged over tokens)
- explained_variance = 1 - mse / (mean_t ||x_t||² - ||mean_t x_t||²): one R² over all N tokens,
  SAELens's current `explained_variance` (its `ExplainedVarianceCalculator`, streamed over batches
  in float64; 1 when the variance and mse are both < 1e-10, 0 when only the variance is).
- explained_variance_legacy = mean_t [1 - ||x_t - x̂_t||² / ||x_t - mean_B x||²] with the mean over
  the token's batch B: SAELens's older per-token formula, kept for comparison with old reports.
- With next-token cross-entropies averaged over tokens (the last position of a window predicts
  nothing): CE_clean (the model as is), CE_sae (the site's activation replaced by x̂: the splice
  without error term), CE_zero (the site's activation replaced by zeros),
  ce_loss_score = (CE_zero - CE_sae) / (CE_zero - CE_clean), the fraction of CE loss recovered:
  1 for a perfect autoencoder, 0 for one no better than zero ablation.
- With KL(p || q) = sum_v p_v (log p_v - log q_v) per position (every position), averaged:
  kl_div_score = (KL(clean||zero) - KL(clean||sae)) / KL(clean||zero) = 1 - KL_sae / KL_zero.
- feature_density_j = fraction of tokens on which latent j is non-zero; dead latents never fire
  (density 0) and dense latents fire on more than `dense_threshold` (default 10%: SAELens names no
  threshold; 10% is the usual cut) of tokens.
- The density histogram counts log10(density + 1e-10) (SAELens's `log_feature_sparsity`) in equal
  bins over [-10, 0]; dead latents land at -10, in the first bin.
Scores whose denominator is 0 are reported as None (JSON null).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from jaxtyping import Float, Int
from torch import Tensor

from neuron_explainer.models.hooks import HookPoint
from neuron_explainer.models.sae_splice import site_width, splice_saes
from neuron_explainer.models.sites import layer_of
from neuron_explainer.models.sparse_autoencoder import SparseAutoencoder
from neuron_explainer.models.token_files import open_tokens
from neuron_explainer.models.transformer import Transformer

DENSE_THRESHOLD = 0.1
LOG_DENSITY_EPS = 1e-10  # SAELens's epsilon in log10(density + eps)
HISTOGRAM_BINS = 50  # 0.2 decades each over [-10, 0]
CE_RUNS = ("clean", "sae", "zero")  # as is, site replaced by x_hat, site zeroed


def l0(latents: Float[Tensor, "*batch d_sae"]) -> float:
    """Mean number of non-zero latents per token."""
    return float((latents != 0).sum(-1).double().mean())


def mse(x_hat: Float[Tensor, "*batch d_in"], x: Float[Tensor, "*batch d_in"]) -> float:
    """Squared error summed over d_in, averaged over tokens."""
    return float((x - x_hat).double().pow(2).sum(-1).mean())


class ExplainedVariance:
    """Streaming R² over all tokens added (SAELens's `ExplainedVarianceCalculator`), and the
    per-token legacy variant with per-batch means."""

    def __init__(self) -> None:
        self.sum_x: Tensor | None = None
        self.sum_squared_norm = 0.0
        self.sum_squared_error = 0.0
        self.sum_legacy = 0.0
        self.n = 0

    def add(self, x_hat: Float[Tensor, "token d_in"], x: Float[Tensor, "token d_in"]) -> None:
        x, x_hat = x.double(), x_hat.double()
        batch_sum = x.sum(0).cpu()
        self.sum_x = batch_sum if self.sum_x is None else self.sum_x + batch_sum
        self.sum_squared_norm += float(x.pow(2).sum())
        error = (x - x_hat).pow(2).sum(-1)
        self.sum_squared_error += float(error.sum())
        self.sum_legacy += float((1 - error / (x - x.mean(0)).pow(2).sum(-1)).sum())
        self.n += len(x)

    def compute(self) -> float:
        if self.n == 0 or self.sum_x is None:
            return 0.0
        variance = self.sum_squared_norm / self.n - float((self.sum_x / self.n).pow(2).sum())
        error = self.sum_squared_error / self.n
        if variance < 1e-10:
            return 1.0 if error < 1e-10 else 0.0
        return 1.0 - error / variance

    def compute_legacy(self) -> float:
        return self.sum_legacy / self.n if self.n else 0.0


def ce_per_token(
    logits: Float[Tensor, "batch pos d_vocab"], tokens: Int[Tensor, "batch pos"]
) -> Float[Tensor, "batch pos_minus_1"]:
    """Next-token cross-entropy (nats) at every position but the last."""
    log_probs = F.log_softmax(logits[:, :-1].double(), dim=-1)
    return -log_probs.gather(-1, tokens[:, 1:, None]).squeeze(-1)


def kl_per_token(
    clean_logits: Float[Tensor, "*batch d_vocab"], new_logits: Float[Tensor, "*batch d_vocab"]
) -> Float[Tensor, "*batch"]:
    """KL(clean || new) in nats at each position."""
    log_p = F.log_softmax(clean_logits.double(), dim=-1)
    log_q = F.log_softmax(new_logits.double(), dim=-1)
    return (log_p.exp() * (log_p - log_q)).sum(-1)


def ce_loss_score(
    ce_clean: float | None, ce_sae: float | None, ce_zero: float | None
) -> float | None:
    """(CE_zero - CE_sae) / (CE_zero - CE_clean): the fraction of CE loss recovered."""
    if ce_clean is None or ce_sae is None or ce_zero is None or ce_zero == ce_clean:
        return None
    return (ce_zero - ce_sae) / (ce_zero - ce_clean)


def kl_div_score(kl_sae: float | None, kl_zero: float | None) -> float | None:
    """1 - KL(clean||sae) / KL(clean||zero)."""
    if kl_sae is None or kl_zero is None or kl_zero == 0:
        return None
    return (kl_zero - kl_sae) / kl_zero


def density_metrics(
    fire_counts: Float[Tensor, " d_sae"],
    n_tokens: int,
    dense_threshold: float = DENSE_THRESHOLD,
    bins: int = HISTOGRAM_BINS,
) -> dict[str, Any]:
    """Dead and dense fractions, per-latent densities and their log10 histogram."""
    density = fire_counts.double().cpu() / n_tokens
    log_density = torch.log10(density + LOG_DENSITY_EPS).clamp(-10.0, 0.0).numpy()
    counts, edges = np.histogram(log_density, bins=bins, range=(-10.0, 0.0))
    dead, dense = int((density == 0).sum()), int((density > dense_threshold).sum())
    return {
        "dead_fraction": dead / len(density),
        "dense_fraction": dense / len(density),
        "n_dead": dead,
        "n_dense": dense,
        "dense_threshold": dense_threshold,
        "feature_density": density.tolist(),
        "log10_density_histogram": {"bin_edges": edges.tolist(), "counts": counts.tolist()},
    }


@torch.no_grad()
def evaluate_sae(
    model: Transformer,
    sae: SparseAutoencoder,
    site: str,
    tokens_u16_path: str | Path,
    n_tokens: int,
    ce_tokens: int | None = None,
    context_size: int | None = None,
    windows_per_forward: int = 8,
    dense_threshold: float = DENSE_THRESHOLD,
) -> dict[str, Any]:
    """Metrics of `sae` at `site` over the first `n_tokens` tokens of a flat uint16 file (read as
    consecutive windows of `context_size`, by default the model's n_ctx; rounded up to whole
    windows). CE and KL use the first `ce_tokens` of them (default all): three full forwards
    per window, where the other metrics need a forward only through the site's block.
    The autoencoder must read raw activations (its input scaling folded, see `sae_io`)."""
    if sae.cfg.normalize_activations != "none":
        raise ValueError("Fold the autoencoder's input scaling into its weights before evaluating")
    if sae.cfg.d_in != site_width(model, site):
        raise ValueError(f"Autoencoder d_in={sae.cfg.d_in} does not match {site}")
    ctx = context_size or model.cfg.n_ctx
    n_windows = math.ceil(n_tokens / ctx)
    ce_windows = n_windows if ce_tokens is None else min(n_windows, math.ceil(ce_tokens / ctx))
    tokens = open_tokens(tokens_u16_path, ctx, model.cfg.d_vocab)
    if n_windows * ctx > len(tokens):
        raise ValueError(
            f"{tokens_u16_path} has {len(tokens)} tokens, fewer than {n_windows * ctx}"
        )

    def zero_ablate(x: Tensor, hook: HookPoint) -> Tensor:
        return torch.zeros_like(x)

    ev = ExplainedVariance()
    fire_counts = torch.zeros(sae.cfg.d_sae, dtype=torch.float64, device=sae.device)
    sums = dict.fromkeys(("l0", "ce_clean", "ce_sae", "ce_zero", "kl_sae", "kl_zero"), 0.0)
    n_ce, n_kl = 0, 0
    for first in range(0, n_windows, windows_per_forward):
        rows = range(first, min(first + windows_per_forward, n_windows))
        ids = np.stack([tokens[w * ctx : (w + 1) * ctx] for w in rows]).astype(np.int64)
        batch = torch.from_numpy(ids).to(model.device)
        with_ce = first < ce_windows and ctx > 1
        stop_at = None if with_ce else layer_of(site) + 1
        logits, cache = model.run_with_cache(batch, names_filter=site, stop_at_layer=stop_at)
        x = cache[site].reshape(-1, sae.cfg.d_in)  # [window * pos, d_in]
        latents = sae.encode(x)
        ev.add(sae.decode(latents), x)
        sums["l0"] += l0(latents) * len(x)
        fire_counts += (latents != 0).sum(0)
        if with_ce:
            with splice_saes(model, {site: sae}, use_error_term=False):
                sae_logits = model(batch)
            zero_logits = model.run_with_hooks(batch, fwd_hooks=[(site, zero_ablate)])
            for name, out in zip(CE_RUNS, (logits, sae_logits, zero_logits), strict=True):
                sums[f"ce_{name}"] += float(ce_per_token(out, batch).sum())
            sums["kl_sae"] += float(kl_per_token(logits, sae_logits).sum())
            sums["kl_zero"] += float(kl_per_token(logits, zero_logits).sum())
            n_ce += batch.numel() - len(batch)
            n_kl += batch.numel()

    n = n_windows * ctx
    ce_clean, ce_sae, ce_zero = (sums[f"ce_{k}"] / n_ce if n_ce else None for k in CE_RUNS)
    kl_sae, kl_zero = (sums[f"kl_{k}"] / n_kl if n_kl else None for k in ("sae", "zero"))
    return {
        "site": site,
        "architecture": sae.cfg.architecture,
        "d_in": sae.cfg.d_in,
        "d_sae": sae.cfg.d_sae,
        "n_tokens": n,
        "ce_tokens": n_kl,
        "context_size": ctx,
        "l0": sums["l0"] / n,
        "mse": ev.sum_squared_error / n,
        "explained_variance": ev.compute(),
        "explained_variance_legacy": ev.compute_legacy(),
        "ce_loss_without_sae": ce_clean,
        "ce_loss_with_sae": ce_sae,
        "ce_loss_with_ablation": ce_zero,
        "ce_loss_score": ce_loss_score(ce_clean, ce_sae, ce_zero),
        "kl_div_with_sae": kl_sae,
        "kl_div_with_ablation": kl_zero,
        "kl_div_score": kl_div_score(kl_sae, kl_zero),
        **density_metrics(fire_counts, n, dense_threshold),
    }

"""Train a sparse autoencoder on a model's activations (`tdb train-sae`).

Activations come from an `ActivationSource` through a `ShuffleBuffer` (`sae_activations`): batch
`s` is a function of `s` alone, so a resumed run sees the batches of an uninterrupted one.

Training, following SAELens and Gao et al. (2024):
- `normalize_activations="expected_average_only_in"` multiplies inputs by a constant so that
  E||x|| = sqrt(d_in), estimated on the first buffer; the final autoencoder has the factor folded
  into its weights (`sae_io.fold_norm_scaling_factor`) and reads raw activations.
- b_dec starts at the geometric median (or mean) of the first buffer.
- Adam; linear warm-up, constant rate, linear decay to zero over the last `lr_decay_fraction`
  of the steps; gradients clipped to norm 1; the L1 / L0 coefficient ramps up over the first
  `sparsity_warmup_fraction` of the steps.
- Decoder rows stay at unit norm: before each step the gradient's component along each row is
  removed, after it the rows are renormalised.
- A latent is dead once it has not fired for `dead_window_tokens` tokens; TopK's AuxK loss asks
  the dead latents to reconstruct the error.
Losses (`sae_losses`): mean squared error summed over d_in, plus, per architecture
(`SPARSITY_LOSSES`): ReLU, L1 weighted by decoder norms; TopK, AuxK; JumpReLU, L0.

Checkpoints (`out_dir/checkpoint/`): autoencoder, optimizer, dead-latent counters as safetensors,
progress and config as JSON, never pickle. The autoencoder goes to `out_dir/final/` in SAELens's
layout, with `training_summary.json`.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from jaxtyping import Bool, Float
from torch import Tensor
from tqdm import tqdm

from neuron_explainer.models.loading import load_model
from neuron_explainer.models.sae_io import fold_norm_scaling_factor, save_sae
from neuron_explainer.models.sae_losses import (
    auxk_loss,
    jumprelu_l0,
    l1_penalty,
    reconstruction_loss,
)
from neuron_explainer.models.sparse_autoencoder import JumpReLU, SparseAutoencoder
from neuron_explainer.models.token_files import open_tokens
from neuron_explainer.training.sae_activations import (
    ActivationSource,
    ModelActivationSource,
    ShuffleBuffer,
)
from neuron_explainer.training.sae_checkpoints import (
    DeadLatentTracker,
    SaeProgress,
    load_checkpoint,
    save_checkpoint,
)
from neuron_explainer.training.sae_config import B_DEC_INITS, SaeTrainConfig
from neuron_explainer.training.sae_sparse_step import topk_forward
from neuron_explainer.training.train_model import available_cpus, describe_hardware, pick_device

LOG_INTERVAL = 10  # steps between progress updates (each reads the metrics off the device)
LOGGED = ("mse", "l0", "dead_fraction")  # shown on the progress bar


def lr_at(step: int, cfg: SaeTrainConfig) -> float:
    """Learning rate of update `step` (0-based)."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    decay_steps = cfg.total_steps * cfg.lr_decay_fraction
    remaining = cfg.total_steps - step
    return cfg.lr * min(1.0, remaining / decay_steps) if decay_steps > 0 else cfg.lr


def sparsity_scale(step: int, cfg: SaeTrainConfig) -> float:
    """Multiplier of the L1 / L0 coefficient at update `step`: ramps linearly up to 1."""
    ramp = math.ceil(cfg.total_steps * cfg.sparsity_warmup_fraction)
    return min(1.0, (step + 1) / ramp) if ramp > 0 else 1.0


# ---- initialisation, losses, constraint ---------------------------------------------------------


@dataclass
class StepTensors:
    """What a sparsity loss may read: one step's tensors (scaled inputs), the latents that were
    dead before it, and the warm-up scale of the sparsity coefficient. The latents are dense
    (`latents`), or, from the sparse TopK step, the k chosen per token (`indices`, `values`)."""

    x: Tensor  # [batch, d_in]
    pre: Tensor  # [batch, d_sae]
    latents: Tensor | None  # [batch, d_sae]
    x_hat: Tensor  # [batch, d_in]
    dead: Tensor  # [d_sae], bool
    sparsity_scale: float
    indices: Tensor | None = None  # [batch, k]
    values: Tensor | None = None  # [batch, k], >= 0

    def dense_latents(self) -> Float[Tensor, "batch d_sae"]:
        if self.latents is not None:
            return self.latents
        assert self.indices is not None and self.values is not None
        return torch.zeros_like(self.pre).scatter_(-1, self.indices, self.values)

    def fired(self) -> Bool[Tensor, " d_sae"]:
        """Latents non-zero on some token of the batch."""
        if self.latents is not None:
            return (self.latents != 0).any(0)
        assert self.indices is not None and self.values is not None
        fired = torch.zeros(self.pre.shape[-1], dtype=torch.bool, device=self.pre.device)
        return fired.index_fill_(0, self.indices[self.values > 0], True)

    def n_active(self) -> Tensor:
        """Non-zero latents over the batch (the sum of the tokens' L0)."""
        if self.latents is not None:
            return (self.latents != 0).sum()
        assert self.values is not None
        return (self.values > 0).sum()


SparsityLoss = Callable[[SparseAutoencoder, StepTensors, SaeTrainConfig], Tensor]


def _l1_loss(sae: SparseAutoencoder, t: StepTensors, cfg: SaeTrainConfig) -> Tensor:
    return t.sparsity_scale * cfg.l1_coefficient * l1_penalty(t.dense_latents(), sae.W_dec)


def _auxk_loss(sae: SparseAutoencoder, t: StepTensors, cfg: SaeTrainConfig) -> Tensor:
    # Not warmed up: it acts only on latents that have been dead for a whole window.
    return cfg.aux_coefficient * auxk_loss(t.pre, t.x - t.x_hat, sae.W_dec, t.dead, cfg.k_aux)


def _l0_loss(sae: SparseAutoencoder, t: StepTensors, cfg: SaeTrainConfig) -> Tensor:
    assert isinstance(sae.activation, JumpReLU)  # SaeConfig ties the architecture to it
    l0 = jumprelu_l0(t.pre, sae.activation.threshold, sae.cfg.jumprelu_bandwidth)
    return t.sparsity_scale * cfg.l0_coefficient * l0


# By the architecture's `sparsity` (`SaeActivation.sparsity`).
SPARSITY_LOSSES: dict[str, SparsityLoss] = {
    "l1": _l1_loss,
    "auxk": _auxk_loss,
    "l0": _l0_loss,
}


@torch.no_grad()
def remove_parallel_gradient(W_dec: Float[Tensor, "d_sae d_in"]) -> None:
    """Project the gradient of each unit-norm row onto the row's tangent space."""
    if W_dec.grad is not None:
        W_dec.grad -= (W_dec.grad * W_dec).sum(-1, keepdim=True) * W_dec


@torch.no_grad()
def normalize_decoder_rows(W_dec: Float[Tensor, "d_sae d_in"]) -> None:
    W_dec /= W_dec.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def dense_loss(
    sae: SparseAutoencoder,
    x: Float[Tensor, "batch d_in"],
    dead: Bool[Tensor, " d_sae"],
    step: int,
    cfg: SaeTrainConfig,
) -> tuple[StepTensors, Tensor]:
    """The step's tensors and loss through the autoencoder's own (dense) forward."""
    pre = sae.encode_pre_act(x)
    latents = sae.activate(pre)
    t = StepTensors(x, pre, latents, sae.decode(latents), dead, sparsity_scale(step, cfg))
    loss = reconstruction_loss(t.x_hat, x) + SPARSITY_LOSSES[sae.activation.sparsity](sae, t, cfg)
    return t, loss


def train_step(
    sae: SparseAutoencoder,
    optimizer: torch.optim.Optimizer,
    x: Float[Tensor, "batch d_in"],
    dead: Bool[Tensor, " d_sae"],
    step: int,
    cfg: SaeTrainConfig,
    dense: bool = False,
) -> StepTensors:
    """One Adam update on a batch of (scaled) inputs; returns its tensors, detached. TopK takes
    the sparse path (`sae_sparse_step`, same gradients, fewer products), the rest `dense_loss`."""
    for group in optimizer.param_groups:
        group["lr"] = lr_at(step, cfg)
    if sae.activation.sparse_training and not dense:
        out = topk_forward(sae, x, dead, cfg.k_aux)
        t = StepTensors(x, out.pre, None, out.x_hat, dead, sparsity_scale(step, cfg))
        t.indices, t.values = out.indices, out.values
        loss = out.reconstruction + cfg.aux_coefficient * out.auxk
    else:
        t, loss = dense_loss(sae, x, dead, step, cfg)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if cfg.unit_norm_decoder:
        remove_parallel_gradient(sae.W_dec)
    torch.nn.utils.clip_grad_norm_(sae.parameters(), cfg.grad_clip)
    optimizer.step()
    if cfg.unit_norm_decoder:
        normalize_decoder_rows(sae.W_dec)
    t.pre, t.x_hat = t.pre.detach(), t.x_hat.detach()
    t.latents = None if t.latents is None else t.latents.detach()
    return t


# ---- checkpoints ---------------------------------------------------------------------------------


@torch.no_grad()
def _initialise(sae: SparseAutoencoder, first: Tensor, cfg: SaeTrainConfig) -> float:
    """Set b_dec from the first buffer; return the input scaling factor."""
    factor = 1.0
    if sae.cfg.normalize_activations == "expected_average_only_in":
        factor = math.sqrt(sae.cfg.d_in) / float(first.norm(dim=-1).mean())
    sae.b_dec.copy_(B_DEC_INITS[cfg.b_dec_init](first * factor))
    return factor


# ---- the loop -----------------------------------------------------------------------------------


def train_sae(
    cfg: SaeTrainConfig,
    model_name_or_path: str | Path,
    tokens_u16_path: str | Path,
    out_dir: str | Path,
    resume: bool = True,
    progress: bool = True,
    *,
    stop_at_step: int | None = None,
) -> dict[str, Any]:
    """Train on a model's (registry name or directory) activations at `cfg.site`, streamed over
    a flat uint16 token file; see `train_sae_on_source`."""
    model = load_model(model_name_or_path, device=pick_device(cfg.device))
    ctx = cfg.context_size or model.cfg.n_ctx
    tokens = open_tokens(tokens_u16_path, ctx, model.cfg.d_vocab)
    source = ModelActivationSource(model, cfg.site, tokens, ctx, cfg.windows_per_forward, cfg.seed)
    name = str(model_name_or_path)
    return train_sae_on_source(cfg, source, out_dir, resume, progress, name, stop_at_step)


def train_sae_on_source(
    cfg: SaeTrainConfig,
    source: ActivationSource,
    out_dir: str | Path,
    resume: bool = True,
    progress: bool = True,
    model_name: str | None = None,
    stop_at_step: int | None = None,
) -> dict[str, Any]:
    """Train, checkpointing to `out_dir/checkpoint/`; once the last step is done, write the
    autoencoder (reading raw activations) to `out_dir/final/`. With `resume`, continue from the
    checkpoint (made with an equal config) to the same weights an uninterrupted run reaches;
    `stop_at_step` ends the session there, with a checkpoint. Returns the summary.

    On the CPU, call `torch.set_flush_denormal(True)` first, as `tdb` does: denormal floats make
    steps many times slower. It is the caller's, as it changes every later float operation of
    the thread."""
    device = pick_device(cfg.device)
    previous_threads = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(cfg.num_threads or available_cpus())
    try:
        last_step = min(stop_at_step or cfg.total_steps, cfg.total_steps)
        return _train(cfg, source, device, Path(out_dir), resume, progress, model_name, last_step)
    finally:
        torch.set_num_threads(previous_threads)


def _train(
    cfg: SaeTrainConfig,
    source: ActivationSource,
    device: torch.device,
    out: Path,
    resume: bool,
    progress: bool,
    model_name: str | None,
    last_step: int,
) -> dict[str, Any]:
    session_start = time.perf_counter()
    if source.d_in != cfg.sae.d_in:
        raise ValueError(f"Source has width {source.d_in}, the autoencoder d_in={cfg.sae.d_in}")
    sae_cfg = cfg.sae.replace(hook_name=cfg.site, hook_layer=cfg.layer, device=str(device))
    torch.manual_seed(cfg.seed)
    sae = SparseAutoencoder(sae_cfg.replace(model_name=model_name or sae_cfg.model_name))
    optimizer = torch.optim.Adam(sae.parameters(), lr=cfg.lr, foreach=True)
    tracker = DeadLatentTracker(sae_cfg.d_sae, cfg.dead_window_tokens, device)
    buffer = ShuffleBuffer(source, cfg.batch_size, cfg.buffer_tokens, cfg.seed)
    checkpoint = out / "checkpoint"
    prog = load_checkpoint(checkpoint, cfg, sae, optimizer, tracker) if resume else None
    if prog is None:
        prog = SaeProgress(norm_scaling_factor=_initialise(sae, buffer.buffer(0).to(device), cfg))

    bar = tqdm(total=cfg.total_steps, initial=prog.step, unit="step", disable=not progress)
    session_tokens, session_time = 0, 0.0
    sums = torch.zeros(4, device=device, dtype=torch.float64)  # error, variance, l0, tokens
    while prog.step < last_step:
        step_start = time.perf_counter()
        x = buffer.batch(prog.step).to(device, sae.dtype) * prog.norm_scaling_factor
        t = train_step(sae, optimizer, x, tracker.dead(), prog.step, cfg)
        tracker.update(t.fired(), len(x))
        with torch.no_grad():
            error, variance = (t.x_hat - x).pow(2).sum(), (x - x.mean(0)).pow(2).sum()
            l0, n = t.n_active().to(x.dtype), x.new_tensor(len(x))
            sums += torch.stack([error, variance, l0, n]).double()
        prog.step += 1
        if device.type == "cuda" and prog.step % LOG_INTERVAL == 0:
            torch.cuda.synchronize(device)  # so that the step times add up to the real time
        elapsed = time.perf_counter() - step_start
        session_time += elapsed
        prog.train_time_s += elapsed
        session_tokens += len(x)
        bar.update(1)

        done = prog.step == last_step
        if prog.step % LOG_INTERVAL == 0 or done:
            error_sum, variance_sum, l0_sum, n_sum = sums.tolist()
            sums.zero_()
            entry = {
                "step": prog.step,
                "mse": error_sum / n_sum,
                "l0": l0_sum / n_sum,
                "explained_variance": 1 - error_sum / max(variance_sum, 1e-12),
                "dead_fraction": float(tracker.dead().float().mean()),
            }
            prog.logs.append(entry)
            tok_s = f"{session_tokens / session_time:,.0f}"
            bar.set_postfix(tok_s=tok_s, **{k: f"{entry[k]:.4g}" for k in LOGGED})
        if prog.step % cfg.checkpoint_interval == 0 or done:
            prog.wall_time_s += time.perf_counter() - session_start
            session_start = time.perf_counter()
            save_checkpoint(checkpoint, cfg, prog, sae, optimizer, tracker)
    bar.close()
    summary = _summary(cfg, prog, device, session_tokens / max(session_time, 1e-9))
    if summary["finished"]:
        final = copy.deepcopy(sae)
        if sae_cfg.normalize_activations == "expected_average_only_in":
            fold_norm_scaling_factor(final, prog.norm_scaling_factor)
        save_sae(final, out / "final")
        (out / "final" / "training_summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def _summary(
    cfg: SaeTrainConfig, prog: SaeProgress, device: torch.device, session_tok_s: float
) -> dict[str, Any]:
    last = prog.logs[-1] if prog.logs else {}
    return {
        "finished": prog.step == cfg.total_steps,
        "steps": prog.step,
        "tokens": prog.step * cfg.batch_size,
        # Of the (scaled) training inputs, over the last logging interval.
        **{f"final_{k}": last.get(k) for k in ("mse", "l0", "explained_variance", "dead_fraction")},
        "norm_scaling_factor": prog.norm_scaling_factor,
        "wall_time_s": prog.wall_time_s,
        "train_time_s": prog.train_time_s,
        "tokens_per_second": prog.step * cfg.batch_size / max(prog.train_time_s, 1e-9),
        "session_tokens_per_second": session_tok_s,
        "hardware": describe_hardware(device),
        "train_config": cfg.to_dict(),
        "logs": prog.logs,
    }

"""Train a subject model (`tdb train-model`): next-token prediction on a flat token file.

Data: a token file (`models.token_files`: flat little-endian uint16 ids, documents joined by
an end-of-text id). Each step reads `batch_size` random windows of `n_ctx + 1` tokens; windows
may span a document boundary, as in GPT-2's training, and the end-of-text token teaches the
model where one ends.
The windows of step `s` are drawn from a generator seeded with `(seed, s)`, so a resumed run
reads exactly the batches an uninterrupted run would, with no sampler state to carry.

Optimisation: AdamW with linear warm-up, then cosine decay to 10% of the peak rate, and gradient
clipping. Weight decay applies to the weight matrices of attention, MLP and an untied
unembedding; biases, LayerNorm parameters and the embeddings are not decayed (decaying the
tied embedding would also shrink the unembedding, and rare tokens' rows would collapse).

Checkpoints (`out_dir/checkpoint/`) hold the model, the optimizer state, the step and the RNG
state as safetensors and JSON, never pickle; resuming from one gives the same weights, bit for
bit, as a run that was never interrupted (on the same machine and thread count). The trained
model goes to `out_dir/final/`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from jaxtyping import Int
from safetensors.torch import load_file, save_file
from torch import Tensor
from tqdm import tqdm

from neuron_explainer.models.config import TransformerConfig
from neuron_explainer.models.loading import load_model, save_model
from neuron_explainer.models.token_files import open_tokens
from neuron_explainer.models.tokenizers import HfTokenizer
from neuron_explainer.models.transformer import Transformer

MIN_LR_FRACTION = 0.1  # the cosine schedule ends at this fraction of the peak learning rate
MIN_REPEAT = 16  # shortest repeated stretch in `train_batch`
LOG_INTERVAL = 10  # steps between progress-bar updates (each reads the loss off the device)
NO_DECAY_PARAMS = ("W_E", "W_pos")

DEFAULT_MODEL = TransformerConfig(
    n_layers=2, d_model=256, n_heads=8, d_head=32, d_mlp=1024, n_ctx=256, d_vocab=8192
)


@dataclass(frozen=True)
class TrainConfig:
    """What to train and how. Intervals count optimizer steps; sizes count tokens."""

    model: TransformerConfig = DEFAULT_MODEL
    batch_size: int = 16
    lr: float = 1e-3
    warmup_steps: int = 200
    total_tokens: int = 20_000_000
    weight_decay: float = 0.1
    betas: tuple[float, float] = (0.9, 0.95)
    grad_clip: float = 1.0
    eval_interval: int = 500
    eval_tokens: int = 65_536
    checkpoint_interval: int = 1000
    seed: int = 0
    device: str = "auto"  # "auto" picks CUDA when available, else CPU
    num_threads: int | None = None  # CPU threads; None uses every core this process may run on
    # Fraction of training windows made of one stretch of text repeated (`train_batch`): text
    # where copying what followed an earlier occurrence pays, which makes induction heads form.
    repeat_fraction: float = 0.0
    init_from: str | None = None  # a model directory whose weights start the run (else random)

    def __post_init__(self) -> None:
        if not 0.0 <= self.repeat_fraction <= 1.0:
            raise ValueError(f"repeat_fraction must be in [0, 1], got {self.repeat_fraction}")
        for name in ("batch_size", "total_tokens", "eval_interval", "eval_tokens"):
            if getattr(self, name) <= 0:
                raise ValueError(f"TrainConfig.{name} must be positive, got {getattr(self, name)}")
        if min(self.checkpoint_interval, self.lr, self.grad_clip) <= 0 or self.warmup_steps < 0:
            raise ValueError(
                "TrainConfig needs checkpoint_interval, lr, grad_clip > 0 and warmup_steps >= 0"
            )

    @property
    def tokens_per_step(self) -> int:
        return self.batch_size * self.model.n_ctx

    @property
    def total_steps(self) -> int:
        return max(1, math.ceil(self.total_tokens / self.tokens_per_step))

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["betas"] = list(self.betas)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        data = dict(data)
        data["model"] = TransformerConfig.from_dict(data["model"])
        data["betas"] = tuple(data["betas"])
        return cls(**data)


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Learning rate of update `step` (0-based): linear warm-up, then cosine to 10% of peak."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(1, cfg.total_steps - cfg.warmup_steps)
    min_lr = cfg.lr * MIN_LR_FRACTION
    return min_lr + 0.5 * (cfg.lr - min_lr) * (1 + math.cos(math.pi * min(progress, 1.0)))


# ---- data ---------------------------------------------------------------------------------------


def windows(tokens: npt.NDArray[np.uint16], starts: npt.NDArray[np.int64], n_ctx: int) -> Tensor:
    """Windows of n_ctx + 1 tokens at `starts`, as int64 [len(starts), n_ctx + 1]."""
    return torch.from_numpy(np.stack([tokens[s : s + n_ctx + 1] for s in starts]).astype(np.int64))


def train_batch(
    tokens: npt.NDArray[np.uint16], step: int, cfg: TrainConfig
) -> Int[Tensor, "batch n_ctx_plus_1"]:
    """The windows of update `step`, a function of (seed, step) alone. A `repeat_fraction` of
    them (rounded) are a stretch of L tokens (L uniform in [MIN_REPEAT, (n_ctx + 1) // 2])
    repeated to fill the window."""
    rng = np.random.default_rng((cfg.seed, step))
    n_ctx = cfg.model.n_ctx
    batch = windows(tokens, rng.integers(0, len(tokens) - n_ctx, size=cfg.batch_size), n_ctx)
    n_repeated = round(cfg.repeat_fraction * cfg.batch_size)
    if n_repeated:
        rows = rng.choice(cfg.batch_size, size=n_repeated, replace=False)
        lengths = rng.integers(MIN_REPEAT, (n_ctx + 1) // 2 + 1, size=n_repeated)
        for row, length in zip(rows.tolist(), lengths.tolist(), strict=True):
            batch[row] = batch[row, :length].repeat(math.ceil((n_ctx + 1) / length))[: n_ctx + 1]
    return batch


def val_windows(
    tokens: npt.NDArray[np.uint16], cfg: TrainConfig
) -> Int[Tensor, "window n_ctx_plus_1"]:
    """Fixed windows spread evenly over the validation file (overlapping if it is short)."""
    n_ctx = cfg.model.n_ctx
    count = max(1, cfg.eval_tokens // n_ctx)
    return windows(tokens, np.linspace(0, len(tokens) - n_ctx - 1, count).astype(np.int64), n_ctx)


# ---- model, optimizer, loss -------------------------------------------------------------------


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def available_cpus() -> int:
    """Cores this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def describe_hardware(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda})"
    model_name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model_name = next(
                ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    return f"{model_name}, {torch.get_num_threads()} torch threads"


def make_optimizer(model: Transformer, cfg: TrainConfig) -> torch.optim.AdamW:
    decay: list[torch.nn.Parameter] = []
    no_decay: list[torch.nn.Parameter] = []
    for name, param in model.named_parameters():
        is_matrix = param.ndim >= 2 and name not in NO_DECAY_PARAMS
        (decay if is_matrix else no_decay).append(param)
    groups = [
        {"params": decay, "weight_decay": cfg.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    # foreach batches the update over all parameters; on CPU it is not the default.
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.betas, foreach=True)


def loss_fn(model: Transformer, batch: Int[Tensor, "batch n_ctx_plus_1"]) -> Tensor:
    """Mean next-token cross-entropy (nats) over every position of the batch."""
    logits = model(batch[:, :-1])
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))


def train_step(
    model: Transformer,
    optimizer: torch.optim.Optimizer,
    batch: Int[Tensor, "batch n_ctx_plus_1"],
    lr: float,
    grad_clip: float,
) -> Tensor:
    """One AdamW update with clipped gradients; returns the loss before it, detached."""
    for group in optimizer.param_groups:
        group["lr"] = lr
    loss = loss_fn(model, batch)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    return loss.detach()


@torch.no_grad()
def evaluate(model: Transformer, val: Tensor, batch_size: int) -> float:
    losses = [
        loss_fn(model, val[i : i + batch_size].to(model.device)).item()
        * len(val[i : i + batch_size])
        for i in range(0, len(val), batch_size)
    ]
    return sum(losses) / len(val)


# ---- checkpoints ---------------------------------------------------------------------------------


def _save_checkpoint(
    directory: Path, model: Transformer, optimizer: torch.optim.Optimizer, state: dict[str, Any]
) -> None:
    """Write a checkpoint beside `directory`, then swap it in: a crash never leaves half of one."""
    tmp = directory.with_name(directory.name + ".tmp")
    old = directory.with_name(directory.name + ".old")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_model(model, tmp)  # config.json and model.safetensors: a checkpoint loads as a model
    opt_state = optimizer.state_dict()
    opt_tensors: dict[str, Tensor] = {}
    for index, param_state in opt_state["state"].items():
        for key, value in param_state.items():
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"optimizer state {key!r} is not a tensor; cannot save without pickle"
                )
            opt_tensors[f"{index}.{key}"] = value.contiguous()
    save_file(opt_tensors, tmp / "optimizer.safetensors")
    rng = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng.update({f"cuda.{i}": s for i, s in enumerate(torch.cuda.get_rng_state_all())})
    save_file(rng, tmp / "rng.safetensors")
    state = {**state, "optimizer_param_groups": opt_state["param_groups"]}
    (tmp / "state.json").write_text(json.dumps(state, indent=2))
    if directory.exists():
        directory.rename(old)
    tmp.rename(directory)
    shutil.rmtree(old, ignore_errors=True)


def _find_checkpoint(directory: Path) -> Path | None:
    """The checkpoint, or the previous one if a crash came between the two renames of a save."""
    for candidate in (directory, directory.with_name(directory.name + ".old")):
        if (candidate / "state.json").exists():
            return candidate
    return None


def _load_checkpoint(
    directory: Path, model: Transformer, optimizer: torch.optim.Optimizer
) -> dict[str, Any]:
    state: dict[str, Any] = json.loads((directory / "state.json").read_text())
    model.load_state_dict(load_file(directory / "model.safetensors", device=str(model.device)))
    per_param: dict[int, dict[str, Tensor]] = {}
    for key, value in load_file(directory / "optimizer.safetensors").items():
        index, name = key.split(".", 1)
        per_param.setdefault(int(index), {})[name] = value
    param_groups = state.pop("optimizer_param_groups")
    optimizer.load_state_dict({"state": per_param, "param_groups": param_groups})
    rng = load_file(directory / "rng.safetensors")
    torch.set_rng_state(rng["torch"])
    cuda_states = [rng[f"cuda.{i}"] for i in range(len(rng) - 1)]
    if cuda_states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda_states)
    return state


def _save_final(directory: Path, model: Transformer, summary: dict[str, Any]) -> None:
    """The model in `loading.save_model`'s layout (with the tokenizer, when the model has one),
    a card, and the full training summary."""
    card = {k: summary[k] for k in ("tokens", "final_val_loss", "hardware", "train_config")}
    save_model(model, directory, card={"trained_with": "tdb train-model", **card})
    (directory / "training_summary.json").write_text(json.dumps(summary, indent=2))


# ---- the loop -----------------------------------------------------------------------------------


@dataclass
class _Progress:
    """What the checkpoint carries besides tensors: where we are and what we have seen."""

    step: int = 0
    train_time_s: float = 0.0  # time in training steps only, summed over sessions
    wall_time_s: float = 0.0  # everything, summed over sessions
    evals: list[dict[str, int | float]] = field(default_factory=list)  # step, val_loss
    train_losses: list[dict[str, int | float]] = field(default_factory=list)  # step, loss


def _summary(cfg: TrainConfig, prog: _Progress, model: Transformer) -> dict[str, Any]:
    tokens = prog.step * cfg.tokens_per_step
    return {
        "finished": prog.step == cfg.total_steps,
        "steps": prog.step,
        "tokens": tokens,
        "final_train_loss": prog.train_losses[-1]["loss"] if prog.train_losses else None,
        "final_val_loss": prog.evals[-1]["val_loss"] if prog.evals else None,
        "wall_time_s": prog.wall_time_s,
        "train_time_s": prog.train_time_s,
        "tokens_per_second": tokens / max(prog.train_time_s, 1e-9),
        "hardware": describe_hardware(model.device),
        "n_params": sum(p.numel() for p in model.parameters()),
        "train_config": cfg.to_dict(),
        "evals": prog.evals,
        "train_losses": prog.train_losses,  # mean loss over the steps since the previous entry
    }


def train_model(
    train_cfg: TrainConfig,
    train_tokens_path: str | Path,
    val_tokens_path: str | Path,
    out_dir: str | Path,
    tokenizer_path: str | Path | None = None,
    resume: bool = True,
    progress: bool = True,
    *,
    stop_at_step: int | None = None,
) -> dict[str, Any]:
    """Train, checkpointing to `out_dir/checkpoint/`, and write the model to `out_dir/final/`.

    With `resume`, continue from the checkpoint when there is one (its TrainConfig must equal
    `train_cfg`); without, start over (an old checkpoint is replaced at the first save).
    `stop_at_step` ends the session after that many steps, with a checkpoint, to split a long
    run over several sessions; `final/` is written once the last step is done. Returns the
    summary: losses, tokens, wall time, tokens/s (of training steps, excluding evaluation and
    checkpoints), hardware.

    On the CPU, call `torch.set_flush_denormal(True)` first, as `tdb` does: denormals in the
    softmax gradient slow a step about 10x. It is the caller's, as it changes every later float
    operation of the thread.
    """
    device = pick_device(train_cfg.device)
    previous_threads = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(train_cfg.num_threads or available_cpus())
    else:
        torch.backends.cuda.matmul.allow_tf32 = True
    try:
        paths = (train_tokens_path, val_tokens_path, Path(out_dir), tokenizer_path)
        return _train(train_cfg, device, *paths, resume, progress, stop_at_step)
    finally:
        torch.set_num_threads(previous_threads)


def _train(
    cfg: TrainConfig,
    device: torch.device,
    train_tokens_path: str | Path,
    val_tokens_path: str | Path,
    out: Path,
    tokenizer_path: str | Path | None,
    resume: bool,
    progress: bool,
    stop_at_step: int | None,
) -> dict[str, Any]:
    session_start = time.perf_counter()
    checkpoint_dir = out / "checkpoint"
    train_tokens = open_tokens(train_tokens_path, cfg.model.n_ctx, cfg.model.d_vocab)
    val = val_windows(open_tokens(val_tokens_path, cfg.model.n_ctx, cfg.model.d_vocab), cfg)
    tokenizer = None if tokenizer_path is None else HfTokenizer.from_file(tokenizer_path)
    if tokenizer is not None and tokenizer.vocab_size > cfg.model.d_vocab:
        raise ValueError(
            f"{tokenizer_path} has {tokenizer.vocab_size} tokens, "
            f"more than d_vocab={cfg.model.d_vocab}"
        )

    torch.manual_seed(cfg.seed)
    model = Transformer(cfg.model).to(device)  # initialised on the CPU, so seeds mean the same
    model.tokenizer = tokenizer
    if cfg.init_from is not None:
        start = load_model(cfg.init_from)
        if start.cfg != cfg.model:
            raise ValueError(f"{cfg.init_from} is a {start.cfg}, not the configured {cfg.model}")
        model.load_state_dict(start.state_dict())
    optimizer = make_optimizer(model, cfg)
    prog = _Progress()
    found = _find_checkpoint(checkpoint_dir) if resume else None
    if found is not None:
        state = _load_checkpoint(found, model, optimizer)
        saved_cfg = TrainConfig.from_dict(state.pop("train_config"))
        if saved_cfg != cfg:
            raise ValueError(
                f"Checkpoint {found} was made with a different TrainConfig:\n{saved_cfg}\n"
                f"now:\n{cfg}\nPass resume=False to start over."
            )
        prog = _Progress(**state)

    last_step = cfg.total_steps if stop_at_step is None else min(stop_at_step, cfg.total_steps)
    bar = tqdm(total=cfg.total_steps, initial=prog.step, unit="step", disable=not progress)
    session_tokens, session_train_time = 0, 0.0
    loss_sum, loss_count = torch.zeros((), device=device), 0
    model.train()
    while prog.step < last_step:
        step_start = time.perf_counter()
        batch = train_batch(train_tokens, prog.step, cfg).to(device)
        loss_sum += train_step(model, optimizer, batch, lr_at(prog.step, cfg), cfg.grad_clip)
        loss_count += 1
        prog.step += 1
        if device.type == "cuda" and prog.step % LOG_INTERVAL == 0:
            torch.cuda.synchronize(device)
        elapsed = time.perf_counter() - step_start
        session_train_time += elapsed
        prog.train_time_s += elapsed
        session_tokens += cfg.tokens_per_step
        bar.update(1)

        done = prog.step == last_step
        if prog.step % LOG_INTERVAL == 0 or done:
            mean_loss = loss_sum.item() / loss_count
            prog.train_losses.append({"step": prog.step, "loss": mean_loss})
            loss_sum.zero_()
            loss_count = 0
            bar.set_postfix(
                loss=f"{mean_loss:.3f}", tok_s=f"{session_tokens / session_train_time:,.0f}"
            )
        if prog.step % cfg.eval_interval == 0 or prog.step == cfg.total_steps:
            model.eval()
            val_loss = evaluate(model, val, cfg.batch_size)
            model.train()
            prog.evals.append({"step": prog.step, "val_loss": val_loss})
            bar.write(f"step {prog.step}: val loss {val_loss:.4f}")
        if prog.step % cfg.checkpoint_interval == 0 or done:
            prog.wall_time_s += time.perf_counter() - session_start
            session_start = time.perf_counter()
            state = {"train_config": cfg.to_dict(), **dataclasses.asdict(prog)}
            _save_checkpoint(checkpoint_dir, model, optimizer, state)
    bar.close()
    prog.wall_time_s += time.perf_counter() - session_start

    summary = {
        **_summary(cfg, prog, model),
        "session_tokens_per_second": session_tokens / max(session_train_time, 1e-9),
    }
    if summary["finished"]:
        _save_final(out / "final", model, summary)
    return summary

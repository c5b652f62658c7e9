"""Checkpoints of autoencoder training (`train_sae`): the autoencoder, Adam's moments and the
dead-latent counters as safetensors, the config and progress as JSON; written beside the old one
and swapped in, so a crash never leaves half a checkpoint. The run's state that a checkpoint
carries (`SaeProgress`, `DeadLatentTracker`) is defined here."""

from __future__ import annotations

import dataclasses
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import torch
from jaxtyping import Bool
from safetensors.torch import load_file, save_file
from torch import Tensor

from neuron_explainer.models.sparse_autoencoder import SparseAutoencoder
from neuron_explainer.training.sae_config import SaeTrainConfig

CHECKPOINT_FILES = ("sae", "optimizer", "dead")  # {name}.safetensors, beside state.json


@dataclass
class SaeProgress:
    step: int = 0
    norm_scaling_factor: float = 1.0  # training inputs are activations times this
    train_time_s: float = 0.0
    wall_time_s: float = 0.0
    # step; mse, l0 and explained variance (1 - squared error / squared distance to the batch
    # mean, summed over the batches) since the previous entry; dead_fraction at the step
    logs: list[dict[str, int | float]] = field(default_factory=list)


class DeadLatentTracker:
    """Tokens since each latent last fired; a latent is dead once that reaches `window`."""

    def __init__(self, d_sae: int, window: int, device: torch.device) -> None:
        self.window = window
        self.tokens_since_fired = torch.zeros(d_sae, dtype=torch.int64, device=device)

    def update(self, fired: Bool[Tensor, " d_sae"], n_tokens: int) -> None:
        """After a batch of `n_tokens` tokens on which the latents `fired` were non-zero."""
        self.tokens_since_fired = (self.tokens_since_fired + n_tokens).masked_fill(fired, 0)

    def dead(self) -> Bool[Tensor, " d_sae"]:
        return self.tokens_since_fired >= self.window


def save_checkpoint(
    directory: Path,
    cfg: SaeTrainConfig,
    prog: SaeProgress,
    sae: SparseAutoencoder,
    optimizer: torch.optim.Optimizer,
    tracker: DeadLatentTracker,
) -> None:
    """Write the checkpoint beside `directory`, then swap it in: a crash leaves no half of one."""
    tmp, old = directory.with_name("checkpoint.tmp"), directory.with_name("checkpoint.old")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    opt = optimizer.state_dict()
    tensors = {
        "sae": sae.state_dict(),
        "optimizer": {f"{i}.{k}": v for i, s in opt["state"].items() for k, v in s.items()},
        "dead": {"tokens_since_fired": tracker.tokens_since_fired},
    }
    for name, group in tensors.items():
        save_file(
            {k: v.detach().contiguous().cpu() for k, v in group.items()},
            tmp / f"{name}.safetensors",
        )
    state = {"train_config": cfg.to_dict(), "param_groups": opt["param_groups"]}
    (tmp / "state.json").write_text(json.dumps({**state, **dataclasses.asdict(prog)}, indent=2))
    if directory.exists():
        directory.rename(old)
    tmp.rename(directory)
    shutil.rmtree(old, ignore_errors=True)


def load_checkpoint(
    directory: Path,
    cfg: SaeTrainConfig,
    sae: SparseAutoencoder,
    optimizer: torch.optim.Optimizer,
    tracker: DeadLatentTracker,
) -> SaeProgress | None:
    """Restore the checkpoint (or the previous one, if a crash came between the renames of a
    save) into the objects; None when there is none."""
    found = [
        d for d in (directory, directory.with_name("checkpoint.old")) if (d / "state.json").exists()
    ]
    if not found:
        return None
    state = json.loads((found[0] / "state.json").read_text())
    if type(cfg).from_dict(state.pop("train_config")) != cfg:
        raise ValueError(f"Checkpoint {found[0]} was made with another config; pass resume=False")
    tensors = {name: load_file(found[0] / f"{name}.safetensors") for name in CHECKPOINT_FILES}
    sae.load_state_dict(tensors["sae"])
    per_param: dict[int, dict[str, Tensor]] = {}
    for key, value in tensors["optimizer"].items():  # Adam moves its moments to the parameters
        index, name = key.split(".", 1)
        per_param.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": per_param, "param_groups": state.pop("param_groups")})
    tracker.tokens_since_fired = tensors["dead"]["tokens_since_fired"].to(sae.device)
    return SaeProgress(**state)

"""The settings of autoencoder training (`train_sae`), apart from its loop, so that what reads
or writes a run's config (checkpoints, the command line) need not import the loop. The b_dec
initialisations a config may name (`b_dec_init`) are here too: they are that field's vocabulary."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jaxtyping import Float
from torch import Tensor

from neuron_explainer.models.sites import is_splice_site, layer_of
from neuron_explainer.models.sparse_autoencoder import SaeConfig

GEOMETRIC_MEDIAN_MAX_POINTS = 32_768


@dataclass(frozen=True)
class SaeTrainConfig:
    """What to train and how. k, the JumpReLU bandwidth and `normalize_activations` live in `sae`
    (they are part of the autoencoder); sizes count tokens, intervals count steps."""

    sae: SaeConfig
    site: str  # hook name, e.g. "blocks.0.mlp.hook_post"
    total_tokens: int = 50_000_000
    batch_size: int = 4096  # tokens per step
    lr: float = 3e-4
    warmup_steps: int = 1000
    lr_decay_fraction: float = 0.2
    grad_clip: float = 1.0
    l1_coefficient: float = 5.0  # relu
    aux_k: int | None = None  # topk: dead latents in AuxK; None is d_in // 2
    aux_coefficient: float = 1 / 32  # topk
    l0_coefficient: float = 1.0  # jumprelu
    sparsity_warmup_fraction: float = 0.05  # relu, jumprelu
    unit_norm_decoder: bool = True
    b_dec_init: str = "geometric_median"  # a key of B_DEC_INITS
    buffer_tokens: int = 131_072
    context_size: int | None = None  # window length; None is the model's n_ctx
    windows_per_forward: int = 16
    dead_window_tokens: int = 4_096_000  # SAELens's default: 1000 steps of 4096 tokens
    checkpoint_interval: int = 1000
    seed: int = 0
    device: str = "auto"  # CUDA when available
    num_threads: int | None = None  # CPU threads; None uses every core this process may use

    def __post_init__(self) -> None:
        positive = ("total_tokens", "batch_size", "buffer_tokens", "windows_per_forward")
        for name in (*positive, "dead_window_tokens", "checkpoint_interval"):
            if getattr(self, name) <= 0:
                raise ValueError(f"SaeTrainConfig.{name} must be positive")
        if self.buffer_tokens < self.batch_size:
            raise ValueError("buffer_tokens must be at least batch_size")
        if not is_splice_site(self.site):
            raise ValueError(f"Cannot train an autoencoder at {self.site!r}")
        if self.sae.hook_name not in (None, self.site):
            raise ValueError(f"sae.hook_name {self.sae.hook_name!r} is not site {self.site!r}")
        if self.b_dec_init not in B_DEC_INITS:
            raise ValueError(f"b_dec_init must be one of {sorted(B_DEC_INITS)}")
        if not (0 <= self.lr_decay_fraction <= 1 and 0 <= self.sparsity_warmup_fraction <= 1):
            raise ValueError("lr_decay_fraction and sparsity_warmup_fraction must be in [0, 1]")
        if self.lr <= 0 or self.warmup_steps < 0 or (self.aux_k is not None and self.aux_k <= 0):
            raise ValueError("SaeTrainConfig needs lr > 0, warmup_steps >= 0, aux_k > 0")

    @property
    def total_steps(self) -> int:
        return max(1, math.ceil(self.total_tokens / self.batch_size))

    @property
    def layer(self) -> int:
        return layer_of(self.site)

    @property
    def k_aux(self) -> int:
        return self.aux_k or max(1, self.sae.d_in // 2)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SaeTrainConfig:
        return cls(**{**data, "sae": SaeConfig(**data["sae"])})


def geometric_median(
    points: Float[Tensor, "n d"], max_iter: int = 100, tol: float = 1e-6
) -> Float[Tensor, " d"]:
    """argmin_y sum_i |x_i - y| by Weiszfeld's iteration from the mean."""
    y = points.mean(0)
    for _ in range(max_iter):
        weights = 1 / (points - y).norm(dim=-1).clamp_min(1e-8)
        y_next = (weights[:, None] * points).sum(0) / weights.sum()
        done = float((y_next - y).norm()) <= tol * max(1.0, float(y.norm()))
        y = y_next
        if done:
            break
    return y


B_DEC_INITS: dict[str, Callable[[Tensor], Tensor]] = {
    "geometric_median": lambda x: geometric_median(x[:GEOMETRIC_MEDIAN_MAX_POINTS]),
    "mean": lambda x: x.mean(0),
    "zeros": lambda x: x.new_zeros(x.shape[-1]),
}

"""The quantity whose gradient is taken: an objective on the forward pass, by default the
direction of interest (the logit difference between target and distractor tokens).

An objective names the hook sites it reads, may attach forward hooks (the logit difference
freezes the final LayerNorm's scale), gives one value per batch row, and says where and along
which gradient a write into the residual stream takes effect directly (for direct effects).
Tracing a node upstream is another objective: its value is the node's pre-activation, and its
direct read is the residual stream that node reads from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from jaxtyping import Float
from torch import Tensor

from neuron_explainer.models.hooks import HookPoint, HookSpec
from neuron_explainer.models.sites import act_name, block
from neuron_explainer.models.transformer import Transformer

FINAL_SCALE = act_name("final_scale")


@dataclass(frozen=True)
class DirectRead:
    """Where the objective reads the residual stream linearly: at token `position`, before
    sublayer `before_sublayer` (see `nodes.write_sublayer`), with gradient `gradient` per batch
    row. The direct effect of a write vector there is `write · gradient`."""

    position: int
    before_sublayer: int
    gradient: Float[Tensor, "batch d_model"]


@runtime_checkable
class Objective(Protocol):
    """The scalar (per batch row) whose gradient the attribution takes."""

    @property
    def name(self) -> str: ...

    def cache_names(self) -> list[str]:
        """Hook sites whose activations `value` and `direct_read` need."""
        ...

    def hooks(self) -> list[HookSpec]:
        """Forward hooks that shape the gradient (e.g. freezing a LayerNorm scale)."""
        ...

    def value(
        self, logits: Float[Tensor, "batch d_vocab"], cache: Mapping[str, Tensor]
    ) -> Float[Tensor, " batch"]:
        """The objective per batch row, from the logits at the objective's `position` (if it
        reads logits; the forward computes no others) and the cache."""
        ...

    def direct_read(self, model: Transformer, cache: Mapping[str, Tensor]) -> DirectRead: ...


def freeze(x: Tensor, hook: HookPoint) -> Tensor:
    """Forward hook: the activation as a constant (no gradient flows through it)."""
    return x.detach()


@dataclass(frozen=True)
class LogitDifference:
    """mean_A logit(A) - mean_B logit(B) at token `position`, A the targets, B the distractors.

    Its direction in the final normalized residual stream is d = mean_A W_U[:, A] -
    mean_B W_U[:, B]. With the final LayerNorm's scale s frozen, the logit difference is
    ((x - mean(x)) / s * w + b) · d + const, so its gradient with respect to the final
    residual stream x is

        g = P (w ⊙ d) / s,    P = I - 1 1ᵀ / d_model (the LayerNorm's centring),

    i.e. w ⊙ d with its mean over d_model removed, divided by s (w = 1 without an affine part).
    """

    targets: tuple[int, ...]
    distractors: tuple[int, ...]
    position: int

    def __post_init__(self) -> None:
        if not self.targets or not self.distractors:
            raise ValueError("A logit difference needs at least one target and one distractor")
        if set(self.targets) & set(self.distractors):
            raise ValueError(
                f"Targets {list(self.targets)} and distractors {list(self.distractors)} overlap"
            )
        if self.position < 0:
            raise ValueError(
                f"position must be resolved to a non-negative index, got {self.position}"
            )

    @property
    def name(self) -> str:
        return "logit_difference"

    def cache_names(self) -> list[str]:
        return [FINAL_SCALE]

    def hooks(self) -> list[HookSpec]:
        return [(FINAL_SCALE, freeze)]

    def value(
        self, logits: Float[Tensor, "batch d_vocab"], cache: Mapping[str, Tensor]
    ) -> Float[Tensor, " batch"]:
        """From the logits at `position`."""
        return logits[:, list(self.targets)].mean(-1) - logits[:, list(self.distractors)].mean(-1)

    def direction(self, model: Transformer) -> Float[Tensor, " d_model"]:
        return unembedding_difference(model, self.targets, self.distractors)

    def direct_read(self, model: Transformer, cache: Mapping[str, Tensor]) -> DirectRead:
        scale = cache[FINAL_SCALE][:, self.position, 0].detach()  # [batch]
        gradient = final_residual_gradient(model, self.direction(model), scale)
        return DirectRead(self.position, 2 * model.cfg.n_layers + 1, gradient)


def unembedding_difference(
    model: Transformer, targets: Sequence[int], distractors: Sequence[int]
) -> Float[Tensor, " d_model"]:
    W_U = model.W_U.detach()
    return W_U[:, list(targets)].mean(-1) - W_U[:, list(distractors)].mean(-1)


def final_residual_gradient(
    model: Transformer, direction: Float[Tensor, " d_model"], scale: Float[Tensor, " batch"]
) -> Float[Tensor, "batch d_model"]:
    """Gradient of `normalized_final_resid · direction` with respect to the final residual
    stream, with the final LayerNorm's scale `scale` (per row) held constant."""
    w = model.ln_final.w
    weighted = direction if w is None else direction * w.detach()
    centred = weighted - weighted.mean()
    return centred[None, :] / scale[:, None]


def resolve_tokens(model: Transformer, tokens: Sequence[int | str], what: str) -> tuple[int, ...]:
    """Token ids from ids or strings; a string must be exactly one token."""
    out: list[int] = []
    for t in tokens:
        if isinstance(t, str):
            if model.tokenizer is None:
                raise ValueError(f"{what} {t!r} is text, but the model has no tokenizer")
            ids = model.tokenizer.encode(t)
            if len(ids) != 1:
                raise ValueError(f"{what} {t!r} is {len(ids)} tokens {ids}; give a single token")
            t = ids[0]
        if not 0 <= int(t) < model.cfg.d_vocab:
            raise ValueError(f"{what} id {t} is out of range [0, {model.cfg.d_vocab})")
        out.append(int(t))
    return tuple(out)


def ln_weight(model: Transformer, layer: int | None) -> Tensor | float:
    """The weight of the LayerNorm that reads the residual stream before block `layer`'s MLP
    (`None`: the final LayerNorm); 1 when it has none (folded into the weights)."""
    ln = model.ln_final if layer is None else block(model, layer).ln2
    w = None if ln is None else ln.w
    return 1.0 if w is None else w.detach()


def centre(x: Float[Tensor, "n d_model"]) -> Float[Tensor, "n d_model"]:
    """LayerNorm's centring, P x = x - mean(x), of each row."""
    return x - x.mean(-1, keepdim=True)

"""One forward pass with request-scoped hooks, then one backward pass of the objective.

Hooks at one site run in the order given: ablations first, then the objective's hooks (e.g. the
frozen final LayerNorm scale), then the cache, so the cache holds what the model really used and
the gradient is taken at that point. Batch rows are independent runs; the gradient of the sum of
the rows' objectives gives each row its own gradients.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from jaxtyping import Float, Int
from torch import Tensor

from neuron_explainer.activations.direction import Objective
from neuron_explainer.models.hooks import HookFn, HookPoint, HookSpec
from neuron_explainer.models.transformer import Transformer, affine


@dataclass(frozen=True)
class GradientPass:
    logits: Float[Tensor, "batch d_vocab"]  # at `logit_position` only
    objective: Float[Tensor, " batch"]
    cache: dict[str, Tensor]  # detached activations by hook name
    grads: dict[str, Tensor]  # d(sum of objectives) / d(activation), for the names asked


def run_with_gradients(
    model: Transformer,
    tokens: Int[Tensor, "batch pos"],
    objective: Objective,
    cache_names: Sequence[str],
    grad_names: Sequence[str],
    hooks: Sequence[HookSpec] = (),
    logit_position: int = -1,
) -> GradientPass:
    """Forward with `hooks`, caching `cache_names` (and the objective's), then the objective's
    gradient with respect to the activations at `grad_names` (zero where it does not depend on
    them). Logits are computed at `logit_position` only. All hooks are removed when this
    returns, also on errors."""
    names = list(dict.fromkeys([*cache_names, *grad_names, *objective.cache_names()]))
    cache: dict[str, Tensor] = {}
    leaves = set(grad_names)
    savers = [(name, _saver(cache, make_leaf=name in leaves)) for name in names]
    with torch.enable_grad(), model.hooks([*hooks, *objective.hooks(), *savers]):
        logits = logits_at(model, tokens, logit_position, objective)
    values = objective.value(logits, cache)
    inputs = [cache[name] for name in grad_names]
    grads = torch.autograd.grad(values.sum(), inputs, allow_unused=True) if inputs else ()
    return GradientPass(
        logits=logits.detach(),
        objective=values.detach(),
        cache={name: act.detach() for name, act in cache.items()},
        grads={
            name: torch.zeros_like(act) if grad is None else grad
            for name, act, grad in zip(grad_names, inputs, grads, strict=True)
        },
    )


def run_without_gradients(
    model: Transformer,
    tokens: Int[Tensor, "batch pos"],
    objective: Objective,
    hooks: Sequence[HookSpec] = (),
    logit_position: int = -1,
) -> tuple[Float[Tensor, "batch d_vocab"], Float[Tensor, " batch"]]:
    """Logits at `logit_position` and the objective's values of a forward pass with `hooks`."""
    cache: dict[str, Tensor] = {}
    savers = [(name, _saver(cache, make_leaf=False)) for name in objective.cache_names()]
    with torch.no_grad(), model.hooks([*hooks, *objective.hooks(), *savers]):
        logits = logits_at(model, tokens, logit_position, objective)
        return logits, objective.value(logits, cache)


def logits_at(
    model: Transformer, tokens: Int[Tensor, "batch pos"], position: int, objective: Objective
) -> Float[Tensor, "batch d_vocab"]:
    """The logits at token `position`, from a forward pass that unembeds that token only (the
    final LayerNorm and its hooks still see every token). The unembedding is the largest
    product of a small model's forward, and its backward pass is as large."""
    pos = tokens.shape[-1]
    at = position + pos if position < 0 else position
    wanted = getattr(objective, "position", at)  # objectives that read logits name their token
    if not 0 <= at < pos or wanted != at:
        raise ValueError(f"logit position {position} of {pos} tokens; the objective reads {wanted}")
    resid = model(tokens, stop_at_layer=model.cfg.n_layers)
    normalized = model.ln_final(resid)
    return affine(normalized[:, at], model.W_U, model.b_U)


def _saver(cache: dict[str, Tensor], make_leaf: bool) -> HookFn:
    def save(x: Tensor, hook: HookPoint) -> Tensor:
        if make_leaf and not x.requires_grad:
            # Frozen weights: make the activation a leaf, so gradients can still be taken here.
            x = x.detach().requires_grad_(True)
        cache[hook.name] = x
        return x

    return save

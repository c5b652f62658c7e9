"""Verification by real ablation: each node's true effect next to its estimate.

One batched forward pass: row 0 is the run as requested (with its own ablations), row i + 1 the
same run with node i also zeroed. A node's true effect is `objective(row 0) - objective(row i+1)`,
the change that the estimated total effect (a first-order estimate of the same difference,
against a zero baseline) approximates. The final LayerNorm scale is not frozen here: this is the
model as it really runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from jaxtyping import Int
from torch import Tensor

from neuron_explainer.activations.ablations import (
    ResolvedAblation,
    ablation_hooks,
    node_zeroing_hooks,
)
from neuron_explainer.activations.direction import Objective
from neuron_explainer.activations.forward import run_without_gradients
from neuron_explainer.activations.nodes import Node
from neuron_explainer.models.transformer import Transformer


@dataclass(frozen=True)
class VerifiedNode:
    node: Node
    estimate: float  # estimated total effect
    true_effect: float  # objective(run) - objective(run with this node zeroed)


@dataclass(frozen=True)
class Verification:
    baseline: float  # the objective of the run as requested
    nodes: list[VerifiedNode]
    pearson: float | None  # of estimates and true effects; None below 2 nodes or no variance


def verify_by_ablation(
    model: Transformer,
    tokens: Int[Tensor, " pos"],
    nodes: Sequence[Node],
    estimates: Sequence[float],
    objective: Objective,
    ablations: Sequence[ResolvedAblation] = (),
    logit_position: int = -1,
) -> Verification:
    """Zero each node in its own batch row of one forward pass and measure the objective."""
    if len(nodes) != len(estimates):
        raise ValueError(f"{len(nodes)} nodes but {len(estimates)} estimates")
    batch = 1 + len(nodes)
    hooks = [
        *ablation_hooks([ablations] * batch),
        *node_zeroing_hooks(nodes, list(range(1, batch))),
    ]
    rows = tokens[None].expand(batch, -1)
    _, values = run_without_gradients(model, rows, objective, hooks, logit_position)
    true_effects = (values[0] - values[1:]).tolist()
    verified = [
        VerifiedNode(node, float(estimate), true)
        for node, estimate, true in zip(nodes, estimates, true_effects, strict=True)
    ]
    return Verification(float(values[0]), verified, pearson(list(estimates), true_effects))


def pearson(x: Sequence[float], y: Sequence[float]) -> float | None:
    if len(x) != len(y):
        raise ValueError(f"pearson needs equal lengths, got {len(x)} and {len(y)}")
    if len(x) < 2:
        return None
    a = torch.tensor(x, dtype=torch.float64)
    b = torch.tensor(y, dtype=torch.float64)
    a, b = a - a.mean(), b - b.mean()
    denominator = float(a.norm() * b.norm())
    if denominator == 0.0 or not math.isfinite(denominator):
        return None
    return float((a * b).sum()) / denominator

"""Verification by real ablation against ablations run one by one by hand."""

from __future__ import annotations

import torch
from torch import Tensor

from neuron_explainer.activations import Ablation, AttributionRequest, Node, attribute
from neuron_explainer.activations.ablations import resolve_ablations
from neuron_explainer.activations.direction import LogitDifference
from neuron_explainer.activations.nodes import NodeSite
from neuron_explainer.activations.verification import pearson, verify_by_ablation
from neuron_explainer.models import HookPoint, Transformer
from tests.activations.helpers import (
    DISTRACTOR,
    PROMPT,
    TARGET,
    logit_diff,
    model64,
    with_saes,
)

EXACT_ATOL = 1e-9
POSITION = len(PROMPT) - 1
N_VERIFIED = 12


def zeroed_by_hand(model: Transformer, node: Node, extra: list[tuple[str, object]]) -> float:
    index = NodeSite(node.family, node.site).index(node)

    def zero(x: Tensor, hook: HookPoint) -> Tensor:
        x = x.clone()
        x[(0, *index)] = 0.0  # an embedding node: its whole vector
        return x

    with torch.no_grad():
        logits = model.run_with_hooks(
            torch.tensor([PROMPT]),
            fwd_hooks=[*extra, (node.site, zero)],  # type: ignore[list-item]
        )
    return float(logit_diff(logits, POSITION)[0])


def test_true_effects_equal_ablations_one_by_one() -> None:
    model = model64()
    with with_saes(model):
        result = attribute(
            model,
            AttributionRequest(PROMPT, [TARGET], [DISTRACTOR], k=5, verify=N_VERIFIED),
        )
        verification = result.verification
        assert verification is not None and len(verification.nodes) == N_VERIFIED
        assert abs(verification.baseline - result.logit_diff.left) <= EXACT_ATOL
        for verified in verification.nodes:
            by_hand = verification.baseline - zeroed_by_hand(model, verified.node, [])
            assert abs(verified.true_effect - by_hand) <= EXACT_ATOL, verified.node.id
        by_row = {r.node: r.values.left.total_effect for r in result.nodes}
        for verified in verification.nodes:
            assert verified.estimate == by_row[verified.node]
    estimates = torch.tensor([v.estimate for v in verification.nodes])
    trues = torch.tensor([v.true_effect for v in verification.nodes])
    expected = float(torch.corrcoef(torch.stack([estimates, trues]))[0, 1])
    assert verification.pearson is not None
    assert abs(verification.pearson - expected) <= 1e-6
    # Attribution patching is a good estimate of single-node ablations on this model.
    assert verification.pearson > 0.5
    families = {v.node.family for v in verification.nodes}
    assert len(families) >= 2


def test_verification_keeps_the_requests_ablations() -> None:
    model = model64()
    ablation = Ablation.layer(0, "attn", 4)
    tokens = torch.tensor(PROMPT)
    resolved = resolve_ablations(model, tokens, [ablation])
    nodes = [Node.neuron(1, POSITION, i) for i in range(4)] + [Node.embedding(3)]
    objective = LogitDifference((TARGET,), (DISTRACTOR,), POSITION)
    batched = verify_by_ablation(model, tokens, nodes, [0.0] * len(nodes), objective, resolved)

    def zero_z(x: Tensor, hook: HookPoint) -> Tensor:
        x = x.clone()
        x[0, 4] = 0.0
        return x

    with torch.no_grad():
        clean = model.run_with_hooks(tokens[None], fwd_hooks=[(ablation.site, zero_z)])
    base = float(logit_diff(clean, POSITION)[0])
    assert abs(batched.baseline - base) <= EXACT_ATOL
    for i, verified in enumerate(batched.nodes):
        by_hand = base - zeroed_by_hand(model, nodes[i], [(ablation.site, zero_z)])
        assert abs(verified.true_effect - by_hand) <= EXACT_ATOL
        single = verify_by_ablation(model, tokens, [nodes[i]], [0.0], objective, resolved)
        assert abs(single.nodes[0].true_effect - verified.true_effect) <= EXACT_ATOL
    assert not model.hook_points.any_attached()


def test_pearson_edge_cases() -> None:
    assert pearson([1.0], [2.0]) is None
    assert pearson([1.0, 1.0], [2.0, 3.0]) is None
    assert pearson([1.0, 2.0, 3.0], [2.0, 4.0, 6.5]) is not None
    assert abs(pearson([1.0, 2.0], [-1.0, -2.0]) + 1) <= 1e-12  # type: ignore[operator]

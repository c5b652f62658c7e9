"""A compare prompt of another token count: right-aligned with the prompt, each paired node's
values equal to those of a run of its prompt alone, unpaired nodes on one side only."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from neuron_explainer.activations import (
    METRICS,
    Ablation,
    AttributionRequest,
    AttributionResult,
    Node,
    NodeValues,
    Trace,
    attribute,
)
from neuron_explainer.activations.alignment import Alignment
from neuron_explainer.models import Transformer
from tests.activations.helpers import DISTRACTOR, PROMPT, TARGET, model64, with_saes

EXACT_ATOL = 1e-9
SHORT = [9, 3, 77, 42]  # 3 tokens shorter than PROMPT: its token i pairs with PROMPT's i + 3
EVERY = 5000  # a k above the node count: every valid node is listed
FAMILIES = ("embedding", "neuron", "head", "latent")


@pytest.fixture(scope="module")
def model() -> Iterator[Transformer]:
    model = model64()
    with with_saes(model, ["blocks.0.hook_resid_pre"]):
        yield model


def run(model: Transformer, prompt: list[int], **changes: object) -> AttributionResult:
    fields: dict[str, object] = dict(
        prompt=prompt, targets=[TARGET], distractors=[DISTRACTOR], k=EVERY, families=FAMILIES
    )
    return attribute(model, AttributionRequest(**{**fields, **changes}))  # type: ignore[arg-type]


def alone(result: AttributionResult) -> dict[Node, NodeValues]:
    """The values of every listed node of a single run."""
    return {r.node: r.values.left for r in result.nodes if r.values.left is not None}


def shifted(node: Node, by: int) -> Node | None:
    """The node at the paired positions of the other prompt; None without them."""
    key = None if node.key_token is None else node.key_token + by
    if node.token + by < 0 or (key is not None and key < 0):
        return None
    return Node(node.family, node.site, node.token + by, node.index, key)


def same(a: NodeValues | None, b: NodeValues | None) -> bool:
    assert a is not None and b is not None
    for metric in METRICS:
        x, y = getattr(a, metric), getattr(b, metric)
        if not ((x != x and y != y) or abs(x - y) <= EXACT_ATOL):
            return False
    return True


def test_the_alignment_pairs_tokens_from_the_end() -> None:
    alignment = Alignment(5, 3)
    assert alignment.offset == -2
    assert alignment.left_to_right == [None, None, 0, 1, 2]
    assert alignment.right_to_left == [2, 3, 4]
    longer = Alignment(2, 4)
    assert longer.left_to_right == [2, 3] and longer.right_to_left == [None, None, 0, 1]
    assert alignment.right_position(2) == 0
    with pytest.raises(ValueError, match=r"token 1 of the prompt, has no paired token.*2 tokens"):
        alignment.right_position(1)


def test_a_shorter_compare_prompt_pairs_the_last_tokens(model: Transformer) -> None:
    both, single_right = run(model, PROMPT, compare_prompt=SHORT), run(model, SHORT)
    left, right = alone(run(model, PROMPT)), alone(single_right)
    offset = len(SHORT) - len(PROMPT)
    assert both.alignment == Alignment(len(PROMPT), len(SHORT))
    assert both.position == len(PROMPT) - 1
    assert abs(both.logit_diff.right - single_right.logit_diff.left) <= EXACT_ATOL  # type: ignore[operator]
    assert {r.node for r in both.nodes} == set(left)  # ranked on the left: every left node
    one_sided = 0
    for row in both.nodes:
        assert same(row.values.left, left[row.node]), row.node.id
        pair = shifted(row.node, offset)
        if pair is None:  # e.g. a head pair whose key falls before the compare prompt starts
            assert row.values.right is None and row.values.diff is None, row.node.id
            one_sided += 1
            continue
        assert same(row.values.right, right[pair]), row.node.id
        assert row.values.diff is not None and row.values.left is not None
        assert row.values.right is not None
        assert (
            abs(
                row.values.diff.total_effect
                - (row.values.left.total_effect - row.values.right.total_effect)
            )
            <= EXACT_ATOL
        )
    assert one_sided > 0
    assert any(r.node.family == "head" and r.node.token >= 3 > r.node.key_token for r in both.nodes)  # type: ignore[operator]
    for family, sums in both.token_sums.items():
        assert sums.right == pytest.approx(single_right.token_sums[family].left, abs=EXACT_ATOL)
        assert sums.diff is not None and sums.right is not None
        for i, d in enumerate(sums.diff):
            if i + offset < 0:
                assert math.isnan(d)
            else:
                assert abs(d - (sums.left[i] - sums.right[i + offset])) <= EXACT_ATOL


def test_a_longer_compare_prompt_ranked_on_the_right(model: Transformer) -> None:
    both = run(model, SHORT, compare_prompt=PROMPT, rank_on="right")
    left, right = alone(run(model, SHORT)), alone(run(model, PROMPT))
    offset = len(PROMPT) - len(SHORT)
    right_only = [r for r in both.nodes if r.values.left is None]
    assert right_only and all(r.values.diff is None for r in right_only)
    for row in both.nodes:
        if row.values.left is None:  # in the compare prompt's positions
            assert same(row.values.right, right[row.node]), row.node.id
            assert shifted(row.node, -offset) is None
        else:
            pair = shifted(row.node, offset)
            assert pair is not None
            assert same(row.values.left, left[row.node]) and same(row.values.right, right[pair])
    assert {r.node for r in right_only} | {
        shifted(r.node, offset) for r in both.nodes if r.values.left is not None
    } == set(right)
    # Ranked on the difference, only paired nodes have one.
    diff = run(model, SHORT, compare_prompt=PROMPT, rank_on="diff", k=5)
    assert diff.nodes and all(r.values.diff is not None for r in diff.nodes)


def test_positions_and_traces_are_resolved_per_prompt(model: Transformer) -> None:
    offset = len(SHORT) - len(PROMPT)
    both = run(model, PROMPT, compare_prompt=SHORT, position=-2, k=3)
    right = run(model, SHORT, position=-2, k=3)
    assert both.position == len(PROMPT) - 2
    assert abs(both.logit_diff.right - right.logit_diff.left) <= EXACT_ATOL  # type: ignore[operator]
    from_start = run(model, PROMPT, compare_prompt=SHORT, position=4, k=3)
    at = run(model, SHORT, position=4 + offset, k=3)
    assert abs(from_start.logit_diff.right - at.logit_diff.left) <= EXACT_ATOL  # type: ignore[operator]
    with pytest.raises(ValueError, match="token 2 of the prompt, has no paired token"):
        run(model, PROMPT, compare_prompt=SHORT, position=2)

    trace = Trace.head("qk", 1, 2, 6, 4)
    traced = run(model, PROMPT, compare_prompt=SHORT, trace=trace, k=3)
    on_right = run(model, SHORT, trace=Trace.head("qk", 1, 2, 6 + offset, 4 + offset), k=3)
    assert abs(traced.objective_value.right - on_right.objective_value.left) <= EXACT_ATOL  # type: ignore[operator]
    pinned = traced.nodes[0]
    assert pinned.pins == ("traced",) and pinned.node == Node.head(1, 2, 6, 4)
    assert on_right.nodes[0].node == Node.head(1, 2, 3, 1)
    assert same(pinned.values.right, on_right.nodes[0].values.left)
    with pytest.raises(ValueError, match=r"traced key token 1 \(token 1 of the prompt\) has no"):
        run(model, PROMPT, compare_prompt=SHORT, trace=Trace.head("qk", 1, 2, 6, 1))


def test_ablations_apply_to_the_left_prompt_alone(model: Transformer) -> None:
    node = Node.neuron(0, 5, 3)
    both = run(model, PROMPT, compare_prompt=SHORT, ablations=[Ablation.node(node)], k=2)
    ablated = run(model, PROMPT, ablations=[Ablation.node(node)], k=2)
    assert abs(both.logit_diff.left - ablated.logit_diff.left) <= EXACT_ATOL
    assert abs(both.logit_diff.right - run(model, SHORT, k=2).logit_diff.left) <= EXACT_ATOL  # type: ignore[operator]
    pinned = both.nodes[0]
    assert pinned.node == node and pinned.pins == ("ablated",)
    assert pinned.values.left is not None and pinned.values.left.activation == 0
    assert same(pinned.values.right, alone(run(model, SHORT))[Node.neuron(0, 2, 3)])
    with pytest.raises(ValueError, match="source prompt need the same number of tokens"):
        run(model, PROMPT, compare_prompt=SHORT, source_prompt=SHORT)

"""The entry point: node tables, logits, token sums, two runs, ablations, pluggable objectives,
and no hooks left behind."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pytest
import torch
from torch import Tensor

from neuron_explainer.activations import (
    METRICS,
    Ablation,
    AttributionRequest,
    AttributionResult,
    DirectRead,
    LogitDifference,
    Node,
    Trace,
    attribute,
)
from neuron_explainer.activations.attribution import compute_metrics
from neuron_explainer.activations.direction import final_residual_gradient
from neuron_explainer.activations.families import get_family
from neuron_explainer.activations.metrics import SiteMetrics
from neuron_explainer.activations.nodes import NodeSite
from neuron_explainer.models import Transformer
from neuron_explainer.models.hooks import HookSpec
from neuron_explainer.models.sae_splice import spliced_saes
from tests.activations.helpers import (
    DISTRACTOR,
    PROMPT,
    TARGET,
    logit_diff,
    model64,
    run_edited,
    set_at,
    with_saes,
)

EXACT_ATOL = 1e-9
OTHER = [9, 3, 77, 42, 1, 18, 60]
POSITION = len(PROMPT) - 1
K = 4


def request(**changes: object) -> AttributionRequest:
    fields: dict[str, object] = dict(prompt=PROMPT, targets=[TARGET], distractors=[DISTRACTOR], k=K)
    return AttributionRequest(**{**fields, **changes})  # type: ignore[arg-type]


def metrics_of(model: Transformer, prompt: list[int]) -> dict[str, SiteMetrics]:
    objective = LogitDifference((TARGET,), (DISTRACTOR,), POSITION)
    _, metrics = compute_metrics(model, torch.tensor([prompt]), objective)
    return {m.site.site: m for m in metrics}


def value_at(metrics: Mapping[str, SiteMetrics], node: Node, metric: str) -> float:
    m = metrics[node.site]
    return float(getattr(m, metric)[(0, *NodeSite(node.family, node.site).index(node))])


def same(a: float, b: float) -> bool:
    return (a != a and b != b) or abs(a - b) <= EXACT_ATOL  # NaN equals NaN here


def test_text_prompt_strings_and_logits() -> None:
    model = model64()
    result = attribute(
        model, AttributionRequest("def f(x):", targets=[" "], distractors=["\n", "x"], k=2)
    )
    assert result.token_strings.left == list("def f(x):")
    assert result.tokens.left == model.tokenizer.encode("def f(x):")  # type: ignore[union-attr]
    assert result.right_run is None and result.tokens.right is None
    logits = model(torch.tensor([result.tokens.left]))[0, -1].detach()
    expected = logits[0] - (logits[95] + logits[88]) / 2  # " " against "\n" and "x"
    assert abs(result.logit_diff.left - expected.item()) <= EXACT_ATOL
    assert result.objective_value.left == result.logit_diff.left
    shown = result.top_logits.left
    assert [t.rank for t in shown[:10]] == list(range(10))
    assert [t.logit for t in shown[:10]] == sorted((t.logit for t in shown[:10]), reverse=True)
    roles = {t.token: t.role for t in shown}
    assert roles[0] == "target" and roles[95] == roles[88] == "distractor"
    assert abs(sum(t.probability for t in shown) - 1) < 1  # probabilities, not logits


def test_node_table_is_the_top_and_bottom_k_of_every_metric() -> None:
    model = model64()
    with with_saes(model):
        result = attribute(model, request())
        metrics = metrics_of(model, PROMPT)
    for row in result.nodes:  # every metric filled from the full tables
        for metric in METRICS:
            assert same(getattr(row.values.left, metric), value_at(metrics, row.node, metric))
    for metric in METRICS:
        every = torch.cat(
            [
                m.get(metric)[0][m.valid].flatten()
                for m in metrics.values()
                if m.get(metric).isfinite().all()
            ]
        )
        for direction, values in (
            ("top", every.topk(K).values),
            ("bottom", -(-every).topk(K).values),
        ):
            if metric == "write_magnitude" and direction == "bottom":
                continue
            chosen = [
                getattr(r.values.left, metric)
                for r in result.nodes
                if f"{metric}:{direction}" in r.ranked_by
            ]
            # Ties (embedding activations are all 1) make the nodes ambiguous, not the values.
            assert sorted(chosen) == pytest.approx(sorted(values.tolist()), abs=EXACT_ATOL)
    totals = [r.values.left.total_effect for r in result.nodes]
    assert totals == sorted(totals, reverse=True)
    assert len({r.node.family for r in result.nodes}) >= 2


def test_token_sums_add_up_each_family() -> None:
    model = model64()
    result = attribute(model, request(families=["embedding", "neuron", "head"]))
    metrics = metrics_of(model, PROMPT)
    neurons = sum(m.total_effect[0].sum(-1) for m in metrics.values() if m.site.family == "neuron")
    heads = sum(m.total_effect[0].sum((0, 1)) for m in metrics.values() if m.site.family == "head")
    assert torch.allclose(
        torch.tensor(result.token_sums["neuron"].left, dtype=torch.float64), neurons
    )
    assert torch.allclose(torch.tensor(result.token_sums["head"].left, dtype=torch.float64), heads)
    assert set(result.token_sums) == {"embedding", "neuron", "head"}


def test_two_prompts_in_one_batch_equal_two_single_runs() -> None:
    model = model64()
    with with_saes(model):
        both = attribute(model, request(compare_prompt=OTHER, rank_on="diff"))
        left, right = metrics_of(model, PROMPT), metrics_of(model, OTHER)
        single = attribute(model, request(prompt=OTHER))
    assert both.right_run == "prompt" and both.tokens.right == OTHER
    assert abs(both.logit_diff.right - single.logit_diff.left) <= EXACT_ATOL  # type: ignore[operator]
    assert both.logit_diff.diff == both.logit_diff.left - both.logit_diff.right  # type: ignore[operator]
    for row in both.nodes:
        for metric in METRICS:
            l_value, r_value = value_at(left, row.node, metric), value_at(right, row.node, metric)
            assert same(getattr(row.values.left, metric), l_value)
            assert same(getattr(row.values.right, metric), r_value)
            assert same(getattr(row.values.diff, metric), l_value - r_value)
    diffs = [r.values.diff.total_effect for r in both.nodes]  # type: ignore[union-attr]
    assert diffs == sorted(diffs, reverse=True)  # ranked on the difference
    for family, sums in both.token_sums.items():
        assert sums.right == pytest.approx(single.token_sums[family].left, abs=EXACT_ATOL)


def test_ablated_and_traced_nodes_are_pinned_to_the_table() -> None:
    """An ablated node has little left to rank it by, a traced node is downstream of its own
    quantity: both are listed first all the same, with the values of both runs."""
    model = model64()
    node = Node.neuron(0, 3, 5)
    ablated = attribute(model, request(ablations=[Ablation.node(node)], families=["neuron"], k=1))
    pinned, *ranked = ablated.nodes
    assert pinned.node == node and pinned.pins == ("ablated",)
    assert pinned.values.left.activation == 0 and pinned.values.left.total_effect == 0
    baseline = metrics_of(model, PROMPT)
    for metric in METRICS:
        assert same(getattr(pinned.values.right, metric), value_at(baseline, node, metric))
    assert ranked and not any(r.pins for r in ranked)
    # A node of a family the request does not list is measured for its pin, but not ranked.
    heads = attribute(model, request(ablations=[Ablation.node(node)], families=["head"], k=1))
    assert heads.nodes[0].node == node and heads.nodes[0].ranked_by == ()
    assert {r.node.family for r in heads.nodes[1:]} == {"head"}
    # Ablations of many nodes (a whole layer at a token, a neuron at every token) pin nothing.
    many = [Ablation.layer(0, "mlp", 3), Ablation.neuron(1, None, 2), Ablation.head(1, 2, 6)]
    assert not any(r.pins for r in attribute(model, request(ablations=many, k=1)).nodes)

    trace = Trace.neuron(1, 6, 7)
    traced = attribute(model, request(trace=trace, families=["neuron"], k=1))
    pinned = traced.nodes[0]
    assert pinned.node == Node.neuron(1, 6, 7) and pinned.pins == ("traced",)
    assert pinned.ranked_by == ()  # downstream of its pre-activation: never ranked
    assert same(pinned.values.left.activation, value_at(baseline, pinned.node, "activation"))
    both = attribute(
        model, request(trace=trace, ablations=[Ablation.node(pinned.node)], families=["neuron"])
    )
    assert both.nodes[0].pins == ("ablated", "traced")


def test_ablated_against_baseline() -> None:
    model = model64()
    ablation = Ablation.neuron(0, 3, 5)
    result = attribute(model, request(ablations=[ablation], families=["neuron"]))
    baseline = attribute(model, request(families=["neuron"]))
    by_hand = run_edited(model, torch.tensor([PROMPT]), ablation.site, set_at((3, 5), 0.0))
    assert result.right_run == "baseline" and result.tokens.right == PROMPT
    assert abs(result.logit_diff.left - by_hand) <= EXACT_ATOL
    assert abs(result.logit_diff.right - baseline.logit_diff.left) <= EXACT_ATOL  # type: ignore[operator]
    assert abs(result.logit_diff.diff) > 1e-4  # type: ignore[arg-type]
    # The ablated neuron has no activation and no effect in the left run.
    ablated_nodes = attribute(model, request(ablations=[ablation], families=["neuron"], k=2000))
    (row,) = [r for r in ablated_nodes.nodes if r.node == Node.neuron(0, 3, 5)]
    assert row.values.left.activation == 0 and row.values.left.total_effect == 0
    assert row.values.right is not None and row.values.right.activation != 0


@dataclass(frozen=True)
class TargetLogit:
    """A different objective: the target's logit alone (not a difference)."""

    position: int

    @property
    def name(self) -> str:
        return "target_logit"

    def cache_names(self) -> list[str]:
        return ["ln_final.hook_scale"]

    def hooks(self) -> list[HookSpec]:
        return [("ln_final.hook_scale", lambda x, _: x.detach())]

    def value(self, logits: Tensor, cache: Mapping[str, Tensor]) -> Tensor:
        return logits[:, TARGET]

    def direct_read(self, model: Transformer, cache: Mapping[str, Tensor]) -> DirectRead:
        scale = cache["ln_final.hook_scale"][:, self.position, 0]
        gradient = final_residual_gradient(model, model.W_U[:, TARGET].detach(), scale)
        return DirectRead(self.position, 2 * model.cfg.n_layers + 1, gradient)


def test_the_objective_is_pluggable() -> None:
    model = model64()
    result = attribute(model, request(objective=TargetLogit(POSITION), families=["neuron"], k=50))
    logits = model(torch.tensor([PROMPT])).detach()
    assert abs(result.objective_value.left - float(logits[0, -1, TARGET])) <= EXACT_ATOL
    assert abs(result.logit_diff.left - float(logit_diff(logits)[0])) <= EXACT_ATOL
    last_layer = [r for r in result.nodes if r.node.layer == 1 and r.node.token == POSITION]
    assert last_layer  # their writes reach the logits only directly
    for row in last_layer:
        assert abs(row.values.left.total_effect - row.values.left.direct_effect) <= EXACT_ATOL


def test_vocabulary_tables_of_listed_nodes() -> None:
    model = model64()
    with with_saes(model):
        result = attribute(model, request(k=20, n_vocab_tokens=3))
        pre_sae = spliced_saes(model)["blocks.1.mlp.hook_pre"]
        assert pre_sae is not None
    w = model.ln_final.w.detach()  # type: ignore[union-attr]
    for row in result.nodes:
        tables = row.tokens
        if row.node.site.startswith("blocks.1.mlp.hook_pre."):
            assert tables.output_top is None and tables.input_top is not None
            continue
        assert tables.output_top is not None and tables.output_bottom is not None
        assert len(tables.output_top) == 3
        if row.node.family == "neuron":
            direction = model.blocks[row.node.layer].mlp.W_out[row.node.index].detach()
            scores = ((direction - direction.mean()) * w) @ model.W_U.detach()
            assert [t.token for t in tables.output_top] == scores.topk(3).indices.tolist()
            assert [t.token for t in tables.output_bottom] == (-scores).topk(3).indices.tolist()
            assert tables.output_bottom[0].value == pytest.approx(float(scores.min()))
            assert tables.input_top is not None
        if row.node.family == "head":
            v_site = row.node.site.replace("hook_pattern", "hook_v")
            _, cache = model.run_with_cache(torch.tensor([PROMPT]), names_filter=v_site)
            v = cache[v_site][0, row.node.key_token, row.node.index]
            direction = v @ model.blocks[row.node.layer].attn.W_O[row.node.index].detach()
            scores = ((direction - direction.mean()) * w) @ model.W_U.detach()
            assert [t.token for t in tables.output_top] == scores.topk(3).indices.tolist()
        if row.node.family in ("head", "embedding"):
            assert tables.input_top is None
        assert (
            tables.output_top[0].string
            == model.tokenizer.token_strings(  # type: ignore[union-attr]
                [tables.output_top[0].token]
            )[0]
        )


def test_frozen_weights_give_the_same_metrics() -> None:
    """Gradients are taken at the activations, so weights need not require gradients."""
    model = model64()
    families = ["neuron", "head"]  # no embeddings: the first activation with a gradient is later
    expected = attribute(model, request(families=families))
    model.requires_grad_(False)
    frozen = attribute(model, request(families=families))
    assert [r.node for r in frozen.nodes] == [r.node for r in expected.nodes]
    for a, b in zip(frozen.nodes, expected.nodes, strict=True):
        for metric in METRICS:
            assert same(getattr(a.values.left, metric), getattr(b.values.left, metric))


def assert_clean(model: Transformer, names: list[str], saes: dict[str, object]) -> None:
    assert not model.hook_points.any_attached()
    assert model.hook_names() == names
    assert spliced_saes(model) == saes


class BrokenObjective(TargetLogit):
    def direct_read(self, model: Transformer, cache: Mapping[str, Tensor]) -> DirectRead:
        raise RuntimeError("broken on purpose")


def test_no_hooks_remain_after_requests_and_errors() -> None:
    model = model64()
    with with_saes(model):
        names, saes = model.hook_names(), spliced_saes(model)
        attribute(model, request(ablations=[Ablation.head(0, 1, None, "mean")], verify=3))
        assert_clean(model, names, saes)
        with pytest.raises(RuntimeError, match="on purpose"):
            attribute(model, request(objective=BrokenObjective(POSITION)))
        assert_clean(model, names, saes)
        with pytest.raises(ValueError, match="token 50 not in"):
            attribute(model, request(ablations=[Ablation.neuron(0, 50, 1)]))
        assert_clean(model, names, saes)


def test_requests_are_validated() -> None:
    model = model64()
    with pytest.raises(ValueError, match="k must be at least 1"):
        attribute(model, request(k=0))
    with pytest.raises(ValueError, match="overlap"):
        attribute(model, request(distractors=[TARGET]))
    with pytest.raises(ValueError, match="Unknown node family"):
        get_family("cells")
    with pytest.raises(ValueError, match="needs a compare prompt"):
        attribute(model, request(rank_on="diff"))
    with pytest.raises(ValueError, match="is 2 tokens"):
        attribute(model, request(targets=["ab"]))
    with pytest.raises(ValueError, match="outside a prompt"):
        attribute(model, request(position=len(PROMPT)))
    result: AttributionResult = attribute(model, request(position=2, families=["embedding"]))
    assert result.position == 2


def test_logits_are_computed_at_the_objective_position_only() -> None:
    model = model64()
    tokens = torch.tensor([PROMPT])
    early = LogitDifference((TARGET,), (DISTRACTOR,), POSITION - 2)
    with pytest.raises(ValueError, match="the objective reads"):
        compute_metrics(model, tokens, early)  # logits at the last token, objective earlier
    run, _ = compute_metrics(model, tokens, early, logit_position=POSITION - 2)
    full = model(tokens).detach()
    torch.testing.assert_close(run.logits, full[:, POSITION - 2], atol=1e-5, rtol=1e-5)


def test_mlp_and_attention_latents_can_be_requested_apart() -> None:
    model = model64()
    sites = ["blocks.0.mlp.hook_post", "blocks.1.hook_attn_out", "blocks.1.hook_resid_pre"]
    with with_saes(model, sites):
        results = {
            name: attribute(model, request(families=[name], k=3))
            for name in ("latent", "mlp_latent", "attn_latent")
        }
    listed = {name: {row.node.site for row in r.nodes} for name, r in results.items()}
    assert listed["mlp_latent"] == {"blocks.0.mlp.hook_post.hook_sae_acts_post"}
    assert listed["attn_latent"] == {"blocks.1.hook_attn_out.hook_sae_acts_post"}
    assert all(row.node.family == "latent" for r in results.values() for row in r.nodes)
    sums = {name: torch.tensor(r.token_sums[name].left) for name, r in results.items()}
    resid = sums["latent"] - sums["mlp_latent"] - sums["attn_latent"]  # the resid_pre latents
    assert resid.abs().sum() > 0

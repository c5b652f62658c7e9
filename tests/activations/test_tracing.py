"""Tracing against brute force: each traced quantity computed from a plain forward pass, its
gradients by autograd, direct effects from materialised write vectors, total effects by finite
differences, downstream nodes left out, and bad traces refused."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import pytest
import torch
from torch import Tensor

from neuron_explainer.activations import AttributionRequest, LogitDifference, Node, Trace, attribute
from neuron_explainer.activations.attribution import compute_metrics
from neuron_explainer.activations.forward import GradientPass
from neuron_explainer.activations.metrics import SiteMetrics
from neuron_explainer.activations.nodes import NodeSite
from neuron_explainer.activations.traced_quantities import TracedQuantity
from neuron_explainer.activations.tracing import trace_objective
from neuron_explainer.models import Transformer
from neuron_explainer.models.hooks import HookPoint, HookSpec
from neuron_explainer.models.sae_splice import spliced_saes
from tests.activations.helpers import (
    DISTRACTOR,
    PROMPT,
    TARGET,
    cache_of,
    final_gradient_by_autograd,
    logit_diff,
    model64,
    with_saes,
)

LATENT_SUFFIX = ".hook_sae_acts_post"  # SAELens's name of an autoencoder's latents

EXACT_ATOL = 1e-9  # float64: the same numbers computed in another order
EPS, FD_ATOL = 1e-5, 1e-7  # central differences are exact to O(EPS^2)
TOKENS = torch.tensor([PROMPT])
POS, POSITION = len(PROMPT), len(PROMPT) - 1
OTHER = [9, 3, 77, 42, 1, 18, 60]
# Sites by name; the autoencoders are those of `helpers.SAE_SITES`.
EMBED, PATTERN0, PATTERN1 = "hook_embed", "blocks.0.attn.hook_pattern", "blocks.1.attn.hook_pattern"
NEURONS0 = "blocks.0.mlp.hook_post"
RESID_PRE0, ATTN_OUT0, POST0, RESID_MID1 = (
    s + LATENT_SUFFIX
    for s in (
        "blocks.0.hook_resid_pre",
        "blocks.0.hook_attn_out",
        "blocks.0.mlp.hook_post",
        "blocks.1.hook_resid_mid",
    )
)
BEFORE_ATTN1 = frozenset({EMBED, RESID_PRE0, ATTN_OUT0, PATTERN0, NEURONS0, POST0})
Cache = Mapping[str, Tensor]


@dataclass(frozen=True)
class Case:
    """A trace and its brute-force reference: `quantity(model, cache, clean)` from the cache of a
    plain forward pass (stop-gradients read the clean run's cache), its gradient taken against a
    fresh leaf at `leaf` with the LayerNorm scale `scale` held at its clean value. `direct` are
    the sites whose writes the quantity reads directly."""

    trace: Trace
    names: tuple[str, ...]
    quantity: Callable[[Transformer, Cache, Cache], Tensor]
    leaf: str
    scale: str | None
    direct: frozenset[str]


def score(layer: int, head: int, q: int, k: int, part: str) -> Callable[..., Tensor]:
    def quantity(model: Transformer, cache: Cache, clean: Cache) -> Tensor:
        q_cache = clean if part == "key" else cache
        k_cache = clean if part == "query" else cache
        query = q_cache[f"blocks.{layer}.attn.hook_q"][:, q, head]
        key = k_cache[f"blocks.{layer}.attn.hook_k"][:, k, head]
        return (query * key).sum(-1) / math.sqrt(model.cfg.d_head)

    return quantity


def value_path(
    head: int, q: int, k: int, g: Callable[[Transformer], Tensor]
) -> Callable[..., Tensor]:
    """Layer 0's pair (head, q, k): frozen pattern * (v @ W_O) · frozen downstream gradient."""

    def quantity(model: Transformer, cache: Cache, clean: Cache) -> Tensor:
        pattern = clean[PATTERN0][:, head, q, k]
        write = cache["blocks.0.attn.hook_v"][:, k, head] @ model.blocks[0].attn.W_O[head].detach()
        return pattern * (write * g(model)).sum(-1)

    return quantity


def pre_act(site: str, token: int, index: int) -> Callable[..., Tensor]:
    return lambda model, cache, clean: cache[site][:, token, index]


NEURON = Case(
    Trace.neuron(1, 5, 7),
    ("blocks.1.mlp.hook_pre",),
    pre_act("blocks.1.mlp.hook_pre", 5, 7),
    "blocks.1.hook_resid_mid",
    "blocks.1.ln2.hook_scale",
    BEFORE_ATTN1 | {PATTERN1, RESID_MID1},
)


def neuron_gradient(model: Transformer) -> Tensor:
    return reference(model, NEURON)[1][5].detach()


QK_NAMES = ("blocks.1.attn.hook_q", "blocks.1.attn.hook_k")
CASES = {
    "neuron_pre": NEURON,
    "latent_pre_resid_mid": Case(
        Trace.latent("blocks.1.hook_resid_mid", 4, 3),
        ("blocks.1.hook_resid_mid.hook_sae_acts_pre",),
        pre_act("blocks.1.hook_resid_mid.hook_sae_acts_pre", 4, 3),
        "blocks.1.hook_resid_mid.hook_sae_input",
        None,
        BEFORE_ATTN1 | {PATTERN1},
    ),
    "latent_pre_mlp_pre": Case(
        Trace.latent("blocks.1.mlp.hook_pre", 5, 9),
        ("blocks.1.mlp.hook_pre.hook_sae_acts_pre",),
        pre_act("blocks.1.mlp.hook_pre.hook_sae_acts_pre", 5, 9),
        "blocks.1.hook_resid_mid",
        "blocks.1.ln2.hook_scale",
        BEFORE_ATTN1 | {PATTERN1, RESID_MID1},
    ),
    "latent_pre_attn_out": Case(  # reads the attention's writes only
        Trace.latent("blocks.0.hook_attn_out", 4, 2),
        ("blocks.0.hook_attn_out.hook_sae_acts_pre",),
        pre_act("blocks.0.hook_attn_out.hook_sae_acts_pre", 4, 2),
        "blocks.0.hook_attn_out.hook_sae_input",
        None,
        frozenset({PATTERN0}),
    ),
    "head_query": Case(
        Trace.head("query", 1, 2, 5, 3),
        QK_NAMES,
        score(1, 2, 5, 3, "query"),
        "blocks.1.hook_resid_pre",
        "blocks.1.ln1.hook_scale",
        BEFORE_ATTN1,
    ),
    "head_key": Case(
        Trace.head("key", 1, 2, 5, 3),
        QK_NAMES,
        score(1, 2, 5, 3, "key"),
        "blocks.1.hook_resid_pre",
        "blocks.1.ln1.hook_scale",
        BEFORE_ATTN1,
    ),
    "head_qk": Case(
        Trace.head("qk", 1, 2, 5, 3),
        ("blocks.1.attn.hook_attn_scores",),
        lambda model, cache, clean: cache["blocks.1.attn.hook_attn_scores"][:, 2, 5, 3],
        "blocks.1.hook_resid_pre",
        "blocks.1.ln1.hook_scale",
        BEFORE_ATTN1,
    ),
    "head_qk_same_token": Case(
        Trace.head("qk", 1, 0, 4, 4),
        QK_NAMES,
        score(1, 0, 4, 4, "qk"),
        "blocks.1.hook_resid_pre",
        "blocks.1.ln1.hook_scale",
        BEFORE_ATTN1,
    ),
    "head_value_logit_diff": Case(
        Trace.head("value", 0, 1, POSITION, 2),
        ("blocks.0.attn.hook_v",),
        value_path(1, POSITION, 2, lambda m: final_gradient_by_autograd(m, TOKENS, POSITION)),
        "blocks.0.hook_resid_pre",
        "blocks.0.ln1.hook_scale",
        frozenset({EMBED, RESID_PRE0}),
    ),
    "head_value_neuron": Case(
        Trace.head("value", 0, 3, 5, 1, downstream=NEURON.trace),
        ("blocks.0.attn.hook_v",),
        value_path(3, 5, 1, neuron_gradient),
        "blocks.0.hook_resid_pre",
        "blocks.0.ln1.hook_scale",
        frozenset({EMBED, RESID_PRE0}),
    ),
}


@pytest.fixture(scope="module")
def model() -> Iterator[Transformer]:
    model = model64()
    with with_saes(model):
        yield model


def engine(
    model: Transformer, trace: Trace, tokens: Tensor = TOKENS
) -> tuple[TracedQuantity, GradientPass, dict[str, SiteMetrics]]:
    logit_difference = LogitDifference((TARGET,), (DISTRACTOR,), POSITION)
    quantity = trace_objective(model, trace, POS, logit_difference)
    run, metrics = compute_metrics(model, tokens, quantity)
    return quantity, run, {m.site.site: m for m in metrics}


def clean_cache(model: Transformer, case: Case) -> Cache:
    return cache_of(model, TOKENS, [*case.names, PATTERN0, *([case.scale] if case.scale else [])])


def frozen_scale(case: Case, clean: Cache) -> list[HookSpec]:
    scale = case.scale
    return [] if scale is None else [(scale, lambda x, _: clean[scale])]


def reference(model: Transformer, case: Case) -> tuple[float, Tensor]:
    """The traced quantity and its gradient [pos, d_model] with respect to the activation at
    `case.leaf`, by autograd through a plain forward pass."""
    clean, leaf = clean_cache(model, case), {}

    def make_leaf(x: Tensor, hook: HookPoint) -> Tensor:
        leaf["x"] = x.detach().requires_grad_(True)
        return leaf["x"]

    with torch.enable_grad():
        with model.hooks([(case.leaf, make_leaf), *frozen_scale(case, clean)]):
            _, cache = model.run_with_cache(TOKENS, names_filter=list(case.names), detach=False)
        value = case.quantity(model, cache, clean)  # may run the model: no hooks attached
        (grad,) = torch.autograd.grad(value.sum(), leaf["x"])
    return float(value[0].detach()), grad[0]


def edited_value(model: Transformer, case: Case, site: str, index: tuple[object, ...]) -> float:
    """d quantity / d log(activation at `index` of `site`), by central differences."""
    clean = clean_cache(model, case)
    values = []
    for factor in (1 + EPS, 1 - EPS):

        def scale(x: Tensor, hook: HookPoint, factor: float = factor) -> Tensor:
            x = x.clone()
            x[(0, *index)] *= factor
            return x

        with torch.no_grad(), model.hooks([(site, scale), *frozen_scale(case, clean)]):
            _, cache = model.run_with_cache(TOKENS, names_filter=list(case.names))
        values.append(float(case.quantity(model, cache, clean)[0]))
    return (values[0] - values[1]) / (2 * EPS)


def engine_gradient(model: Transformer, quantity: TracedQuantity, run: GradientPass) -> Tensor:
    """The gradients of the engine's reads, summed per token: [pos, d_model]."""
    out = torch.zeros(POS, model.cfg.d_model, dtype=model.dtype)
    for read in quantity.reads(model, run.cache):
        out[read.position] += read.gradient[0]
    return out


def close(actual: Tensor, expected: Tensor, atol: float = EXACT_ATOL) -> bool:
    return bool(((actual - expected).abs() <= atol).all())


@pytest.mark.parametrize("name", CASES)
def test_read_gradients_equal_autograd_of_the_traced_quantity(
    model: Transformer, name: str
) -> None:
    case = CASES[name]
    quantity, run, _ = engine(model, case.trace)
    value, expected = reference(model, case)
    assert abs(float(run.objective[0]) - value) <= EXACT_ATOL
    assert close(engine_gradient(model, quantity, run), expected)
    assert float(expected.abs().max()) > 1e-3  # not vacuous


def write_vectors(model: Transformer, site: NodeSite) -> Tensor | None:
    """Every node's write vector, materialised: [*node_layout, d_model] (None: not linear)."""
    cache = cache_of(model, TOKENS, [site.site, "blocks.0.attn.hook_v", "blocks.1.attn.hook_v"])
    act = cache[site.site][0]
    if site.family == "embedding":
        return model.W_E[TOKENS[0]].detach()
    if site.family == "neuron":
        return act[..., None] * model.blocks[site.layer].mlp.W_out.detach()
    if site.family == "head":
        v = cache[f"blocks.{site.layer}.attn.hook_v"][0]  # [k, head, d_head]
        vo = torch.einsum("khe,hed->hkd", v, model.blocks[site.layer].attn.W_O.detach())
        return act[..., None] * vo[:, None]  # [head, q, k, d_model]
    splice_site = site.site.removesuffix(LATENT_SUFFIX)
    if splice_site.endswith("mlp.hook_pre"):
        return None
    W_dec = spliced_saes(model)[splice_site].W_dec.detach()
    if splice_site.endswith("mlp.hook_post"):
        W_dec = W_dec @ model.blocks[site.layer].mlp.W_out.detach()
    return act[..., None] * W_dec


@pytest.mark.parametrize("name", CASES)
def test_direct_effects_are_writes_dotted_with_the_read_gradients(
    model: Transformer, name: str
) -> None:
    case = CASES[name]
    _, _, metrics = engine(model, case.trace)
    gradient = reference(model, case)[1]  # zero at tokens the quantity does not read
    for site_name, m in metrics.items():
        writes = write_vectors(model, m.site)
        if site_name not in case.direct:
            assert bool((m.direct_effect == 0).all()), site_name
            continue
        assert writes is not None
        if m.site.family == "head":  # a pair writes at its query token
            expected = torch.einsum("hqkd,qd->hqk", writes, gradient)
        else:
            expected = torch.einsum("p...d,pd->p...", writes, gradient)
        assert close(m.direct_effect[0], expected), site_name
        assert float(expected.abs().max()) > 1e-6, site_name


def largest_nodes(
    metrics: Mapping[str, SiteMetrics], count: int
) -> list[tuple[str, tuple[int, ...]]]:
    """The `count` valid nodes of largest |total effect| across all sites."""
    found = []
    for site_name, m in metrics.items():
        effect = torch.where(m.valid, m.total_effect[0], 0.0).abs()
        flat = effect.flatten().topk(count)
        for value, i in zip(flat.values.tolist(), flat.indices.tolist(), strict=True):
            index = torch.unravel_index(torch.tensor(i), effect.shape)
            found.append((value, site_name, tuple(int(j) for j in index)))
    return [(site, index) for _, site, index in sorted(found, reverse=True)[:count]]


@pytest.mark.parametrize(
    "name", ["neuron_pre", "latent_pre_mlp_pre", "head_query", "head_value_neuron"]
)
def test_total_effects_are_finite_differences_under_scaling(model: Transformer, name: str) -> None:
    case = CASES[name]
    _, _, metrics = engine(model, case.trace)
    for site, index in largest_nodes(metrics, 4):
        edit = (index[0], slice(None)) if site == EMBED else index  # embeddings: the vector
        finite_difference = edited_value(model, case, site, edit)
        estimate = float(metrics[site].total_effect[(0, *index)])
        assert abs(estimate - finite_difference) <= FD_ATOL, (site, index)
        assert abs(estimate) > 1e-3


def test_downstream_nodes_have_no_effect_and_are_not_listed(model: Transformer) -> None:
    trace = Trace.neuron(0, 3, 11)
    _, _, metrics = engine(model, trace)
    upstream_sites = {EMBED, RESID_PRE0, PATTERN0, ATTN_OUT0}  # before blocks.0.mlp.hook_pre
    for site_name, m in metrics.items():
        token_axis = 1 if m.site.family == "head" else 0
        tokens = torch.arange(POS).view([-1 if a == token_axis else 1 for a in range(m.valid.ndim)])
        upstream = (tokens <= 3) & (site_name in upstream_sites)
        assert bool((m.valid == (m.valid & upstream)).all()), site_name
        assert bool(m.valid.any()) == (site_name in upstream_sites), site_name
        for effect in (m.total_effect[0], m.direct_effect[0]):
            assert bool((effect[~upstream.expand_as(effect)] == 0).all()), site_name
    # The traced neuron's own activation is downstream: scaling it changes nothing.
    case = Case(
        trace,
        ("blocks.0.mlp.hook_pre",),
        pre_act("blocks.0.mlp.hook_pre", 3, 11),
        "",
        None,
        frozenset(),
    )
    assert edited_value(model, case, NEURONS0, (3, 11)) == 0.0
    result = attribute(model, AttributionRequest(PROMPT, [TARGET], [DISTRACTOR], trace=trace, k=20))
    pinned, *ranked = result.nodes  # the traced node, pinned first, then upstream nodes only
    assert pinned.pins == ("traced",) and pinned.ranked_by == ()
    assert ranked and all(r.node.token <= 3 and not r.pins for r in ranked)
    assert {r.node.site for r in ranked} <= upstream_sites
    # An autoencoder's latents come after its own pre-activations, whatever their sublayer.
    _, _, metrics = engine(model, CASES["latent_pre_resid_mid"].trace)
    assert not bool(metrics[RESID_MID1].valid.any())
    assert bool((metrics[RESID_MID1].direct_effect == 0).all())


def test_latents_of_mlp_neurons_have_undefined_direct_reads(model: Transformer) -> None:
    quantity, run, metrics = engine(model, Trace.latent("blocks.0.mlp.hook_post", 4, 5))
    assert not quantity.info.linear
    assert bool(metrics[EMBED].direct_effect[0, 4].isnan())
    assert bool((metrics[EMBED].direct_effect[0, :4] == 0).all())
    assert bool(metrics[PATTERN0].total_effect[0, :, 4].abs().max() > 1e-3)  # totals are defined
    # The splice reads the neurons before any hook on them: as nodes they come after the latents.
    assert not bool(metrics[NEURONS0].valid.any())
    expected = cache_of(model, TOKENS, ["blocks.0.mlp.hook_post.hook_sae_acts_pre"])
    assert (
        abs(float(run.objective[0] - expected["blocks.0.mlp.hook_post.hook_sae_acts_pre"][0, 4, 5]))
        <= EXACT_ATOL
    )


def test_attribute_with_a_trace(model: Transformer) -> None:
    trace = Trace.head("qk", 1, 2, 5, 3)
    result = attribute(
        model,
        AttributionRequest(PROMPT, [TARGET], [DISTRACTOR], trace=trace, compare_prompt=OTHER),
    )
    scores = "blocks.1.attn.hook_attn_scores"
    both = cache_of(model, torch.tensor([PROMPT, OTHER]), [scores])[scores][:, 2, 5, 3]
    assert abs(result.objective_value.left - float(both[0])) <= EXACT_ATOL
    assert abs(result.objective_value.right - float(both[1])) <= EXACT_ATOL  # type: ignore[operator]
    logits = model(TOKENS).detach()
    assert abs(result.logit_diff.left - float(logit_diff(logits)[0])) <= EXACT_ATOL
    pinned, *ranked = result.nodes
    assert pinned.node == Node.head(1, 2, 5, 3) and pinned.pins == ("traced",)
    assert all(r.node.token <= 5 and r.node.layer in (0, None) for r in ranked)
    assert Trace.of_node(Node.head(1, 2, 5, 3), "qk") == trace
    assert Trace.of_node(Node.neuron(1, 5, 7)) == Trace.neuron(1, 5, 7)
    assert Trace.of_node(Node.latent("blocks.0.hook_attn_out", 4, 2)) == Trace.latent(
        "blocks.0.hook_attn_out", 4, 2
    )


def test_a_trace_has_a_gradient_when_the_weights_are_frozen() -> None:
    model = model64().requires_grad_(False)
    trace = Trace.head("query", 0, 1, 5, 2)
    result = attribute(
        model, AttributionRequest(PROMPT, [TARGET], [DISTRACTOR], families=["head"], trace=trace)
    )
    q, k = (
        cache_of(model, TOKENS, [f"blocks.0.attn.hook_{x}"])[f"blocks.0.attn.hook_{x}"]
        for x in "qk"
    )
    expected = float((q[0, 5, 1] * k[0, 2, 1]).sum()) / math.sqrt(model.cfg.d_head)
    assert abs(result.objective_value.left - expected) <= EXACT_ATOL
    # Every head comes after layer 0's queries: the traced pair, pinned, is the only row.
    assert [(r.node, r.pins, r.ranked_by) for r in result.nodes] == [
        (Node.head(0, 1, 5, 2), ("traced",), ())
    ]


@pytest.mark.parametrize(
    ("trace", "message"),
    [
        (Trace.neuron(2, 0, 0), r"Trace layer 2 is out of range \[0, 2\)"),
        (Trace.neuron(0, 0, 64), r"Neuron 64 is out of range \[0, 64\)"),
        (Trace.neuron(0, 7, 0), r"token 7 is outside a prompt of 7 tokens; valid: \[-7, 7\)"),
        (Trace.neuron(0, -8, 0), r"token -8 is outside a prompt of 7 tokens"),
        (Trace.head("query", 0, 4, 5, 3), r"Head 4 is out of range \[0, 4\)"),
        (Trace.head("key", 0, 0, 3, 5), r"Key token 5 comes after query token 3; keys: \[0, 3\]"),
        (Trace.latent("blocks.0.hook_resid_post", 0, 0), "No autoencoder is spliced at"),
        (Trace.latent("blocks.0.hook_resid_pre", 0, 64), r"Latent 64 is out of range \[0, 64\)"),
        (Trace.head("value", 0, 0, 3, 2), "reads token 6 .* no direct effect"),
        (
            Trace.head("value", 1, 0, 5, 2, downstream=Trace.neuron(0, 5, 0)),
            r"sublayer 3, but neuron_pre.* from sublayers \[0, 2\)",
        ),
        (
            Trace.head("value", 0, 0, 5, 2, downstream=Trace.head("qk", 1, 0, 5, 2)),
            "no single linear read",
        ),
    ],
)
def test_bad_traces_say_what_is_valid(model: Transformer, trace: Trace, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        attribute(model, AttributionRequest(PROMPT, [TARGET], [DISTRACTOR], trace=trace))


def test_malformed_traces_and_requests_are_refused() -> None:
    with pytest.raises((ValueError, TypeError)):  # TypeError: the test-time type checks
        Trace("neuron_post", 0, 0, layer=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="neuron_pre traces name a layer, not a site"):
        Trace("neuron_pre", 0, 0)
    with pytest.raises(ValueError, match="latent_pre traces name their autoencoder's site"):
        Trace("latent_pre", 0, 0, layer=0, site="blocks.0.hook_resid_pre")
    with pytest.raises(ValueError, match="head_query traces need a key_token"):
        Trace("head_query", 0, 0, layer=0)
    with pytest.raises(ValueError, match="Only head_value traces take a downstream"):
        Trace.head("qk", 0, 0, 3, 2, downstream=Trace.neuron(1, 3, 0))
    with pytest.raises(ValueError, match="has no pre-activation to trace"):
        Trace.of_node(Node.embedding(3))
    with pytest.raises(ValueError, match="needs a part"):
        Trace.of_node(Node.head(0, 1, 3, 2))
    with pytest.raises(ValueError, match="attention-only"):
        attribute(
            model64(attn_only=True),
            AttributionRequest(PROMPT, [TARGET], [DISTRACTOR], trace=Trace.neuron(0, 0, 0)),
        )
    with pytest.raises(ValueError, match="a trace or an objective, not both"):
        attribute(
            model64(),
            AttributionRequest(
                PROMPT,
                [TARGET],
                [DISTRACTOR],
                trace=Trace.neuron(0, 0, 0),
                objective=LogitDifference((TARGET,), (DISTRACTOR,), POSITION),
            ),
        )

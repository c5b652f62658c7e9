"""The entry point of the attribution engine: "why token A and not token B?".

    result = attribute(model, AttributionRequest(prompt, targets=[...], distractors=[...]))

One forward and one backward pass give the four metrics of every node of the requested
families (`metrics`); the node table lists the top and bottom k per metric (`tables`).

Two runs (left and right) go through the same batched pass: a second prompt of the same token
count (`compare_prompt`), or, when the request has ablations and no second prompt, the ablated
prompt (left) against the unablated baseline (right). Ablations apply to the left run only.
Differences are left - right. A compare prompt of another token count is right-aligned with the
prompt (`alignment`): the two run in separate passes, each at its own explained position, and
nodes at tokens of one prompt only are listed with one side.

The nodes the request ablates (node by node, `Ablation.target_node`) and the node it traces are
pinned: listed first with their values whatever the ranking (`tables`), and measured even when
their family is not requested (their site is then measured but not ranked).

The quantity whose gradient is taken is pluggable (`AttributionRequest.objective`, see
`direction.Objective`); by default it is the logit difference of the targets and distractors.
`AttributionRequest.trace` traces a node upstream instead: the objective is then that node's
pre-activation (or a head pair's query, key, score or value path, see `tracing`), and the node
table lists only nodes upstream of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import torch
from jaxtyping import Int
from torch import Tensor

from neuron_explainer.activations.ablations import (
    Ablation,
    ResolvedAblation,
    ablation_hooks,
    resolve_ablations,
)
from neuron_explainer.activations.alignment import Alignment, aligned_token_sums, select_aligned
from neuron_explainer.activations.direction import LogitDifference, Objective, resolve_tokens
from neuron_explainer.activations.families import get_family, selects
from neuron_explainer.activations.forward import GradientPass, run_with_gradients
from neuron_explainer.activations.metrics import SiteMetrics
from neuron_explainer.activations.nodes import SELECTIONS, Node, NodeSite, Selection
from neuron_explainer.activations.tables import (
    ListedNode,
    NodeSides,
    NodeValues,
    Pin,
    RankOn,
    Sides,
    select_nodes,
    token_sums,
)
from neuron_explainer.activations.traced_quantities import TracedQuantity
from neuron_explainer.activations.tracing import (
    Trace,
    shift_trace,
    trace_objective,
    traced_metrics,
    traced_node,
)
from neuron_explainer.activations.verification import Verification, verify_by_ablation
from neuron_explainer.activations.vocab import (
    NodeTokens,
    TokenLogit,
    next_token_logits,
    node_token_tables,
    token_strings,
)
from neuron_explainer.models.hooks import HookSpec
from neuron_explainer.models.transformer import Transformer

PromptLike = str | Sequence[int]


@dataclass(frozen=True)
class AttributionRequest:
    prompt: PromptLike  # text (needs model.tokenizer) or token ids
    targets: Sequence[int | str]  # token ids or single-token strings; several are averaged
    distractors: Sequence[int | str]
    families: Sequence[Selection] = ("embedding", "neuron", "head", "latent")
    k: int = 10  # top and bottom k per metric
    top_n_logits: int = 10
    n_vocab_tokens: int = 5  # output and input tokens per listed node
    position: int = -1  # the token whose next-token logits are explained
    ablations: Sequence[Ablation] = ()
    compare_prompt: PromptLike | None = None  # the right run
    source_prompt: PromptLike | None = None  # values for "source" ablations
    means: Mapping[str, Tensor] | None = None  # collated means by site, for "mean" ablations
    rank_on: RankOn = "left"
    verify: int = 0  # verify this many listed nodes (largest |total effect|) by real ablation
    objective: Objective | None = field(default=None, compare=False)  # default: logit difference
    trace: Trace | None = None  # trace this node upstream (the objective is its quantity)


@dataclass(frozen=True)
class NodeRow:
    node: Node  # in the left prompt's positions; a node of the right run alone: the right's
    values: NodeSides
    ranked_by: tuple[str, ...]  # the rankings that list it; () for a node only pinned
    tokens: NodeTokens
    pins: tuple[Pin, ...] = ()


@dataclass(frozen=True)
class AttributionResult:
    tokens: Sides[list[int]]  # diff is None
    token_strings: Sides[list[str]]
    position: int  # of the left prompt; the right's is position + alignment.offset
    right_run: Literal["prompt", "baseline"] | None
    alignment: Alignment | None  # with two runs: which tokens of the prompts pair up
    logit_diff: Sides[float]
    objective_value: Sides[float]
    top_logits: Sides[list[TokenLogit]]
    nodes: list[NodeRow]
    token_sums: dict[Selection, Sides[list[float]]]  # diff on the left's tokens, NaN if unpaired
    verification: Verification | None


@dataclass(frozen=True)
class _Run:
    """One run's input: its tokens, explained position and objective."""

    tokens: Int[Tensor, " pos"]
    position: int
    objective: Objective


@dataclass(frozen=True)
class _Measured:
    """Per run, its pass (batch 1); the node table; the token sums."""

    passes: list[GradientPass]
    listed: list[ListedNode]
    token_sums: dict[Selection, Sides[list[float]]]


def attribute(model: Transformer, request: AttributionRequest) -> AttributionResult:
    """Attribute the objective (by default the logit difference) to the nodes of the requested
    families; see the module docstring. On the CPU, call `torch.set_flush_denormal(True)` first,
    as `tdb` and the server's model thread do: softmax gradients over a vocabulary are full of
    denormals, which are slow to compute with. It is the caller's, as it changes every later
    float operation of the thread."""
    _check_counts(request)
    left = encode_prompt(model, request.prompt)
    right, right_run = _right_run(model, request, left)
    sides = [left] if right is None else [left, right]
    alignment = None if right is None else Alignment(left.shape[0], right.shape[0])
    positions = [resolve_position(request.position, left.shape[0])]
    if alignment is not None:
        positions.append(alignment.right_position(positions[0]))
    targets = resolve_tokens(model, request.targets, "Target")
    distractors = resolve_tokens(model, request.distractors, "Distractor")
    logit_diffs = [LogitDifference(targets, distractors, p) for p in positions]
    objectives = _objectives(model, request, logit_diffs, [r.shape[0] for r in sides])
    runs = [_Run(*run) for run in zip(sides, positions, objectives, strict=True)]

    source = None
    if request.source_prompt is not None:
        source = encode_prompt(model, request.source_prompt)
        check_same_length(model, left, source, "source prompt")
    resolved = resolve_ablations(model, left, request.ablations, source, request.means)
    pins = _pins(model, request, left.shape[0])
    if alignment is None or alignment.offset == 0:
        measured = _measure_together(model, request, runs, resolved, pins)
    else:
        measured = _measure_apart(model, request, runs, resolved, pins, alignment)
    passes, listed = measured.passes, measured.listed
    verification = None
    if request.verify > 0:
        ranked = [n for n in listed if n.ranked_by and n.values.left is not None]
        chosen = sorted(ranked, key=lambda n: -abs(_left(n).total_effect))[: request.verify]
        verification = verify_by_ablation(
            model,
            left,
            [n.node for n in chosen],
            [_left(n).total_effect for n in chosen],
            objectives[0],
            resolved,
            positions[0],
        )
    n_logits = request.top_n_logits
    tables = _token_tables(model, listed, sides, passes, request.n_vocab_tokens)
    return AttributionResult(
        tokens=Sides(*(r.tolist() for r in sides)),
        token_strings=Sides(*(token_strings(model, r.tolist()) for r in sides)),
        position=positions[0],
        right_run=right_run,
        alignment=alignment,
        logit_diff=_sides(
            [float(d.value(p.logits, p.cache)[0]) for d, p in zip(logit_diffs, passes, strict=True)]
        ),
        objective_value=_sides([float(p.objective[0]) for p in passes]),
        top_logits=Sides(
            *(next_token_logits(model, p.logits[0], n_logits, targets, distractors) for p in passes)
        ),
        nodes=[
            NodeRow(n.node, n.values, n.ranked_by, t, n.pins)
            for n, t in zip(listed, tables, strict=True)
        ],
        token_sums=measured.token_sums,
        verification=verification,
    )


def _measure_together(
    model: Transformer,
    request: AttributionRequest,
    runs: list[_Run],
    ablations: list[ResolvedAblation],
    pins: dict[Node, list[Pin]],
) -> _Measured:
    """Runs of prompts of one length (one objective): one batched pass, a row per run."""
    requested = list(dict.fromkeys(request.families))
    hooks = ablation_hooks([ablations] + [[] for _ in runs[1:]])
    first = runs[0]
    run, site_metrics = compute_metrics(
        model,
        torch.stack([r.tokens for r in runs]),
        first.objective,
        _measured_families(requested, pins),
        hooks,
        first.position,
    )
    site_metrics = _ranked_sites(site_metrics, requested)
    return _Measured(
        passes=[_row(run, i) for i in range(len(runs))],
        listed=select_nodes(site_metrics, request.k, request.rank_on, pins),
        token_sums=token_sums(site_metrics, requested, len(runs), first.tokens.shape[0]),
    )


def _measure_apart(
    model: Transformer,
    request: AttributionRequest,
    runs: list[_Run],
    ablations: list[ResolvedAblation],
    pins: dict[Node, list[Pin]],
    alignment: Alignment,
) -> _Measured:
    """A prompt and a compare prompt of different lengths: a pass each, then aligned."""
    requested = list(dict.fromkeys(request.families))
    families = _measured_families(requested, pins)
    passes, metrics, sums = [], [], []
    for run, hooks in zip(runs, [ablation_hooks([ablations]), []], strict=True):
        one, site_metrics = compute_metrics(
            model, run.tokens[None], run.objective, families, hooks, run.position
        )
        site_metrics = _ranked_sites(site_metrics, requested)
        passes.append(one)
        metrics.append(site_metrics)
        sums.append(token_sums(site_metrics, requested, 1, run.tokens.shape[0]))
    left, right = metrics
    return _Measured(
        passes=passes,
        listed=select_aligned(left, right, alignment, request.k, request.rank_on, pins),
        token_sums=aligned_token_sums(sums[0], sums[1], alignment),
    )


def compute_metrics(
    model: Transformer,
    tokens: Int[Tensor, "batch pos"],
    objective: Objective,
    families: Sequence[Selection] = ("embedding", "neuron", "head", "latent"),
    hooks: Sequence[HookSpec] = (),
    logit_position: int = -1,
) -> tuple[GradientPass, list[SiteMetrics]]:
    """The four metrics of every node of `families` at every site of the model, per batch row,
    from one forward pass (with `hooks`) and one backward pass of `objective`; the pass's
    logits are those at `logit_position`."""
    chosen = [get_family(name) for name in dict.fromkeys(families)]
    # A site selected twice (latent and mlp_latent, say) is measured once.
    by_site = {site.site: (family, site) for family in chosen for site in family.sites(model)}
    sites = list(by_site.values())
    cache_names = [name for family, site in sites for name in family.cache_names(site)]
    grad_names = [site.site for _, site in sites]
    run = run_with_gradients(
        model, tokens, objective, cache_names, grad_names, hooks, logit_position
    )
    read = objective.direct_read(model, run.cache)
    metrics = [
        family.metrics(model, site, run.cache, run.grads[site.site], read) for family, site in sites
    ]
    if isinstance(objective, TracedQuantity):  # further reads; downstream nodes left out
        metrics = traced_metrics(model, objective, run, metrics)
    return run, metrics


def encode_prompt(model: Transformer, prompt: PromptLike) -> Int[Tensor, " pos"]:
    if isinstance(prompt, str):
        if model.tokenizer is None:
            raise ValueError("The prompt is text, but the model has no tokenizer; give token ids")
        ids: Sequence[int] = model.tokenizer.encode(prompt)
    else:
        ids = prompt
    return model.check_tokens(list(ids))[0]


def check_same_length(
    model: Transformer, left: Int[Tensor, " pos"], right: Tensor, what: str
) -> None:
    if left.shape[0] != right.shape[0]:
        raise ValueError(
            f"The prompt and the {what} need the same number of tokens; the prompt has "
            f"{left.shape[0]}: {token_strings(model, left.tolist())}, the {what} "
            f"{right.shape[0]}: {token_strings(model, right.tolist())}"
        )


def resolve_position(position: int, pos: int) -> int:
    resolved = position + pos if position < 0 else position
    if not 0 <= resolved < pos:
        raise ValueError(f"position {position} is outside a prompt of {pos} tokens")
    return resolved


def _objectives(
    model: Transformer,
    request: AttributionRequest,
    logit_diffs: list[LogitDifference],
    lengths: list[int],
) -> list[Objective]:
    """The objective of each run (prompts of `lengths` tokens): the logit difference, a given
    objective, or the traced quantity (on the right run, the trace moved to its paired tokens,
    see `alignment`)."""
    if request.trace is None:
        if request.objective is None:
            return list[Objective](logit_diffs)
        if len(set(lengths)) > 1:
            raise ValueError(
                f"The objective {request.objective.name!r} reads fixed positions, so it needs a "
                "compare prompt of the prompt's token count"
            )
        return [request.objective] * len(lengths)
    if request.objective is not None:
        raise ValueError(
            "Give a trace or an objective, not both: a trace sets the objective to the traced "
            f"quantity, and the request also has objective {request.objective.name!r}"
        )
    objectives: list[Objective] = [
        trace_objective(model, request.trace, lengths[0], logit_diffs[0])
    ]
    for length, logit_diff in zip(lengths[1:], logit_diffs[1:], strict=True):
        trace = shift_trace(request.trace, lengths[0], length - lengths[0])
        objectives.append(trace_objective(model, trace, length, logit_diff))
    return objectives


def _pins(model: Transformer, request: AttributionRequest, pos: int) -> dict[Node, list[Pin]]:
    """The nodes the request ablates one by one, and the node it traces."""
    pins: dict[Node, list[Pin]] = {}
    for ablation in request.ablations:
        node = ablation.target_node()
        if node is not None and "ablated" not in pins.get(node, []):
            pins.setdefault(node, []).append("ablated")
    if request.trace is not None:
        pins.setdefault(traced_node(model, request.trace, pos), []).append("traced")
    return pins


def _measured_families(requested: list[Selection], pins: Mapping[Node, object]) -> list[Selection]:
    """The requested families, and those of pinned nodes that none of them selects."""
    extra: list[Selection] = [
        node.family
        for node in pins
        if not any(selects(f, NodeSite(node.family, node.site)) for f in requested)
    ]
    return list(dict.fromkeys([*requested, *extra]))


def _ranked_sites(metrics: list[SiteMetrics], requested: list[Selection]) -> list[SiteMetrics]:
    """Sites measured only for a pinned node rank none of their nodes."""
    return [
        m
        if any(selects(f, m.site) for f in requested)
        else replace(m, valid=torch.zeros_like(m.valid))
        for m in metrics
    ]


def _row(run: GradientPass, i: int) -> GradientPass:
    """Row i of a batched pass, as a pass of batch 1 (its gradients are not kept)."""
    return GradientPass(
        logits=run.logits[i : i + 1],
        objective=run.objective[i : i + 1],
        cache={name: act[i : i + 1] for name, act in run.cache.items()},
        grads={},
    )


def _token_tables(
    model: Transformer,
    listed: list[ListedNode],
    sides: list[Tensor],
    passes: list[GradientPass],
    n: int,
) -> list[NodeTokens]:
    """The vocabulary tables of the listed nodes, each from the run it is a node of (the left,
    or the right for a node of the right run alone)."""
    on_right = [i for i, row in enumerate(listed) if row.values.left is None]
    on_left = [i for i, row in enumerate(listed) if row.values.left is not None]
    out: dict[int, NodeTokens] = {}
    for members, side in ((on_left, 0), (on_right, 1)):
        if members:
            nodes = [listed[i].node for i in members]
            tables = node_token_tables(model, nodes, sides[side], passes[side].cache, n)
            out.update(zip(members, tables, strict=True))
    return [out[i] for i in range(len(listed))]


def _left(row: ListedNode) -> NodeValues:
    assert row.values.left is not None  # the caller keeps rows of the left run
    return row.values.left


def _right_run(
    model: Transformer, request: AttributionRequest, left: Tensor
) -> tuple[Tensor | None, Literal["prompt", "baseline"] | None]:
    if request.compare_prompt is not None:
        return encode_prompt(model, request.compare_prompt), "prompt"
    if request.ablations:
        return left, "baseline"
    if request.rank_on != "left":
        raise ValueError(f"rank_on={request.rank_on!r} needs a compare prompt or ablations")
    return None, None


def _check_counts(request: AttributionRequest) -> None:
    for name in ("k", "top_n_logits", "n_vocab_tokens"):
        if getattr(request, name) < 1:
            raise ValueError(f"{name} must be at least 1, got {getattr(request, name)}")
    if request.verify < 0:
        raise ValueError(f"verify must be non-negative, got {request.verify}")
    if not request.families:
        raise ValueError(f"Request at least one node family of {SELECTIONS}")


def _sides(values: list[float]) -> Sides[float]:
    if len(values) == 1:
        return Sides(values[0])
    return Sides(values[0], values[1], values[0] - values[1])

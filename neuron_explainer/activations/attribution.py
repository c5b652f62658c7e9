"""The entry point of the attribution engine: "why token A and not token B?".

    result = attribute(model, AttributionRequest(prompt, targets=[...], distractors=[...]))

One forward and one backward pass give the four metrics of every node of the requested
families (`metrics`); the node table lists the top and bottom k per metric (`tables`).

Two runs (left and right) go through the same batched pass: a second prompt of the same token
count (`compare_prompt`), or, when the request has ablations and no second prompt, the ablated
prompt (left) against the unablated baseline (right). Ablations apply to the left run only.
Differences are left - right.

The quantity whose gradient is taken is pluggable (`AttributionRequest.objective`, see
`direction.Objective`); by default it is the logit difference of the targets and distractors.
`AttributionRequest.trace` traces a node upstream instead: the objective is then that node's
pre-activation (or a head pair's query, key, score or value path, see `tracing`), and the node
table lists only nodes upstream of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch
from jaxtyping import Int
from torch import Tensor

from neuron_explainer.activations.ablations import Ablation, ablation_hooks, resolve_ablations
from neuron_explainer.activations.direction import LogitDifference, Objective, resolve_tokens
from neuron_explainer.activations.forward import GradientPass, run_with_gradients
from neuron_explainer.activations.metrics import SiteMetrics, get_family
from neuron_explainer.activations.nodes import SELECTIONS, Node, Selection
from neuron_explainer.activations.tables import (
    NodeValues,
    RankOn,
    Sides,
    select_nodes,
    token_sums,
)
from neuron_explainer.activations.traced_quantities import TracedQuantity
from neuron_explainer.activations.tracing import Trace, trace_objective, traced_metrics
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
    node: Node
    values: Sides[NodeValues]
    ranked_by: tuple[str, ...]
    tokens: NodeTokens


@dataclass(frozen=True)
class AttributionResult:
    tokens: Sides[list[int]]  # diff is None
    token_strings: Sides[list[str]]
    position: int
    right_run: Literal["prompt", "baseline"] | None
    logit_diff: Sides[float]
    objective_value: Sides[float]
    top_logits: Sides[list[TokenLogit]]
    nodes: list[NodeRow]
    token_sums: dict[Selection, Sides[list[float]]]
    verification: Verification | None


def attribute(model: Transformer, request: AttributionRequest) -> AttributionResult:
    """Attribute the objective (by default the logit difference) to the nodes of the requested
    families; see the module docstring."""
    torch.set_flush_denormal(True)  # softmax gradients over a vocabulary are full of denormals
    _check_counts(request)
    left = encode_prompt(model, request.prompt)
    right, right_run = _right_run(model, request, left)
    pos = left.shape[0]
    position = resolve_position(request.position, pos)
    targets = resolve_tokens(model, request.targets, "Target")
    distractors = resolve_tokens(model, request.distractors, "Distractor")
    logit_diff = LogitDifference(targets, distractors, position)
    objective = _objective(model, request, logit_diff, pos)

    source = None
    if request.source_prompt is not None:
        source = encode_prompt(model, request.source_prompt)
        check_same_length(model, left, source, "source prompt")
    resolved = resolve_ablations(model, left, request.ablations, source, request.means)
    rows = [left] if right is None else [left, right]
    hooks = ablation_hooks([resolved] + [[] for _ in rows[1:]])

    run, site_metrics = compute_metrics(
        model, torch.stack(rows), objective, request.families, hooks, position
    )

    listed = select_nodes(site_metrics, request.k, request.rank_on)
    tables = node_token_tables(
        model, [n.node for n in listed], left, run.cache, request.n_vocab_tokens
    )
    verification = None
    if request.verify > 0:
        chosen = sorted(listed, key=lambda n: -abs(n.values.left.total_effect))[: request.verify]
        verification = verify_by_ablation(
            model,
            left,
            [n.node for n in chosen],
            [n.values.left.total_effect for n in chosen],
            objective,
            resolved,
            position,
        )
    n_logits = request.top_n_logits
    return AttributionResult(
        tokens=Sides(*(r.tolist() for r in rows)),
        token_strings=Sides(*(token_strings(model, r.tolist()) for r in rows)),
        position=position,
        right_run=right_run,
        logit_diff=_sides(logit_diff.value(run.logits, run.cache).tolist()),
        objective_value=_sides(run.objective.tolist()),
        top_logits=Sides(
            *(
                next_token_logits(model, run.logits[i], n_logits, targets, distractors)
                for i in range(len(rows))
            )
        ),
        nodes=[
            NodeRow(n.node, n.values, n.ranked_by, t) for n, t in zip(listed, tables, strict=True)
        ],
        token_sums=token_sums(site_metrics, list(dict.fromkeys(request.families)), len(rows), pos),
        verification=verification,
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


def _objective(
    model: Transformer, request: AttributionRequest, logit_diff: LogitDifference, pos: int
) -> Objective:
    if request.trace is None:
        return request.objective if request.objective is not None else logit_diff
    if request.objective is not None:
        raise ValueError(
            "Give a trace or an objective, not both: a trace sets the objective to the traced "
            f"quantity, and the request also has objective {request.objective.name!r}"
        )
    return trace_objective(model, request.trace, pos, logit_diff)


def _right_run(
    model: Transformer, request: AttributionRequest, left: Tensor
) -> tuple[Tensor | None, Literal["prompt", "baseline"] | None]:
    if request.compare_prompt is not None:
        right = encode_prompt(model, request.compare_prompt)
        check_same_length(model, left, right, "compare prompt")
        return right, "prompt"
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

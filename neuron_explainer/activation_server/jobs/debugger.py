"""The debugger's "why A and not B" runs, and the logit lens.

A request holds up to `MAX_RUNS` runs; each is one `attribute` call (its own left and right runs
go through one batched pass inside the engine). Different runs have different prompts, hooks and
objectives, which the engine does not batch together, so they run one after another in the same
worker job: the request holds its place in the queue once, and no other request runs between
its runs.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from neuron_explainer.activation_server.engine import Engine
from neuron_explainer.activation_server.errors import BadRequestError, user_errors
from neuron_explainer.activation_server.jobs.common import encode, single_tokens
from neuron_explainer.activation_server.schemas import (
    ComponentAttribution,
    DebuggerRequest,
    DebuggerResponse,
    DebuggerResult,
    DebuggerRun,
    LensLayer,
    LogitLensRequest,
    LogitLensResponse,
    NodeAblation,
    SiteAblation,
    TraceSpec,
    TraceTarget,
)
from neuron_explainer.activations import Ablation, AttributionRequest, Node, Trace, attribute
from neuron_explainer.activations.attribution import resolve_position
from neuron_explainer.activations.logit_lens import direct_logit_attribution, logit_lens
from neuron_explainer.activations.vocab import token_strings
from neuron_explainer.datasets import CollationStore
from neuron_explainer.datasets.stats import derived_moments


def run_debugger(
    engine: Engine, request: DebuggerRequest, store: CollationStore | None = None
) -> DebuggerResponse:
    """`store` gives the means of runs with `meanSource` "dataset"."""
    results = []
    for i, run in enumerate(request.runs):
        try:
            results.append(attribute_run(engine, run, store))
        except BadRequestError as e:
            if len(request.runs) == 1:
                raise
            raise BadRequestError(f"Run {i}: {e.message}") from e
    return DebuggerResponse(model=engine.name, runs=results)


def attribute_run(
    engine: Engine, run: DebuggerRun, store: CollationStore | None = None
) -> DebuggerResult:
    model = engine.model
    compare, source = run.compare_prompt, run.source_prompt
    with user_errors():  # the engine's checks of the request, as 400s
        ablations = [ablation(spec) for spec in run.ablations]
        means = None
        if run.mean_source == "dataset":
            assert store is not None  # the route opens the store for such runs
            means = collated_means(store, {a.site for a in ablations if a.value == "mean"})
        request = AttributionRequest(
            prompt=encode(model, run.prompt),
            targets=single_tokens(model, run.targets, "Target"),
            distractors=single_tokens(model, run.distractors, "Distractor"),
            families=tuple(dict.fromkeys(run.families)),
            k=run.k,
            top_n_logits=run.top_n_logits,
            n_vocab_tokens=run.n_vocab_tokens,
            position=run.position,
            ablations=ablations,
            compare_prompt=None if compare is None else encode(model, compare, "compare prompt"),
            source_prompt=None if source is None else encode(model, source, "source prompt"),
            means=means,
            rank_on=run.rank_on,
            verify=run.verify,
            trace=None if run.trace is None else to_trace(run.trace),
        )
        result = attribute(model, request)
    return DebuggerResult.model_validate(result)


def collated_means(store: CollationStore, sites: set[str]) -> dict[str, Tensor]:
    """Each component's mean activation over the collated corpus, per site (neurons and latents;
    a component that never ran has mean 0)."""
    families = {g["site"]: g["family"] for g in store.index["groups"]}
    with_means = sorted(s for s, f in families.items() if f in ("neuron", "latent"))
    means = {}
    for site in sorted(sites):
        if site not in with_means:
            raise BadRequestError(
                f"The collation has no means at {site}; it has them for {', '.join(with_means)}. "
                "Ablate other sites with meanSource 'prompt'"
            )
        group, _ = store.group(families[site], site)
        count, moments = (
            store.array(group, "activation.count"),
            store.array(group, "activation.moments"),
        )
        mean = np.nan_to_num(derived_moments(count, moments).mean)
        means[site] = torch.from_numpy(mean).float()
    return means


def ablation(spec: NodeAblation | SiteAblation) -> Ablation:
    if isinstance(spec, NodeAblation):
        return Ablation.node(Node.parse(spec.node_id), spec.value, spec.constant)
    return Ablation(spec.site, spec.token, spec.index, spec.key_token, spec.value, spec.constant)


def to_trace(spec: TraceTarget) -> Trace:
    downstream = spec.downstream if isinstance(spec, TraceSpec) else None
    return Trace(
        spec.kind,
        spec.token,
        spec.index,
        layer=spec.layer,
        key_token=spec.key_token,
        site=spec.site,
        downstream=None if downstream is None else to_trace(downstream),
    )


def run_logit_lens(engine: Engine, request: LogitLensRequest) -> LogitLensResponse:
    model = engine.model
    ids = encode(model, request.prompt)
    targets = single_tokens(model, request.targets, "Target")
    distractors = single_tokens(model, request.distractors, "Distractor")
    if bool(targets) != bool(distractors):
        raise BadRequestError(
            "Give both targets and distractors (for logit differences), or neither"
        )
    with user_errors():
        position = resolve_position(request.position, len(ids))
        layers = logit_lens(
            model,
            ids,
            position,
            top_n=request.top_n,
            targets=targets,
            distractors=distractors,
        )
        dla = None
        if targets:
            dla = direct_logit_attribution(model, ids, targets, distractors, position)
    return LogitLensResponse(
        model=engine.name,
        tokens=ids,
        token_strings=token_strings(model, ids),
        position=position,
        layers=[LensLayer.model_validate(layer) for layer in layers],
        direct_logit_attribution=(
            None if dla is None else [ComponentAttribution.model_validate(c) for c in dla]
        ),
    )

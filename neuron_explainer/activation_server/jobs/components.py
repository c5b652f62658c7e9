"""One component's activations on a prompt, and sampling with interventions on components."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from neuron_explainer.activation_server.engine import Engine
from neuron_explainer.activation_server.errors import BadRequestError, user_errors
from neuron_explainer.activation_server.jobs.common import Component, encode, resolve_component
from neuron_explainer.activation_server.schemas import (
    ActivationsRequest,
    ActivationsResponse,
    Intervention,
    Sample,
    SamplePair,
    SamplingRequest,
    SamplingResponse,
)
from neuron_explainer.activations.families import get_family
from neuron_explainer.activations.vocab import token_strings
from neuron_explainer.models import Transformer
from neuron_explainer.models.hooks import HookFn, HookPoint, HookSpec


def run_activations(engine: Engine, request: ActivationsRequest) -> ActivationsResponse:
    model = engine.model
    ids = encode(model, request.prompt)
    component = resolve_component(engine, request.component)
    with torch.no_grad():
        _, cache = model.run_with_cache(torch.tensor([ids]), names_filter=[component.site])
    act = cache[component.site][0]
    values: list[float | None] | None = None
    pattern: list[list[float | None]] | None = None
    if get_family(component.family).pairs:  # [head, query, key]: each query's keys 0..query
        chosen = act[component.index]
        pattern = [row[: q + 1] for q, row in enumerate(chosen.tolist())]
    else:  # [pos, index]
        chosen = act[:, component.index]
        values = chosen.tolist()
    peak = float(chosen.max())  # masked pattern entries are 0: never above the max
    return ActivationsResponse(
        model=engine.name,
        family=component.family,
        site=component.site,
        layer=component.layer,
        index=component.index,
        tokens=ids,
        token_strings=token_strings(model, ids),
        values=values,
        pattern=pattern,
        max=peak,
    )


def run_sampling(engine: Engine, request: SamplingRequest) -> SamplingResponse:
    """Samples with the interventions and without, from the same seed, side by side."""
    model = engine.model
    ids = encode(model, request.prompt)
    n_ctx = model.cfg.n_ctx
    if len(ids) + request.max_new_tokens > n_ctx:
        raise BadRequestError(
            f"The prompt's {len(ids)} tokens plus {request.max_new_tokens} new tokens exceed the "
            f"model's context of {n_ctx}; shorten the prompt or sample fewer tokens"
        )
    hooks = [intervention_hook(engine, iv) for iv in request.interventions]
    tokens = torch.tensor([ids] * request.n_samples)
    options = dict(
        max_new_tokens=request.max_new_tokens,
        temperature=request.temperature,
        top_p=request.top_p,
        seed=request.seed,
    )
    with user_errors():
        intervened = model.generate(tokens, fwd_hooks=hooks, **options)
        plain = model.generate(tokens, **options)
    return SamplingResponse(
        model=engine.name,
        prompt_tokens=ids,
        prompt_strings=token_strings(model, ids),
        samples=[
            SamplePair(intervened=_sample(model, new_intervened), plain=_sample(model, new_plain))
            for new_intervened, new_plain in zip(
                intervened[:, len(ids) :].tolist(), plain[:, len(ids) :].tolist(), strict=True
            )
        ],
    )


def _sample(model: Transformer, ids: list[int]) -> Sample:
    strings = token_strings(model, ids)
    text = "".join(strings) if model.tokenizer is None else model.tokenizer.decode(ids)
    return Sample(tokens=ids, strings=strings, text=text)


def intervention_hook(engine: Engine, intervention: Intervention) -> HookSpec:
    """A forward hook acting at every token (with the KV cache, each step's new token)."""
    component = resolve_component(engine, intervention.component)
    if intervention.kind == "ablate":
        return _ablation_hook(engine, component)
    return _steering_hook(engine, component, intervention.strength)


def _ablation_hook(engine: Engine, component: Component) -> HookSpec:
    """Zero the component's output at every token: a neuron's or latent's activation, a head's
    z (its family's `output_site`)."""
    site, axis = get_family(component.family).output_site(engine.model, component.site)
    where: tuple[Any, ...]
    if axis < 0:
        where = (Ellipsis, component.index, *[slice(None)] * (-1 - axis))
    else:
        where = (*[slice(None)] * axis, component.index)

    def zero(x: Tensor, hook: HookPoint) -> Tensor:
        out = x.clone()
        out[where] = 0.0
        return out

    return site, zero


def _steering_hook(engine: Engine, component: Component, strength: float) -> HookSpec:
    """Add strength times the component's output direction where it writes: a neuron's W_out
    row to the MLP's output, a latent's decoder row to its autoencoder's site (its family's
    `steering`; heads have none)."""
    family = get_family(component.family)
    with user_errors():
        site, direction = family.steering(
            engine.model, component.site, component.index, engine.saes
        )
    return site, _add(strength * direction)


def _add(vector: Tensor) -> HookFn:
    def add(x: Tensor, hook: HookPoint) -> Tensor:
        return x + vector

    return add

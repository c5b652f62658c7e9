"""One component's activations, and sampling with interventions on components."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from neuron_explainer.activation_server.schemas.base import (
    JSON_NUMBER,
    MAX_INTERVENTIONS,
    MAX_NEW_TOKENS,
    MAX_SAMPLES,
    HookSite,
    Index,
    Magnitude,
    Num,
    Prompt,
    RequestSchema,
    Schema,
)


class ComponentSpec(RequestSchema):
    """A neuron (layer, index), a head (layer, index = head) or a latent (site = its
    autoencoder's site, index)."""

    family: Literal["neuron", "head", "latent"]
    layer: Index | None = None
    site: HookSite | None = None
    index: Index


class ActivationsRequest(RequestSchema):
    prompt: Prompt
    component: ComponentSpec


class ActivationsResponse(Schema):
    model: str  # the served model that ran it
    family: str
    site: str  # the hook site read
    layer: int | None
    index: int
    tokens: list[int]
    token_strings: list[str]
    values: list[Num] | None  # neurons and latents: one per token
    pattern: list[list[Num]] | None  # heads: per query token, its attention to keys 0..query
    max: Num


class Intervention(RequestSchema):
    """`ablate` zeroes the component at every token; `steer` adds its output direction (a
    neuron's W_out row, a latent's decoder row) times `strength` at every token."""

    kind: Literal["ablate", "steer"]
    component: ComponentSpec
    strength: Magnitude = 0.0


class SamplingRequest(RequestSchema):
    prompt: Prompt
    interventions: Annotated[list[Intervention], Field(max_length=MAX_INTERVENTIONS)]
    max_new_tokens: Annotated[int, Field(ge=1, le=MAX_NEW_TOKENS), JSON_NUMBER] = 20
    n_samples: Annotated[int, Field(ge=1, le=MAX_SAMPLES), JSON_NUMBER] = 1
    temperature: Annotated[float, Field(ge=0.0, le=10.0, allow_inf_nan=False), JSON_NUMBER] = 0.0
    top_p: Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False), JSON_NUMBER] = 1.0
    seed: Annotated[int, Field(ge=0, le=2**31 - 1), JSON_NUMBER] = 0


class Sample(Schema):
    tokens: list[int]  # the new tokens
    strings: list[str]
    text: str


class SamplePair(Schema):
    intervened: Sample
    plain: Sample  # the same seed without interventions


class SamplingResponse(Schema):
    model: str  # the served model that ran it
    prompt_tokens: list[int]
    prompt_strings: list[str]
    samples: list[SamplePair]

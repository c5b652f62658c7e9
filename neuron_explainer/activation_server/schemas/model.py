"""Health, the served models, tokenization and the default investigations."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from neuron_explainer.activation_server.schemas.base import (
    MAX_K,
    MAX_NEW_TOKENS,
    MAX_PROMPT_CHARS,
    MAX_RUNS,
    MAX_SAMPLES,
    MAX_VERIFY,
    RequestSchema,
    Schema,
)


class HealthResponse(Schema):
    status: Literal["ok"] = "ok"
    model: str  # the default model
    loaded: bool  # whether the default model is loaded
    loaded_models: list[str]  # every loaded model, least recently used first
    pending: int  # model jobs running or waiting (of all models: they share one queue)


class ServedModel(Schema):
    name: str  # pass it as `?model=NAME` to any route
    description: str
    default: bool  # the model of requests that name none
    loaded: bool  # in memory now (else loaded on first use, maybe unloading another)
    dataset_available: bool  # its collation store can be read (component pages work)


class ModelsResponse(Schema):
    models: list[ServedModel]  # the default first


class ModelConfig(Schema):
    n_layers: int
    d_model: int
    n_heads: int
    d_head: int
    d_mlp: int
    n_ctx: int
    d_vocab: int
    act_fn: str
    ln_eps: float
    attn_only: bool
    tied_embeddings: bool
    normalization: str


class Autoencoder(Schema):
    site: str  # the hook site it reads and is spliced at
    latent_site: str  # the hook site of its latents
    architecture: str
    d_in: int
    d_sae: int
    k: int | None


class CollationGroup(Schema):
    family: str
    site: str
    layer: int | None
    n_components: int


class DatasetInfo(Schema):
    store: str
    available: bool
    n_tokens: int | None = None
    groups: list[CollationGroup] = Field(default_factory=list)
    message: str | None = None  # why it is unavailable and how to build it
    collating: bool = False  # being collated now (`message` says how far): ask again later


class Limits(Schema):
    max_prompt_tokens: int
    max_prompt_chars: int = MAX_PROMPT_CHARS
    max_k: int = MAX_K
    max_runs: int = MAX_RUNS
    max_verify: int = MAX_VERIFY
    max_new_tokens: int = MAX_NEW_TOKENS
    max_samples: int = MAX_SAMPLES


class ModelInfo(Schema):
    name: str
    description: str
    source: str
    config: ModelConfig
    has_tokenizer: bool
    autoencoders: list[Autoencoder]
    dataset: DatasetInfo
    limits: Limits


class TokenizeRequest(RequestSchema):
    text: Annotated[str, Field(max_length=MAX_PROMPT_CHARS)]


class TokenizeResponse(Schema):
    ids: list[int]
    strings: list[str]


class Investigation(Schema):
    id: str
    title: str
    model: str
    behaviour: str
    prompt: str
    targets: list[str]
    distractors: list[str]
    logit_diff: float


class InvestigationsResponse(Schema):
    investigations: list[Investigation]

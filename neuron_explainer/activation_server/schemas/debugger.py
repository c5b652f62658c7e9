"""The debugger: runs of the attribution engine, and the logit lens."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from neuron_explainer.activation_server.schemas.base import (
    JSON_NUMBER,
    MAX_ABLATIONS,
    MAX_K,
    MAX_RUNS,
    MAX_TOKENS_PER_SIDE,
    MAX_TOP_N,
    MAX_VERIFY,
    AblationValue,
    HookSite,
    Index,
    Magnitude,
    Num,
    Position,
    Prompt,
    RequestSchema,
    Schema,
    Token,
    Tokens,
)
from neuron_explainer.activations.logit_lens import ComponentKind
from neuron_explainer.activations.nodes import FAMILIES, SELECTIONS, FamilyName, Selection
from neuron_explainer.activations.tables import Pin
from neuron_explainer.activations.tracing import TraceKind


class NodeAblation(RequestSchema):
    """Ablate a node of the node table, by its id."""

    node_id: Annotated[str, Field(min_length=1, max_length=300)]
    value: AblationValue = "zero"
    constant: Magnitude = 0.0  # with value "constant"


class SiteAblation(RequestSchema):
    """Ablate at a hook site (see `activations.ablations`): a token and an index, null for all."""

    site: HookSite
    token: Index | None = None
    index: Index | None = None
    key_token: Index | None = None  # attention patterns
    value: AblationValue = "zero"
    constant: Magnitude = 0.0


class TraceTarget(RequestSchema):
    """A node whose quantity (pre-activation, or a head pair's query/key/qk/value) is traced.
    Neurons and heads name a layer, latents their autoencoder's site; negative tokens count
    from the end of the prompt."""

    kind: TraceKind
    token: Position
    index: Index
    layer: Index | None = None
    key_token: Position | None = None
    site: HookSite | None = None


class TraceSpec(TraceTarget):
    downstream: TraceTarget | None = None  # head_value only: the quantity it is projected on


class DebuggerRun(RequestSchema):
    prompt: Prompt
    targets: Tokens
    distractors: Tokens
    # Node families, or mlp_latent / attn_latent: the latents of MLP or attention autoencoders.
    families: Annotated[list[Selection], Field(min_length=1, max_length=len(SELECTIONS))] = Field(
        default_factory=lambda: list[Selection](FAMILIES)
    )
    k: Annotated[int, Field(ge=1, le=MAX_K), JSON_NUMBER] = 10
    top_n_logits: Annotated[int, Field(ge=1, le=MAX_TOP_N), JSON_NUMBER] = 10
    n_vocab_tokens: Annotated[int, Field(ge=1, le=20), JSON_NUMBER] = 5
    position: Position = -1
    ablations: Annotated[list[NodeAblation | SiteAblation], Field(max_length=MAX_ABLATIONS)] = (
        Field(default_factory=list)
    )
    compare_prompt: Prompt | None = None  # the right run; else ablated (left) vs baseline
    source_prompt: Prompt | None = None  # values for "source" ablations
    # "mean" ablations: the mean over this prompt's tokens, or over the collated dataset
    # (neurons and latents of the served model's collation)
    mean_source: Literal["prompt", "dataset"] = "prompt"
    rank_on: Literal["left", "right", "diff"] = "left"
    verify: Annotated[int, Field(ge=0, le=MAX_VERIFY), JSON_NUMBER] = 0
    trace: TraceSpec | None = None


class DebuggerRequest(RequestSchema):
    runs: Annotated[list[DebuggerRun], Field(min_length=1, max_length=MAX_RUNS)]


class NodeOut(Schema):
    id: str
    family: FamilyName
    site: str
    layer: int | None
    token: int  # the query token for heads
    index: int
    key_token: int | None


class NodeValues(Schema):
    activation: Num
    write_magnitude: Num
    direct_effect: Num
    total_effect: Num


class NodeValueSides(Schema):
    """A run without the node (a token of the other prompt only: prompts of different lengths)
    has null, and so has diff."""

    left: NodeValues | None
    right: NodeValues | None = None
    diff: NodeValues | None = None


class TokenScore(Schema):
    token: int
    string: str
    value: Num


class NodeTokens(Schema):
    output_top: list[TokenScore] | None
    output_bottom: list[TokenScore] | None
    input_top: list[TokenScore] | None


class NodeRow(Schema):
    """A node of the table. Its positions are the prompt's; for a node of the right run alone
    (values.left null) the compare prompt's. Pinned nodes (`pins`: ablated node by node, or
    traced) come first, listed whatever their values; a node only pinned has no `rankedBy`."""

    node: NodeOut
    values: NodeValueSides
    ranked_by: list[str]
    pins: list[Pin]
    tokens: NodeTokens


class TokenLogit(Schema):
    token: int
    string: str
    logit: Num
    probability: Num
    rank: int
    role: Literal["target", "distractor"] | None


class IdSides(Schema):
    left: list[int]
    right: list[int] | None = None


class StringSides(Schema):
    left: list[str]
    right: list[str] | None = None


class LogitSides(Schema):
    left: list[TokenLogit]
    right: list[TokenLogit] | None = None


class FloatSides(Schema):
    left: Num
    right: Num = None
    diff: Num = None


class FloatListSides(Schema):
    """Per token: left and right on each prompt's own tokens, diff on the left's (null where a
    left token has no pair in the compare prompt)."""

    left: list[Num]
    right: list[Num] | None = None
    diff: list[Num] | None = None


class VerifiedNode(Schema):
    node: NodeOut
    estimate: Num
    true_effect: Num


class Verification(Schema):
    baseline: Num
    nodes: list[VerifiedNode]
    pearson: Num


class TokenAlignment(Schema):
    """How the tokens of the two runs pair up: right-aligned, right index = left index +
    offset (0 for prompts of one length); per token of each run, its pair in the other, or
    null."""

    offset: int
    left_to_right: list[int | None]
    right_to_left: list[int | None]


class DebuggerResult(Schema):
    tokens: IdSides
    token_strings: StringSides
    position: int  # of the prompt; the compare prompt's is position + alignment.offset
    right_run: Literal["prompt", "baseline"] | None
    alignment: TokenAlignment | None  # with two runs
    logit_diff: FloatSides
    objective_value: FloatSides
    top_logits: LogitSides
    nodes: list[NodeRow]
    token_sums: dict[Selection, FloatListSides]
    verification: Verification | None


class DebuggerResponse(Schema):
    model: str
    runs: list[DebuggerResult]


class LogitLensRequest(RequestSchema):
    prompt: Prompt
    position: Position = -1
    top_n: Annotated[int, Field(ge=1, le=MAX_TOP_N), JSON_NUMBER] = 10
    targets: Annotated[list[Token], Field(max_length=MAX_TOKENS_PER_SIDE)] = Field(
        default_factory=list
    )
    distractors: Annotated[list[Token], Field(max_length=MAX_TOKENS_PER_SIDE)] = Field(
        default_factory=list
    )


class LensToken(Schema):
    token: int
    string: str
    logit: Num
    probability: Num


class LensLayer(Schema):
    label: str
    top: list[LensToken]
    logit_difference: Num


class ComponentAttribution(Schema):
    label: str
    kind: ComponentKind
    layer: int | None
    head: int | None
    contribution: Num


class LogitLensResponse(Schema):
    model: str  # the served model that ran it
    tokens: list[int]
    token_strings: list[str]
    position: int
    layers: list[LensLayer]
    direct_logit_attribution: list[ComponentAttribution] | None  # with targets and distractors

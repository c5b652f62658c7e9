"""The shared parts of the schemas: bounds of requests, field types, the base classes, and the
error body."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

MAX_PROMPT_CHARS = 20_000
MAX_PROMPT_TOKENS = 2048  # the model's own context (n_ctx) is checked against the loaded model
MAX_ID = 1_000_000  # token ids, layers and indices; the model's ranges are checked on use
MAX_TOKENS_PER_SIDE = 16
MAX_K = 100
MAX_RUNS = 8
MAX_VERIFY = 50
MAX_ABLATIONS = 64
MAX_TOP_N = 100
MAX_NEW_TOKENS = 64
MAX_SAMPLES = 8
MAX_INTERVENTIONS = 16
MAX_MAGNITUDE = 1e6  # constants and steering strengths


def _finite_or_none(value: object) -> object:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _json_number(value: object) -> object:
    """Numbers of requests are JSON numbers: not the strings or booleans pydantic would convert
    ("12" is no token id; 12.0 is)."""
    if isinstance(value, str | bool):
        raise ValueError(f"Input should be a number, not {type(value).__name__}")
    return value


Num = Annotated[float | None, BeforeValidator(_finite_or_none)]  # NaN and infinities: null
# After the bounds, so that they stay native constraints (and in the JSON schema).
JSON_NUMBER = BeforeValidator(_json_number)
TokenId = Annotated[int, Field(ge=0, le=MAX_ID), JSON_NUMBER]
Index = Annotated[int, Field(ge=0, le=MAX_ID), JSON_NUMBER]
Position = Annotated[int, Field(ge=-MAX_PROMPT_TOKENS, le=MAX_PROMPT_TOKENS - 1), JSON_NUMBER]
Magnitude = Annotated[
    float, Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE, allow_inf_nan=False), JSON_NUMBER
]
HookSite = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.]+$")]
TextPrompt = Annotated[str, Field(min_length=1, max_length=MAX_PROMPT_CHARS)]
IdPrompt = Annotated[list[TokenId], Field(min_length=1, max_length=MAX_PROMPT_TOKENS)]
Prompt = TextPrompt | IdPrompt  # text, or token ids
Token = TokenId | Annotated[str, Field(min_length=1, max_length=200)]  # an id or one token's text
Tokens = Annotated[list[Token], Field(min_length=1, max_length=MAX_TOKENS_PER_SIDE)]
AblationValue = Literal["zero", "constant", "mean", "source"]


class Schema(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)


class RequestSchema(Schema):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not ignored


class ErrorItem(Schema):
    loc: list[str | int]
    message: str
    type: str


class ErrorResponse(Schema):
    detail: str  # what is wrong and how to fix it
    errors: list[ErrorItem] | None = None  # per field, for invalid request bodies

"""Every request and response body of the API (pydantic v2; camelCase on the wire).

Requests state their bounds here, so the OpenAPI document (and the TypeScript client generated
from it) carries them; bounds that depend on the model (its context, vocabulary, layers) are
checked against the loaded model and answered with a 400 that names the valid range. Responses
mirror the engine's result dataclasses field by field (`from_attributes`); a metric that is not
defined (NaN) is sent as null.

One module per area; every schema is importable from here. Each name is listed once, as an
explicit re-export (`X as X`, which mypy's strict mode and ruff read as public).
"""

from neuron_explainer.activation_server.schemas.base import (
    MAX_ABLATIONS as MAX_ABLATIONS,
    MAX_ID as MAX_ID,
    MAX_INTERVENTIONS as MAX_INTERVENTIONS,
    MAX_K as MAX_K,
    MAX_MAGNITUDE as MAX_MAGNITUDE,
    MAX_NEW_TOKENS as MAX_NEW_TOKENS,
    MAX_PROMPT_CHARS as MAX_PROMPT_CHARS,
    MAX_PROMPT_TOKENS as MAX_PROMPT_TOKENS,
    MAX_RUNS as MAX_RUNS,
    MAX_SAMPLES as MAX_SAMPLES,
    MAX_TOKENS_PER_SIDE as MAX_TOKENS_PER_SIDE,
    MAX_TOP_N as MAX_TOP_N,
    MAX_VERIFY as MAX_VERIFY,
    ErrorItem as ErrorItem,
    ErrorResponse as ErrorResponse,
)
from neuron_explainer.activation_server.schemas.components import (
    ActivationsRequest as ActivationsRequest,
    ActivationsResponse as ActivationsResponse,
    ComponentSpec as ComponentSpec,
    Intervention as Intervention,
    Sample as Sample,
    SamplePair as SamplePair,
    SamplingRequest as SamplingRequest,
    SamplingResponse as SamplingResponse,
)
from neuron_explainer.activation_server.schemas.datasets import (
    ComponentRecord as ComponentRecord,
    Example as Example,
    Histogram as Histogram,
    LayerSummary as LayerSummary,
    LogitTables as LogitTables,
    Measure as Measure,
    Quantile as Quantile,
    Stats as Stats,
    SummaryRow as SummaryRow,
    TokenValue as TokenValue,
)
from neuron_explainer.activation_server.schemas.debugger import (
    ComponentAttribution as ComponentAttribution,
    DebuggerRequest as DebuggerRequest,
    DebuggerResponse as DebuggerResponse,
    DebuggerResult as DebuggerResult,
    DebuggerRun as DebuggerRun,
    FloatListSides as FloatListSides,
    FloatSides as FloatSides,
    IdSides as IdSides,
    LensLayer as LensLayer,
    LensToken as LensToken,
    LogitLensRequest as LogitLensRequest,
    LogitLensResponse as LogitLensResponse,
    LogitSides as LogitSides,
    NodeAblation as NodeAblation,
    NodeOut as NodeOut,
    NodeRow as NodeRow,
    NodeTokens as NodeTokens,
    NodeValues as NodeValues,
    NodeValueSides as NodeValueSides,
    SiteAblation as SiteAblation,
    StringSides as StringSides,
    TokenAlignment as TokenAlignment,
    TokenLogit as TokenLogit,
    TokenScore as TokenScore,
    TraceSpec as TraceSpec,
    TraceTarget as TraceTarget,
    Verification as Verification,
    VerifiedNode as VerifiedNode,
)
from neuron_explainer.activation_server.schemas.model import (
    Autoencoder as Autoencoder,
    CollationGroup as CollationGroup,
    DatasetInfo as DatasetInfo,
    HealthResponse as HealthResponse,
    Investigation as Investigation,
    InvestigationsResponse as InvestigationsResponse,
    Limits as Limits,
    ModelConfig as ModelConfig,
    ModelInfo as ModelInfo,
    ModelsResponse as ModelsResponse,
    ServedModel as ServedModel,
    TokenizeRequest as TokenizeRequest,
    TokenizeResponse as TokenizeResponse,
)

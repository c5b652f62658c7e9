"""Collated datasets: a component's record and a layer's summary."""

from __future__ import annotations

from neuron_explainer.activation_server.schemas.base import (
    Num,
    Schema,
)


class Stats(Schema):
    count: int
    nonzero: int
    density: Num
    mean: Num
    variance: Num
    skew: Num
    kurtosis: Num
    max: Num


class Histogram(Schema):
    edges: list[Num]  # the outermost bins are open
    counts: list[int]


class Example(Schema):
    value: Num
    id: int
    position: int  # the node's token in the window (heads: the query token)
    tokens: list[int]
    activations: list[Num]
    strings: list[str] | None = None
    key_distance: int | None = None
    key_token: int | None = None
    key_string: str | None = None


class Quantile(Schema):
    quantile: int
    low: Num
    high: Num
    examples: list[Example]


class Measure(Schema):
    stats: Stats
    histogram: Histogram
    top: list[Example]
    quantiles: list[Quantile]
    random: list[Example]


class TokenValue(Schema):
    token: int
    string: str | None
    value: Num


class LogitTables(Schema):
    top: list[TokenValue]
    bottom: list[TokenValue]


class ComponentRecord(Schema):
    family: str
    site: str
    layer: int | None
    index: int
    measures: dict[str, Measure]
    logits: LogitTables | None = None


class SummaryRow(Schema):
    index: int
    kurtosis: Num
    density: Num
    max: Num
    mean: Num
    variance: Num
    skew: Num


class LayerSummary(Schema):
    family: str
    site: str
    by: str
    rows: list[SummaryRow]

"""What the store's reader returns: one component's record and a layer's summary, as typed
records.

The server's response schemas (`activation_server/schemas/datasets.py`) are validated from these
(`from_attributes`), and tests/activation_server/test_boundary.py checks that both sides have the
same fields, so a field is added in both places or the tests fail. Undefined statistics are None
(null on the wire). `as_json` gives the JSON form `tdb collation-record` prints
(datasets/FORMAT.md).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Stats:
    count: int
    nonzero: int
    density: float | None
    mean: float | None
    variance: float | None
    skew: float | None
    kurtosis: float | None
    max: float | None


@dataclass(frozen=True)
class Histogram:
    edges: list[float]  # the non-empty span; the outermost bins are open
    counts: list[int]


@dataclass(frozen=True)
class Example:
    value: float
    id: int
    position: int  # the node's token in the window (heads: the query token)
    tokens: list[int]
    activations: list[float]
    strings: list[str] | None = None  # None for a model without a tokenizer
    key_distance: int | None = None  # heads only
    key_token: int | None = None
    key_string: str | None = None


@dataclass(frozen=True)
class Quantile:
    quantile: int
    low: float
    high: float
    examples: list[Example]


@dataclass(frozen=True)
class Measure:
    stats: Stats
    histogram: Histogram
    top: list[Example]  # examples of value 0 left out
    quantiles: list[Quantile]
    random: list[Example]


@dataclass(frozen=True)
class TokenValue:
    token: int
    string: str | None  # None for a model without a tokenizer
    value: float


@dataclass(frozen=True)
class LogitTables:
    top: list[TokenValue]
    bottom: list[TokenValue]


@dataclass(frozen=True)
class ComponentRecord:
    family: str
    site: str
    layer: int | None
    index: int
    measures: dict[str, Measure]
    logits: LogitTables | None = None  # groups collated with logit tables


@dataclass(frozen=True)
class SummaryRow:
    index: int
    kurtosis: float | None
    density: float | None
    max: float | None
    mean: float | None
    variance: float | None
    skew: float | None


@dataclass(frozen=True)
class LayerSummary:
    family: str
    site: str
    by: str  # the statistic the rows are ranked by
    rows: list[SummaryRow]


def as_json(value: Any) -> Any:
    """A record as JSON-ready data: dataclasses as dicts, without the optional parts they lack
    (a field whose default is None and that holds None: an example's key of a neuron, a record's
    logit tables), as the store's format documents them."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: as_json(v)
            for f in dataclasses.fields(value)
            if not ((v := getattr(value, f.name)) is None and f.default is None)
        }
    if isinstance(value, list | tuple):
        return [as_json(v) for v in value]
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    return value

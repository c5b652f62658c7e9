"""The reader's typed records and their JSON form (`tdb collation-record`, datasets/FORMAT.md):
optional parts a record lacks are left out, undefined statistics are null."""

from __future__ import annotations

import json

from neuron_explainer.datasets.records import (
    ComponentRecord,
    Example,
    Histogram,
    LogitTables,
    Measure,
    Quantile,
    Stats,
    TokenValue,
    as_json,
)


def _measure(example: Example) -> Measure:
    stats = Stats(4, 0, 0.0, None, None, None, None, None)
    quantile = Quantile(0, 0.5, 0.5, [example])
    return Measure(stats, Histogram([0.0, 1.0], [4]), [example], [quantile], [])


def test_a_neuron_record_leaves_out_what_it_lacks() -> None:
    example = Example(0.5, 7, 1, [3, 4], [0.0, 0.5])  # a model without a tokenizer
    record = ComponentRecord(
        "neuron", "blocks.0.mlp.hook_post", 0, 2, {"activation": _measure(example)}
    )
    data = as_json(record)
    assert list(data) == ["family", "site", "layer", "index", "measures"]  # no logit tables
    measure = data["measures"]["activation"]
    assert measure["top"] == [
        {"value": 0.5, "id": 7, "position": 1, "tokens": [3, 4], "activations": [0.0, 0.5]}
    ]
    assert measure["quantiles"][0]["examples"] == measure["top"]
    assert measure["stats"]["mean"] is None and measure["stats"]["density"] == 0.0
    json.dumps(data, allow_nan=False)


def test_a_head_record_keeps_its_keys_and_logit_tables() -> None:
    example = Example(0.5, 17, 1, [3, 4], [0.0, 0.5], ["a", "b"], 1, 3, "a")
    tables = LogitTables([TokenValue(1, None, 2.0)], [TokenValue(2, "x", -1.0)])
    record = ComponentRecord("head", "blocks.0.attn.hook_pattern", 0, 1, {}, tables)
    data = as_json(record)
    assert data["logits"] == {
        "top": [{"token": 1, "string": None, "value": 2.0}],  # no tokenizer: null string
        "bottom": [{"token": 2, "string": "x", "value": -1.0}],
    }
    assert as_json(example)["key_string"] == "a" and as_json(example)["strings"] == ["a", "b"]

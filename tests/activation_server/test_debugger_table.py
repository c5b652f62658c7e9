"""The debugger's node table over the API: pinned (ablated, traced) nodes, and a compare prompt
of another token count, right-aligned."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from neuron_explainer.activation_server.engine import Engine, hooks_left
from neuron_explainer.activations import AttributionRequest, AttributionResult, attribute
from neuron_explainer.models import splice_saes

PROMPT = "name = str(value"  # 5 tokens
SHORTER = "str(value"  # 3 tokens: its last three pair with the prompt's
RUN: dict[str, Any] = {"prompt": PROMPT, "targets": [")"], "distractors": ["]"], "k": 2}
NEURON = "neuron:blocks.0.mlp.hook_post:3:17"
ATOL = 1e-5


def attribute_json(client: TestClient, run: dict[str, Any]) -> Any:
    response = client.post("/api/debugger/attribute", json={"runs": [run]})
    assert response.status_code == 200, response.text
    return response.json()["runs"][0]


def library(engine: Engine, **changes: Any) -> AttributionResult:
    """The library's answer, off the test's thread (`attribute` flushes denormals in its
    thread, which the folder's property-based tests refuse to run with)."""

    def call() -> AttributionResult:
        with splice_saes(engine.model, engine.saes):
            request = AttributionRequest(PROMPT, [")"], ["]"], **{"k": 2, **changes})
            return attribute(engine.model, request)

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(call).result()


def test_ablated_and_traced_nodes_are_listed_pinned(client: TestClient, engine: Engine) -> None:
    ablated = {**RUN, "families": ["head"], "ablations": [{"nodeId": NEURON}]}
    run = attribute_json(client, ablated)
    pinned = run["nodes"][0]
    assert pinned["node"]["id"] == NEURON and pinned["pins"] == ["ablated"]
    assert pinned["rankedBy"] == []  # neurons were not requested: measured for the pin only
    assert pinned["values"]["left"]["activation"] == 0
    baseline = {r.node.id: r for r in library(engine, families=("neuron",), k=2000).nodes}
    want = baseline[NEURON].values.left
    assert want is not None
    assert pinned["values"]["right"]["activation"] == pytest.approx(want.activation, abs=ATOL)
    assert all(not r["pins"] and r["node"]["family"] == "head" for r in run["nodes"][1:])

    trace = {"kind": "neuron_pre", "layer": 1, "token": -1, "index": 7}
    traced = attribute_json(client, {**RUN, "families": ["head"], "trace": trace})["nodes"][0]
    assert traced["node"]["id"] == "neuron:blocks.1.mlp.hook_post:4:7"
    assert traced["pins"] == ["traced"]
    assert hooks_left(engine.model) == []


def test_a_compare_prompt_of_another_length_is_aligned(client: TestClient, engine: Engine) -> None:
    run = attribute_json(client, {**RUN, "comparePrompt": SHORTER, "families": ["head"]})
    assert run["alignment"] == {
        "offset": -2,
        "leftToRight": [None, None, 0, 1, 2],
        "rightToLeft": [2, 3, 4],
    }
    assert run["tokenStrings"]["right"] == ["str", "(", "value"]
    expected = library(engine, compare_prompt=SHORTER, families=("head",))
    assert [r["node"]["id"] for r in run["nodes"]] == [r.node.id for r in expected.nodes]
    assert run["logitDiff"]["right"] == pytest.approx(expected.logit_diff.right, abs=ATOL)
    sums = run["tokenSums"]["head"]
    assert len(sums["left"]) == 5 and len(sums["right"]) == 3
    assert sums["diff"][:2] == [None, None]
    assert sums["diff"][2] == pytest.approx(sums["left"][2] - sums["right"][0], abs=ATOL)
    every = attribute_json(
        client, {**RUN, "comparePrompt": SHORTER, "families": ["head"], "k": 100}
    )
    one_sided = [r for r in every["nodes"] if r["values"]["right"] is None]
    assert one_sided and all(r["values"]["diff"] is None for r in one_sided)
    assert all(r["node"]["keyToken"] < 2 for r in one_sided)
    refused = client.post(
        "/api/debugger/attribute", json={"runs": [{**RUN, "comparePrompt": SHORTER, "position": 1}]}
    )
    assert refused.status_code == 400 and "no paired token" in refused.json()["detail"]

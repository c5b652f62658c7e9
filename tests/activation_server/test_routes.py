"""Every route: its answer against the library's, and its refusals of bad input."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
import torch
from fastapi.testclient import TestClient

from neuron_explainer.activation_server.engine import Engine, hooks_left
from neuron_explainer.activation_server.jobs.debugger import collated_means
from neuron_explainer.activations import Ablation, AttributionRequest, AttributionResult, attribute
from neuron_explainer.activations.logit_lens import logit_lens
from neuron_explainer.datasets import open_store
from neuron_explainer.models import splice_saes
from tests.activation_server.conftest import BASE_URL, COLLATED_SAE, MODEL, make_app

PROMPT = "name = str(value"
RUN: dict[str, Any] = {"prompt": PROMPT, "targets": [")"], "distractors": ["]"], "k": 3}
ATOL = 1e-5
T = TypeVar("T")


def in_a_thread(fn: Callable[[], T]) -> T:
    """Run a library call off the test's thread: `attribute` flushes denormal floats to zero in
    its thread, which the property-based tests of this folder (hypothesis) refuse to run with."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn).result()


def attribute_json(client: TestClient, *runs: dict[str, Any], status: int = 200) -> Any:
    response = client.post("/api/debugger/attribute", json={"runs": list(runs)})
    assert response.status_code == status, response.text
    return response.json()


def detail(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    message: str = response.json()["detail"]
    return message


# ---- health, model, tokenize, investigations -----------------------------------------------------


def test_health(client: TestClient) -> None:
    body = client.get("/api/health").json()
    assert body == {
        "status": "ok",
        "model": MODEL,
        "loaded": True,
        "loadedModels": [MODEL],
        "pending": 0,
    }


def test_model_info(client: TestClient, engine: Engine) -> None:
    body = client.get("/api/model").json()
    assert body["name"] == MODEL and body["source"] == "bundled"
    assert body["config"]["nLayers"] == engine.model.cfg.n_layers
    assert body["config"]["dMlp"] == engine.model.cfg.d_mlp
    assert {a["site"] for a in body["autoencoders"]} == set(engine.saes)
    assert body["limits"]["maxPromptTokens"] == engine.model.cfg.n_ctx
    dataset = body["dataset"]
    assert dataset["available"] and dataset["nTokens"] > 0
    assert {
        "family": "head",
        "site": "blocks.1.attn.hook_pattern",
        "layer": 1,
        "nComponents": 8,
    } in (dataset["groups"])


def test_tokenize(client: TestClient, engine: Engine) -> None:
    body = client.post("/api/model/tokenize", json={"text": PROMPT}).json()
    assert engine.model.tokenizer is not None
    assert body["ids"] == engine.model.tokenizer.encode(PROMPT)
    assert "".join(body["strings"]) == PROMPT
    assert client.post("/api/model/tokenize", json={"text": ""}).json() == {
        "ids": [],
        "strings": [],
    }
    assert "text" in detail(client.post("/api/model/tokenize", json={"txt": "a"}), 422)


def test_investigations(client: TestClient) -> None:
    own = client.get("/api/investigations").json()["investigations"]
    every = client.get("/api/investigations", params={"allModels": True}).json()["investigations"]
    assert own and all(i["model"] == MODEL for i in own)
    assert len(every) > len(own)
    assert {"id", "prompt", "targets", "distractors", "logitDiff"} <= set(own[0])


# ---- the debugger ---------------------------------------------------------------------------


def test_debugger_equals_the_library(client: TestClient, engine: Engine) -> None:
    (run,) = attribute_json(client, {**RUN, "verify": 4})["runs"]

    def library() -> AttributionResult:
        with splice_saes(engine.model, engine.saes):
            request = AttributionRequest(PROMPT, [")"], ["]"], k=3, verify=4)
            return attribute(engine.model, request)

    expected = in_a_thread(library)
    assert run["logitDiff"]["left"] == pytest.approx(expected.logit_diff.left, abs=ATOL)
    assert [n["node"]["id"] for n in run["nodes"]] == [r.node.id for r in expected.nodes]
    first, want = run["nodes"][0], expected.nodes[0]
    assert first["values"]["left"]["totalEffect"] == pytest.approx(
        want.values.left.total_effect, abs=ATOL
    )
    assert first["rankedBy"] == list(want.ranked_by)
    assert set(run["tokenSums"]) == {"embedding", "neuron", "head", "latent"}
    assert len(run["verification"]["nodes"]) == 4
    assert hooks_left(engine.model) == []


def test_debugger_runs_are_independent(client: TestClient) -> None:
    """Several runs in one request answer as each run alone."""
    other = {**RUN, "prompt": "first = items[0", "targets": ["]"], "distractors": [")"]}
    both = attribute_json(client, RUN, other)["runs"]
    assert both[0] == attribute_json(client, RUN)["runs"][0]
    assert both[1] == attribute_json(client, other)["runs"][0]


def test_debugger_two_sides(client: TestClient) -> None:
    ablated = {
        **RUN,
        "families": ["neuron", "head"],
        "ablations": [{"nodeId": "embedding:hook_embed:4:0"}],
    }
    run = attribute_json(client, ablated)["runs"][0]
    assert run["rightRun"] == "baseline"
    sides = run["logitDiff"]
    assert sides["diff"] == pytest.approx(sides["left"] - sides["right"], abs=ATOL)
    compared = {**RUN, "comparePrompt": "name = str(items", "rankOn": "diff", "families": ["head"]}
    run = attribute_json(client, compared)["runs"][0]
    assert run["rightRun"] == "prompt" and run["tokens"]["right"] is not None
    by_site = {
        **RUN,
        "families": ["neuron"],
        "ablations": [{"site": "blocks.0.mlp.hook_post", "token": 4, "value": "mean"}],
    }
    assert attribute_json(client, by_site)["runs"][0]["rightRun"] == "baseline"


def test_debugger_dataset_means(client: TestClient, engine: Engine, data_dir: Path) -> None:
    """Mean ablations with the collated means equal the library given those means."""
    ablations = [
        {"site": "blocks.0.mlp.hook_post", "token": 3, "value": "mean"},
        {"nodeId": f"latent:{COLLATED_SAE}.hook_sae_acts_post:4:9", "value": "mean"},
    ]
    run = {**RUN, "families": ["neuron"], "ablations": ablations}
    prompt_means = attribute_json(client, run)["runs"][0]["logitDiff"]["left"]
    dataset_means = attribute_json(client, {**run, "meanSource": "dataset"})["runs"][0]
    store = open_store(str(data_dir / "collations" / MODEL))
    sites = {"blocks.0.mlp.hook_post", f"{COLLATED_SAE}.hook_sae_acts_post"}

    def library() -> AttributionResult:
        with splice_saes(engine.model, engine.saes):
            means = collated_means(store, sites)
            request = AttributionRequest(
                PROMPT,
                [")"],
                ["]"],
                families=("neuron",),
                k=3,
                ablations=[
                    Ablation("blocks.0.mlp.hook_post", token=3, value="mean"),
                    Ablation.latent(COLLATED_SAE, 4, 9, "mean"),
                ],
                means=means,
            )
            return attribute(engine.model, request)

    expected = in_a_thread(library).logit_diff.left
    assert dataset_means["logitDiff"]["left"] == pytest.approx(expected, abs=ATOL)
    assert abs(dataset_means["logitDiff"]["left"] - prompt_means) > ATOL
    head_mean = {"site": "blocks.0.attn.hook_z", "value": "mean"}
    no_means = {**RUN, "meanSource": "dataset", "ablations": [head_mean]}
    response = client.post("/api/debugger/attribute", json={"runs": [no_means]})
    assert "no means at blocks.0.attn.hook_z" in detail(response, 400)
    with TestClient(make_app(engine, data_dir / "empty"), base_url=BASE_URL) as bare:
        missing = bare.post("/api/debugger/attribute", json={"runs": [no_means]})
        assert "tdb collate" in detail(missing, 404)


def test_debugger_trace(client: TestClient) -> None:
    trace = {"kind": "neuron_pre", "layer": 1, "token": -1, "index": 7}
    run = attribute_json(client, {**RUN, "families": ["neuron", "head"], "trace": trace})["runs"][0]
    assert all(n["node"]["layer"] in (0, 1, None) for n in run["nodes"])
    head = {"kind": "head_value", "layer": 1, "index": 2, "token": 4, "keyToken": 1}
    assert attribute_json(client, {**RUN, "families": ["head"], "trace": head})["runs"]


@pytest.mark.parametrize(
    "change, status, words",
    [
        ({"targets": ["hello world"]}, 400, ["2 tokens", "'hello'", "' world'"]),
        ({"distractors": [")"]}, 400, ["overlap"]),
        ({"targets": [9000]}, 400, ["[0, 8192)"]),
        ({"prompt": "x " * 300}, 400, ["301 tokens", "context of 256"]),
        ({"prompt": list(range(257))}, 400, ["257 tokens", "context of 256"]),
        ({"k": 101}, 422, ["k", "less than or equal to 100"]),
        ({"position": 9}, 400, ["position 9", "5 tokens"]),
        ({"comparePrompt": "a", "position": 2}, 400, ["token 2 of the prompt", "no paired"]),
        ({"ablations": [{"site": "blocks.7.mlp.hook_post", "index": 1}]}, 400, ["blocks.7"]),
        ({"ablations": [{"site": "blocks.0.mlp.hook_post", "token": 40}]}, 400, ["[0, 5)"]),
        ({"ablations": [{"nodeId": "neuron:x"}]}, 400, ["Cannot parse node id"]),
        ({"ablations": [{"site": "a", "nodeId": "b"}]}, 422, ["Extra inputs"]),
        ({"targets": ["12"], "position": False}, 422, ["position", "not bool"]),
        ({"trace": {"kind": "neuron_pre", "layer": 5, "token": 0, "index": 0}}, 400, ["layer 5"]),
        ({"trace": {"kind": "latent_pre", "site": "blocks.1.hook_resid_pre", "token": 0,
                    "index": 0}}, 400, ["No autoencoder is spliced"]),
        ({"verify": 51}, 422, ["verify"]),
        ({"families": []}, 422, ["families"]),
        ({"colour": "red"}, 422, ["colour", "Extra inputs"]),
    ],
)  # fmt: skip
def test_debugger_refusals(
    client: TestClient, engine: Engine, change: dict[str, Any], status: int, words: list[str]
) -> None:
    response = client.post("/api/debugger/attribute", json={"runs": [{**RUN, **change}]})
    message = detail(response, status)
    for word in words:
        assert word in message
    assert hooks_left(engine.model) == []


def test_debugger_request_bounds(client: TestClient) -> None:
    assert "runs" in detail(client.post("/api/debugger/attribute", json={"runs": []}), 422)
    too_many = {"runs": [RUN] * 9}
    assert "at most 8" in detail(client.post("/api/debugger/attribute", json=too_many), 422)
    second_bad = {"runs": [RUN, {**RUN, "targets": ["hello world"]}]}
    assert detail(client.post("/api/debugger/attribute", json=second_bad), 400).startswith("Run 1:")
    broken = client.post(
        "/api/debugger/attribute", content=b"{", headers={"content-type": "application/json"}
    )
    assert "JSON" in detail(broken, 422)


def test_logit_lens(client: TestClient, engine: Engine) -> None:
    body = {"prompt": PROMPT, "topN": 3, "targets": [")"], "distractors": ["]"]}
    lens = client.post("/api/debugger/logit-lens", json=body).json()
    expected = logit_lens(engine.model, PROMPT, -1, top_n=3, targets=[")"], distractors=["]"])
    assert [layer["label"] for layer in lens["layers"]] == [layer.label for layer in expected]
    last, want = lens["layers"][-1], expected[-1]
    assert [t["token"] for t in last["top"]] == [t.token for t in want.top]
    assert last["logitDifference"] == pytest.approx(want.logit_difference, abs=ATOL)
    total = sum(c["contribution"] for c in lens["directLogitAttribution"])
    assert total == pytest.approx(want.logit_difference, abs=1e-3)
    plain = client.post("/api/debugger/logit-lens", json={"prompt": PROMPT, "position": 2}).json()
    assert plain["position"] == 2 and plain["directLogitAttribution"] is None
    half = {"prompt": PROMPT, "targets": [")"]}
    assert "both" in detail(client.post("/api/debugger/logit-lens", json=half), 400)
    far = {"prompt": PROMPT, "position": -6}
    assert "outside a prompt of 5 tokens" in detail(
        client.post("/api/debugger/logit-lens", json=far), 400
    )


# ---- activations and sampling ---------------------------------------------------------------


def cached(engine: Engine, site: str) -> torch.Tensor:
    ids = torch.tensor([engine.model.tokenizer.encode(PROMPT)])  # type: ignore[union-attr]
    with splice_saes(engine.model, engine.saes), torch.no_grad():
        _, cache = engine.model.run_with_cache(ids, names_filter=[site])
    return cache[site][0]


@pytest.mark.parametrize(
    "component",
    [
        {"family": "neuron", "layer": 1, "index": 17},
        {"family": "latent", "site": COLLATED_SAE, "index": 5},
        {"family": "head", "layer": 0, "index": 3},
    ],
)
def test_activations(client: TestClient, engine: Engine, component: dict[str, Any]) -> None:
    body = client.post("/api/activations", json={"prompt": PROMPT, "component": component}).json()
    act = cached(engine, body["site"])
    index = component["index"]
    if component["family"] == "head":
        pattern = act[index]
        assert [len(row) for row in body["pattern"]] == [1, 2, 3, 4, 5]
        for q, row in enumerate(body["pattern"]):
            assert row == pytest.approx(pattern[q, : q + 1].tolist(), abs=ATOL)
        assert body["values"] is None
    else:
        assert body["values"] == pytest.approx(act[:, index].tolist(), abs=ATOL)
        assert body["max"] == pytest.approx(max(body["values"]), abs=ATOL)


@pytest.mark.parametrize(
    "component, words",
    [
        ({"family": "neuron", "layer": 2, "index": 0}, ["Layer 2", "0..1"]),
        ({"family": "neuron", "index": 0}, ["needs a layer"]),
        ({"family": "neuron", "layer": 0, "index": 1024}, ["1024", "0..1023"]),
        ({"family": "head", "layer": 0, "index": 8}, ["0..7"]),
        ({"family": "latent", "site": "blocks.1.hook_resid_pre", "index": 0},
         ["blocks.0.hook_attn_out"]),
        ({"family": "latent", "site": COLLATED_SAE, "index": 2048}, ["0..2047"]),
        ({"family": "head", "layer": 0, "site": COLLATED_SAE, "index": 0}, ["not by a site"]),
    ],
)  # fmt: skip
def test_activations_refusals(
    client: TestClient, component: dict[str, Any], words: list[str]
) -> None:
    response = client.post("/api/activations", json={"prompt": PROMPT, "component": component})
    message = detail(response, 400)
    for word in words:
        assert word in message


def sample(client: TestClient, **body: Any) -> Any:
    response = client.post("/api/sampling", json={"prompt": "def f(x):", "maxNewTokens": 6, **body})
    assert response.status_code == 200, response.text
    return response.json()


def test_sampling_side_by_side(client: TestClient, engine: Engine) -> None:
    none = sample(client, interventions=[], nSamples=2, temperature=1.0, seed=3)
    for pair in none["samples"]:
        assert pair["intervened"] == pair["plain"] and len(pair["plain"]["tokens"]) == 6
    assert none["samples"][0] != none["samples"][1]  # two draws
    assert sample(client, interventions=[], nSamples=2, temperature=1.0, seed=3) == none
    steer = {
        "kind": "steer",
        "component": {"family": "neuron", "layer": 1, "index": 3},
        "strength": 80,
    }
    steered = sample(client, interventions=[steer])["samples"][0]
    assert steered["intervened"] != steered["plain"]
    assert steered["plain"] == sample(client, interventions=[])["samples"][0]["plain"]
    latent = {
        "kind": "steer",
        "component": {"family": "latent", "site": COLLATED_SAE, "index": 1},
        "strength": 50,
    }
    ablate = [
        {"kind": "ablate", "component": {"family": "head", "layer": 0, "index": 1}},
        {"kind": "ablate", "component": {"family": "neuron", "layer": 0, "index": 5}},
        {"kind": "ablate", "component": {"family": "latent", "site": COLLATED_SAE, "index": 7}},
    ]
    assert sample(client, interventions=[latent, *ablate])["samples"]
    assert hooks_left(engine.model) == []


def test_sampling_refusals(client: TestClient) -> None:
    head = {"kind": "steer", "component": {"family": "head", "layer": 0, "index": 1}, "strength": 1}
    body = {"prompt": "a", "interventions": [head]}
    assert "neuron or a latent" in detail(client.post("/api/sampling", json=body), 400)
    long = {"prompt": list(range(250)), "interventions": [], "maxNewTokens": 10}
    assert "context of 256" in detail(client.post("/api/sampling", json=long), 400)
    many = {"prompt": "a", "interventions": [], "maxNewTokens": 65}
    assert "maxNewTokens" in detail(client.post("/api/sampling", json=many), 422)


# ---- collated datasets -----------------------------------------------------------------------


def test_record_and_summary(client: TestClient) -> None:
    record = client.get("/api/datasets/records/neuron/0/17").json()
    assert record["site"] == "blocks.0.mlp.hook_post" and record["index"] == 17
    measure = record["measures"]["activation"]
    assert measure["stats"]["count"] > 0 and measure["top"]
    assert len(record["logits"]["top"]) > 0
    head = client.get("/api/datasets/records/head/blocks.1.attn.hook_pattern/2").json()
    assert set(head["measures"]) == {"attention", "write_norm"}
    latent = client.get("/api/datasets/records/latent/0/3").json()
    assert latent["site"] == f"{COLLATED_SAE}.hook_sae_acts_post"
    summary = client.get(
        "/api/datasets/summaries/neuron/1", params={"by": "max", "limit": 5}
    ).json()
    maxima = [row["max"] for row in summary["rows"]]
    assert len(maxima) == 5 and maxima == sorted(maxima, reverse=True)


def test_dataset_refusals(client: TestClient, data_dir: Any) -> None:
    assert "0..1023" in detail(client.get("/api/datasets/records/neuron/0/5000"), 404)
    message = detail(client.get("/api/datasets/records/neuron/7/0"), 404)
    assert "blocks.0.mlp.hook_post" in message and "blocks.1.mlp.hook_post" in message
    assert detail(client.get("/api/datasets/records/latent/1/0"), 404)  # not collated
    missing = client.get("/api/datasets/records/neuron/0/0", params={"store": "other"})
    assert "tdb collate toy-gelu-2l" in detail(missing, 404)
    bad_measure = client.get("/api/datasets/summaries/neuron/0", params={"measure": "attention"})
    assert "activation" in detail(bad_measure, 404)
    assert detail(client.get("/api/datasets/records/cell/0/0"), 422)

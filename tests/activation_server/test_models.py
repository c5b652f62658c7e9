"""Several models in one server: `?model=NAME` on every model route, `/api/models`, loading
within a memory budget (least recently used unloaded), per-model stores and collations."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from neuron_explainer.activation_server import preparation
from neuron_explainer.activation_server.engine import Engine, hooks_left, load_engine
from neuron_explainer.activation_server.main import create_app
from neuron_explainer.activation_server.pool import ModelPool
from neuron_explainer.activation_server.settings import Settings
from neuron_explainer.activations import AttributionRequest, AttributionResult, attribute
from tests.activation_server.conftest import BASE_URL, MODEL
from tests.activation_server.test_routes import ATOL, PROMPT, detail, in_a_thread

OTHER = "toy-attn-only-2l"  # bundled, no autoencoders
SERVED = (MODEL, OTHER)
RUN: dict[str, Any] = {
    "prompt": PROMPT,
    "targets": [")"],
    "distractors": ["]"],
    "k": 3,
    "families": ["head"],  # the attention-only model has no neurons
}


@pytest.fixture(scope="module")
def other_engine() -> Engine:
    return load_engine(Settings(model=OTHER))


def served_settings(data_dir: Path, **settings: Any) -> Settings:
    return Settings(models=SERVED, data_dir=data_dir, ui_dir=None, **settings)


@pytest.fixture(scope="module")
def client(engine: Engine, other_engine: Engine, data_dir: Path) -> Iterator[TestClient]:
    engines = {MODEL: engine, OTHER: other_engine}
    app = create_app(served_settings(data_dir), engines=engines)
    with TestClient(app, base_url=BASE_URL) as c:
        yield c


def pool_of(client: TestClient) -> ModelPool:
    pool: ModelPool = client.app.state.pool  # type: ignore[attr-defined]
    return pool


def attribute_on(client: TestClient, model: str | None, run: dict[str, Any]) -> Any:
    query = {} if model is None else {"model": model}
    response = client.post("/api/debugger/attribute", params=query, json={"runs": [run]})
    assert response.status_code == 200, response.text
    return response.json()


def test_models_lists_the_served_models(client: TestClient) -> None:
    models = client.get("/api/models").json()["models"]
    assert [m["name"] for m in models] == list(SERVED)
    assert [m["default"] for m in models] == [True, False]
    assert all(m["loaded"] for m in models)  # both given loaded
    # The test data directory holds a collation of the default model only.
    assert [m["datasetAvailable"] for m in models] == [True, False]
    assert all(m["description"] for m in models)
    assert client.get("/api/health").json()["loadedModels"] == list(SERVED)


def test_model_parameter_picks_the_model(client: TestClient) -> None:
    other = client.get("/api/model", params={"model": OTHER}).json()
    assert other["name"] == OTHER and other["config"]["attnOnly"] is True
    assert other["autoencoders"] == [] and other["dataset"]["available"] is False
    assert f"tdb collate {OTHER}" in other["dataset"]["message"]
    default = client.get("/api/model").json()
    assert default["name"] == MODEL and default["config"]["attnOnly"] is False
    # Stores follow the model: the default's is there, the other's is not (and says how to build).
    assert client.get("/api/datasets/summaries/neuron/0").status_code == 200
    missing = client.get("/api/datasets/summaries/head/0", params={"model": OTHER})
    assert f"tdb collate {OTHER}" in detail(missing, 404)
    investigations = client.get("/api/investigations", params={"model": OTHER}).json()
    assert {i["model"] for i in investigations["investigations"]} == {OTHER}


def test_debugger_runs_on_the_model_asked_for(
    client: TestClient, engine: Engine, other_engine: Engine
) -> None:
    body = attribute_on(client, OTHER, RUN)
    assert body["model"] == OTHER

    def library() -> AttributionResult:
        request = AttributionRequest(PROMPT, [")"], ["]"], k=3, families=("head",))
        return attribute(other_engine.model, request)

    expected = in_a_thread(library)
    (run,) = body["runs"]
    assert run["logitDiff"]["left"] == pytest.approx(expected.logit_diff.left, abs=ATOL)
    assert [n["node"]["id"] for n in run["nodes"]] == [r.node.id for r in expected.nodes]
    default = attribute_on(client, None, RUN)
    assert default["model"] == MODEL
    assert default["runs"][0]["logitDiff"]["left"] != pytest.approx(run["logitDiff"]["left"])
    lens = client.post(
        "/api/debugger/logit-lens", params={"model": OTHER}, json={"prompt": PROMPT}
    ).json()
    assert lens["model"] == OTHER and len(lens["layers"]) == other_engine.model.cfg.n_layers + 1
    for served in (engine, other_engine):
        assert hooks_left(served.model) == []


def test_an_unknown_model_is_a_404_naming_the_served_ones(client: TestClient) -> None:
    for path in ("/api/model", "/api/datasets/summaries/neuron/0", "/api/investigations"):
        message = detail(client.get(path, params={"model": "gpt2"}), 404)
        assert "does not serve the model 'gpt2'" in message
        assert f"{MODEL}, {OTHER}" in message
    response = client.post("/api/debugger/attribute?model=nope", json={"runs": [RUN]})
    assert "nope" in detail(response, 404)
    assert client.get("/api/model", params={"model": "../etc"}).status_code == 422


def test_models_load_within_the_budget_least_recently_used_unloaded(data_dir: Path) -> None:
    sizes = [load_engine(Settings(models=SERVED, model=name)).n_bytes for name in SERVED]
    budget = max(sizes) + 1  # one model at a time
    app = create_app(served_settings(data_dir, max_model_bytes=budget))
    with TestClient(app, base_url=BASE_URL) as client:
        pool = pool_of(client)
        assert pool.loaded() == []
        first = attribute_on(client, MODEL, RUN)
        assert pool.loaded() == [MODEL]
        attribute_on(client, OTHER, RUN)
        assert pool.loaded() == [OTHER]  # asking for the other unloaded the default
        assert not pool.runtime(MODEL).loaded
        again = attribute_on(client, MODEL, RUN)
        assert pool.loaded() == [MODEL]
        assert again == first  # reloaded, same answer
        health = client.get("/api/health").json()
        assert health["loadedModels"] == [MODEL] and health["pending"] == 0
        engine = pool.runtime(MODEL)._engine
        assert engine is not None and hooks_left(engine.model) == []


def test_a_budget_for_both_keeps_both_and_a_tiny_one_still_loads(data_dir: Path) -> None:
    roomy = create_app(served_settings(data_dir, max_model_bytes=2**40))
    with TestClient(roomy, base_url=BASE_URL) as client:
        attribute_on(client, OTHER, RUN)
        client.get("/api/model", params={"model": MODEL})
        assert pool_of(client).loaded() == [OTHER, MODEL]
        client.get("/api/model", params={"model": OTHER})  # used again: now the most recent
        assert pool_of(client).loaded() == [MODEL, OTHER]
    tiny = create_app(served_settings(data_dir, max_model_bytes=0))
    with TestClient(tiny, base_url=BASE_URL) as client:
        assert client.get("/api/model").json()["name"] == MODEL  # never refused, loaded alone
        assert pool_of(client).loaded() == [MODEL]


def test_settings_of_several_models() -> None:
    settings = Settings(models=SERVED, saes=())
    assert settings.model == MODEL and settings.default_model == MODEL
    other = settings.for_model(OTHER)
    assert (other.model, other.models, other.engine_saes) == (OTHER, SERVED, None)
    assert settings.engine_saes == ()  # --saes is the default model's
    assert Settings().models == (Settings().model,)
    with pytest.raises(KeyError):
        settings.for_model("gpt2")
    with pytest.raises(ValueError, match="not one of the served models"):
        Settings(model="gpt2", models=SERVED)


def test_serve_prepare_collates_the_served_models_one_after_another(
    engine: Engine, tmp_path: Path
) -> None:
    """Each child notes when it ran; the second starts only once the first has finished, and
    meanwhile the second model's dataset routes say it is queued."""
    log = tmp_path / "runs.txt"
    script = (
        "import sys, time; t = time.monotonic(); time.sleep(0.5); "
        "open(sys.argv[1], 'a').write(f'{sys.argv[2]} {t} {time.monotonic()}\\n')"
    )
    queue = preparation.PreparationQueue(
        {
            name: preparation.Preparation(
                [sys.executable, "-c", script, str(log), name], f"tdb prepare {name}"
            )
            for name in SERVED
        }
    )
    app = create_app(served_settings(tmp_path), engine=engine)
    app.state.preparations = queue.preparations
    with TestClient(app, base_url=BASE_URL) as client:
        queue.start()
        deadline = time.monotonic() + 10
        while queue.preparations[MODEL].state().phase != "running":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        waiting = client.get("/api/datasets/summaries/head/0", params={"model": OTHER})
        assert "waits for that of another served model" in detail(waiting, 503)
        running = client.get("/api/datasets/summaries/head/0")
        assert "being collated" in detail(running, 503)
        while any(p.state().phase != "finished" for p in queue.preparations.values()):
            assert time.monotonic() < deadline
            time.sleep(0.01)
    queue.stop()
    runs = [line.split() for line in log.read_text().splitlines()]
    assert [name for name, _, _ in runs] == list(SERVED)
    assert float(runs[1][1]) >= float(runs[0][2])  # one child at a time


def test_serve_prepare_queues_only_the_models_without_a_store(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[list[str]] = []
    real_popen = preparation.subprocess.Popen

    def record(command: list[str]) -> Any:  # runs no collation
        started.append(command)
        return real_popen([sys.executable, "-c", "pass"])

    monkeypatch.setattr(preparation.subprocess, "Popen", record)
    queue = preparation.start_preparations(served_settings(data_dir))
    assert queue is not None and list(queue.preparations) == [OTHER]  # the default has a store
    deadline = time.monotonic() + 10
    while queue.preparations[OTHER].state().phase != "finished":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    queue.stop()
    (command,) = started
    assert command[3:6] == ["prepare", OTHER, "--data-dir"]
    assert preparation.start_preparations(Settings(model=MODEL, data_dir=data_dir)) is None

"""The app factory and the commands: no model until one is needed, the OpenAPI document without a
model, `tdb serve`'s settings and output, and the UI at / beside the API."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from neuron_explainer.activation_server import commands
from neuron_explainer.activation_server.engine import Engine
from neuron_explainer.activation_server.main import create_app
from neuron_explainer.activation_server.settings import Settings
from neuron_explainer.cli import main
from tests.activation_server.conftest import BASE_URL, MODEL, make_app


@pytest.fixture
def no_model_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the model must not be loaded here")

    monkeypatch.setattr("neuron_explainer.models.loading.load_model", refuse)


def test_openapi_without_a_model(
    no_model_loading: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "openapi.json"
    assert main(["openapi", "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    doc = json.loads(out.read_text())
    operations = [op for path in doc["paths"].values() for op in path.values()]
    assert len(operations) == 11
    for op in operations:
        tag = op["tags"][0]
        assert op["operationId"].startswith(f"{tag}-"), op["operationId"]
        assert {"400", "401", "413", "422", "500", "503"} <= set(op["responses"])
    assert "/api/debugger/attribute" in doc["paths"]
    props = doc["components"]["schemas"]["DebuggerRun"]["properties"]
    assert props["k"]["maximum"] == 100 and "topNLogits" in props  # camelCase, bounded
    assert main(["openapi"]) == 0
    assert json.loads(capsys.readouterr().out) == doc


def test_model_loads_on_first_use_only(no_model_loading: None, data_dir: Path) -> None:
    app = create_app(Settings(model=MODEL, data_dir=data_dir, ui_dir=None))
    with TestClient(app, base_url=BASE_URL) as client:
        assert client.get("/api/health").json()["loaded"] is False
        assert client.get("/api/investigations").status_code == 200
        assert client.get("/api/datasets/summaries/neuron/0").status_code == 200
        assert client.get("/api/openapi.json").status_code == 200
        assert client.get("/api/health").json()["loaded"] is False


def test_lazy_and_preloaded_model(data_dir: Path) -> None:
    for preload in (False, True):
        app = create_app(Settings(model=MODEL, data_dir=data_dir, ui_dir=None, preload=preload))
        with TestClient(app, base_url=BASE_URL) as client:
            assert client.get("/api/health").json()["loaded"] is preload
            assert client.get("/api/model").json()["name"] == MODEL
            assert client.get("/api/health").json()["loaded"] is True


def serve_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    commands.add_commands(parser.add_subparsers())
    return parser.parse_args(["serve", *argv])


def test_serve_settings() -> None:
    settings, generated = commands.settings_from_args(serve_args())
    assert (settings.host, settings.port, settings.model) == ("127.0.0.1", 8000, MODEL)
    assert settings.token is None and not generated and settings.saes is None
    settings, generated = commands.settings_from_args(serve_args("--host", "0.0.0.0"))
    assert generated and settings.token and len(settings.token) >= 30  # off loopback: a token
    settings, generated = commands.settings_from_args(
        serve_args("--host", "0.0.0.0", "--token", "mine", "--cors-origin", "http://a:1")
    )
    assert settings.token == "mine" and not generated
    assert "http://a:1" in settings.origins() and "http://0.0.0.0:8000" in settings.origins()
    assert commands.settings_from_args(serve_args("--saes", "none"))[0].saes == ()
    chosen = commands.settings_from_args(serve_args("--saes", "blocks.0.hook_attn_out"))[0]
    assert chosen.saes == ("blocks.0.hook_attn_out",)
    with pytest.raises(ValueError, match=r"ships no autoencoder at blocks\.5\.x"):
        commands.settings_from_args(serve_args("--saes", "blocks.5.x"))


def test_serve_prints_where_and_the_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: calls.append(kwargs))
    assert main(["serve", "--host", "0.0.0.0", "--port", "8123", "--saes", "none"]) == 0
    out = capsys.readouterr().out
    assert calls[0]["host"] == "0.0.0.0" and calls[0]["port"] == 8123
    assert "http://0.0.0.0:8123" in out and "Authorization: Bearer" in out
    token = out.split("needs the token (")[1].split(")")[0]
    assert len(token) >= 30
    assert main(["serve", "--model", "no-such-model"]) == 2
    assert "Registry names" in capsys.readouterr().err


def test_ui_served_beside_the_api(engine: Engine, data_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<html>debugger</html>")
    (tmp_path / "assets" / "app.js").write_text("console.log(1)")
    with TestClient(make_app(engine, data_dir, ui_dir=tmp_path), base_url=BASE_URL) as client:
        assert client.get("/").text == "<html>debugger</html>"
        assert client.get("/debugger?prompt=x").text == "<html>debugger</html>"  # UI routes
        assert client.get("/assets/app.js").text == "console.log(1)"
        assert client.get("/assets/missing.js").status_code == 404
        unknown = client.get("/api/nothing")
        assert unknown.status_code == 404 and unknown.json() == {"detail": "Not Found"}
        wrong = client.get("/api/model/tokenize")
        assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"
        assert client.get("/api/health").json()["status"] == "ok"

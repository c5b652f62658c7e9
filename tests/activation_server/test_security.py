"""Host header, token, CORS, body size, data paths confined to the data directory, and 500s that
reveal nothing but are logged."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from neuron_explainer.activation_server.deps import store_path
from neuron_explainer.activation_server.engine import Engine, hooks_left
from neuron_explainer.activation_server.errors import BadRequestError
from neuron_explainer.activation_server.main import create_app
from neuron_explainer.activation_server.settings import Settings
from tests.activation_server.conftest import BASE_URL, MODEL, make_app

TOKEN = "s3cret-token"


def test_host_header_checked(client: TestClient) -> None:
    for host in ("127.0.0.1:8000", "localhost", "LOCALHOST:1234", "[::1]:8000"):
        assert client.get("/api/health", headers={"host": host}).status_code == 200, host
    for host in ("evil.example", "evil.example:8000", "127.0.0.2", ""):
        response = client.get("/api/health", headers={"host": host})
        assert response.status_code == 400, host
        assert "not served here" in response.json()["detail"]


def test_binding_off_loopback_needs_a_token(engine: Engine, data_dir: Path) -> None:
    with pytest.raises(ValueError, match="requires a token"):
        create_app(Settings(host="0.0.0.0"))
    app = make_app(engine, data_dir, host="192.168.1.5", token=TOKEN)
    with TestClient(app, base_url="http://192.168.1.5:8000") as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"X-TDB-Token": ""}):
            response = client.get("/api/health", headers=headers)
            assert response.status_code == 401, headers
            assert response.headers["www-authenticate"] == "Bearer"
            assert "Authorization: Bearer" in response.json()["detail"]
        for headers in ({"Authorization": f"Bearer {TOKEN}"}, {"X-TDB-Token": TOKEN}):
            assert client.get("/api/model", headers=headers).status_code == 200
        assert client.get("/").status_code == 404  # outside /api: no token asked (no UI here)
        assert client.get("/", headers={"host": "evil.example"}).status_code == 400


def test_cors_allows_only_the_ui_origin(engine: Engine, data_dir: Path) -> None:
    extra = "http://localhost:5173"
    app = make_app(engine, data_dir, port=8123, cors_origins=(extra,), token=TOKEN)
    with TestClient(app, base_url=BASE_URL) as client:
        for origin, allowed in [
            ("http://127.0.0.1:8123", True),
            ("http://localhost:8123", True),
            (extra, True),
            ("http://127.0.0.1:9999", False),
            ("https://evil.example", False),
        ]:
            preflight = client.options(
                "/api/debugger/attribute",
                headers={
                    "Origin": origin,
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "authorization,content-type",
                },
            )
            assert (preflight.status_code == 200) == allowed, origin
            got = client.get("/api/health", headers={"Origin": origin, "X-TDB-Token": TOKEN})
            assert (got.headers.get("access-control-allow-origin") == origin) == allowed


def test_body_size_bounded(engine: Engine, data_dir: Path) -> None:
    app = make_app(engine, data_dir, max_body_bytes=2000)
    big = b'{"text": "' + b"a" * 3000 + b'"}'
    with TestClient(app, base_url=BASE_URL) as client:
        headers = {"content-type": "application/json"}
        response = client.post("/api/model/tokenize", content=big, headers=headers)
        assert response.status_code == 413 and "2000 bytes" in response.json()["detail"]

        def chunks() -> Any:  # no Content-Length: counted as it arrives
            yield big[:1500]
            yield big[1500:]

        response = client.post("/api/model/tokenize", content=chunks(), headers=headers)
        assert response.status_code == 413 and "2000 bytes" in response.json()["detail"]
        ok = client.post("/api/model/tokenize", json={"text": "a" * 100})
        assert ok.status_code == 200


def test_data_paths_stay_in_the_data_directory(
    client: TestClient, data_dir: Path, tmp_path: Path
) -> None:
    settings = Settings(model=MODEL, data_dir=data_dir)
    for name in ("../..", "../../etc", "/etc"):
        with pytest.raises(BadRequestError, match="outside the data directory"):
            store_path(settings, name)
    # A store name is one plain name; a link that leads out of the data directory is refused.
    (data_dir / "collations" / "escape").symlink_to(tmp_path, target_is_directory=True)
    escape = client.get("/api/datasets/records/neuron/0/0", params={"store": "escape"})
    assert escape.status_code == 400 and "outside the data directory" in escape.json()["detail"]
    for store in ("../collations/toy-gelu-2l", "..", "a/b", "%2e%2e"):
        response = client.get("/api/datasets/records/neuron/0/0", params={"store": store})
        assert response.status_code == 422, store
    for path in (
        "/api/datasets/records/neuron/..%2F..%2Fetc/0",
        "/api/datasets/records/neuron/../../../etc/passwd",
        "/api/datasets/summaries/neuron/..",
        "/api/datasets/records/neuron/%2e%2e/0",
    ):
        assert client.get(path).status_code in (404, 422), path


def test_unexpected_errors_are_500s_logged_server_side(
    client: TestClient, engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    kept: list[Any] = []  # a context left open (were it collected, its exit would run)

    def leaky(model: Any, request: Any) -> Any:
        """A bug: attaches a hook it never removes, then fails."""
        kept.append(model.hooks([("blocks.0.hook_resid_pre", lambda x, hook: None)]))
        kept[-1].__enter__()
        raise RuntimeError("secret internals")

    monkeypatch.setattr("neuron_explainer.activation_server.jobs.debugger.attribute", leaky)
    body = {"runs": [{"prompt": "a b", "targets": [1], "distractors": [2]}]}
    with caplog.at_level(logging.ERROR):
        response = client.post("/api/debugger/attribute", json=body)
    assert response.status_code == 500
    assert "secret" not in response.text and "Internal server error" in response.json()["detail"]
    assert "secret internals" in caplog.text and "Traceback" in caplog.text
    assert "left hooks" in caplog.text  # and the worker removed them
    assert hooks_left(engine.model) == []


def test_host_headers_that_are_not_host_and_port_are_refused(client: TestClient) -> None:
    """`127.0.0.1:8000@evil.example` was cut at its last colon and served as 127.0.0.1."""
    for host in (
        "127.0.0.1:8000@evil.example",
        "localhost:80@127.0.0.1",
        "user@localhost",
        "127.0.0.1@evil.example",
        "local host",
        "localhost/x",
        "localhost:",
        "localhost:http",
        "127.0.0.1:8000:9000",
        "::1",
        "[::1",
        "[localhost]:8000",
        "[::1]x",
    ):
        response = client.get("/api/health", headers={"host": host})
        assert response.status_code == 400, host
        assert "host name or IP address with an optional port" in response.json()["detail"], host


def test_settings_refuse_hosts_that_are_not_names_or_addresses() -> None:
    for host in ("127.0.0.1:8000", "a b", "evil@localhost", "localhost/", "", "1.2.3.999"):
        with pytest.raises(ValueError, match="not a host name or IP address"):
            Settings(host=host)
        with pytest.raises(ValueError, match="not a host name or IP address"):
            Settings(allowed_hosts=("localhost", host))
    for host in ("0.0.0.0", "::", "::1", "[::1]", "my-host.example", "LOCALHOST", "10.1.2.3"):
        assert Settings(host=host, token=TOKEN).host == host
    assert "tdb.example" in Settings(allowed_hosts=("TDB.example",)).hosts()

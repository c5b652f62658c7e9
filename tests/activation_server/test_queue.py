"""The worker queue: 503 with Retry-After when full, and concurrent clients on a real server
getting exactly the serial answers, with no hook left behind."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from neuron_explainer.activation_server.background import serve_in_thread
from neuron_explainer.activation_server.runtime import Engine, Runtime, hooks_left
from tests.activation_server.conftest import BASE_URL, COLLATED_SAE, make_app

ACTIVATIONS = {"prompt": "a = b(c", "component": {"family": "neuron", "layer": 0, "index": 1}}
CLIENTS, PER_CLIENT = 8, 25
REQUESTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/health", None),
    ("POST", "/api/model/tokenize", {"text": "for i in range(10):"}),
    (
        "POST",
        "/api/debugger/attribute",
        {"runs": [{"prompt": "name = str(value", "targets": [")"], "distractors": ["]"], "k": 2}]},
    ),
    (
        "POST",
        "/api/debugger/attribute",
        {
            "runs": [
                {
                    "prompt": "x = [1, 2",
                    "targets": ["]"],
                    "distractors": [")"],
                    "k": 2,
                    "families": ["neuron", "head"],
                    "ablations": [{"site": "blocks.1.attn.hook_z", "index": 3}],
                    "verify": 2,
                }
            ]
        },
    ),
    ("POST", "/api/debugger/logit-lens", {"prompt": "print(x", "topN": 3}),
    ("POST", "/api/activations", ACTIVATIONS),
    (
        "POST",
        "/api/activations",
        {"prompt": "if x:", "component": {"family": "latent", "site": COLLATED_SAE, "index": 4}},
    ),
    (
        "POST",
        "/api/sampling",
        {
            "prompt": "def f(",
            "maxNewTokens": 4,
            "temperature": 1.0,
            "seed": 7,
            "interventions": [
                {"kind": "ablate", "component": {"family": "head", "layer": 1, "index": 0}}
            ],
        },
    ),
    ("GET", "/api/datasets/records/head/1/3", None),
    ("GET", "/api/investigations", None),
]


def test_full_queue_answers_503_with_retry_after(engine: Engine, data_dir: Path) -> None:
    app = make_app(engine, data_dir, max_pending=1, retry_after_s=3)
    runtime: Runtime = app.state.runtime
    with TestClient(app, base_url=BASE_URL) as client:
        gate = threading.Event()
        blocker = runtime.worker.submit(gate.wait)  # holds the only place in the queue
        busy = client.post("/api/activations", json=ACTIVATIONS)
        assert busy.status_code == 503
        assert busy.headers["retry-after"] == "3"
        assert "busy" in busy.json()["detail"]
        assert client.get("/api/health").json()["pending"] == 1  # answered without the worker
        gate.set()
        blocker.result(timeout=10)
        assert client.post("/api/activations", json=ACTIVATIONS).status_code == 200
        assert runtime.worker.pending == 0


def _call(client: httpx.Client, method: str, path: str, body: dict[str, Any] | None) -> Any:
    response = client.request(method, path, json=body)
    assert response.status_code == 200, (path, response.text)
    return response.json()


def test_concurrent_clients_get_the_serial_answers(engine: Engine, data_dir: Path) -> None:
    with serve_in_thread(make_app(engine, data_dir)) as url:
        with httpx.Client(base_url=url, timeout=60) as client:
            serial = [_call(client, *request) for request in REQUESTS]

        def client_session(c: int) -> list[tuple[int, Any]]:
            with httpx.Client(base_url=url, timeout=120) as client:
                picks = [(c * 3 + i) % len(REQUESTS) for i in range(PER_CLIENT)]
                return [(r, _call(client, *REQUESTS[r])) for r in picks]

        with ThreadPoolExecutor(CLIENTS) as pool:
            sessions = list(pool.map(client_session, range(CLIENTS)))
        with httpx.Client(base_url=url) as client:
            health = client.get("/api/health").json()
    answers = [answer for session in sessions for answer in session]
    assert len(answers) == CLIENTS * PER_CLIENT
    for r, answer in answers:
        if REQUESTS[r][1] == "/api/health":
            assert answer["status"] == "ok"  # its pending count varies
        else:
            assert answer == serial[r], REQUESTS[r][1]
    assert health["pending"] == 0
    assert hooks_left(engine.model) == []

"""The worker queue: 503 with Retry-After when full, concurrent clients on a real server getting
exactly the serial answers, with no hook left behind, and jobs cancelled when their client goes
away (queued ones never start, running ones stop at their next forward pass)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import torch
from fastapi.testclient import TestClient

from neuron_explainer.activation_server.background import serve_in_thread
from neuron_explainer.activation_server.costs import Estimate, Work
from neuron_explainer.activation_server.engine import Engine, hooks_left
from neuron_explainer.activation_server.runtime import ClientClosedError, Runtime
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


# ---- cancellation when the client goes away ----------------------------------------------------


class Client:
    """A client that goes away when told to."""

    def __init__(self) -> None:
        self.gone = False

    async def is_disconnected(self) -> bool:
        return self.gone


def free(engine: Engine) -> Estimate:
    return Estimate(Work(), "a test job", "nothing")


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_queued_job_of_a_gone_client_never_runs(
    engine: Engine, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    runtime: Runtime = make_app(engine, data_dir).state.runtime
    gate = threading.Event()
    blocker = runtime.worker.submit(gate.wait)  # the worker is busy
    ran: list[int] = []

    async def scenario() -> None:
        client = Client()
        job = asyncio.create_task(runtime.run(client, free, lambda _: ran.append(1)))
        await asyncio.sleep(0.3)
        assert runtime.worker.pending == 2
        client.gone = True
        with pytest.raises(ClientClosedError):
            await asyncio.wait_for(job, timeout=2)
        assert runtime.worker.pending == 1  # at once, while the worker is still busy

    with caplog.at_level(logging.INFO, logger="neuron_explainer.activation_server.worker"):
        asyncio.run(scenario())
    gate.set()
    blocker.result(timeout=5)
    assert wait_for(lambda: runtime.worker.pending == 0, timeout=2)
    assert ran == []
    assert "before it started" in caplog.text
    runtime.worker.shutdown()


def test_running_job_of_a_gone_client_stops_at_a_forward_pass(
    engine: Engine, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A job that would run forward passes for a minute stops at the next one."""
    runtime: Runtime = make_app(engine, data_dir).state.runtime
    started = threading.Event()
    passes: list[int] = []

    def endless(engine: Engine) -> str:
        tokens = torch.arange(100, 164)[None]
        started.set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            engine.model(tokens)
            passes.append(1)
        return "not cancelled"

    async def scenario() -> None:
        client = Client()
        job = asyncio.create_task(runtime.run(client, free, endless))
        assert await asyncio.to_thread(started.wait, 10)
        await asyncio.sleep(0.2)
        client.gone = True
        with pytest.raises(ClientClosedError):
            await asyncio.wait_for(job, timeout=2)

    with caplog.at_level(logging.INFO, logger="neuron_explainer.activation_server"):
        asyncio.run(scenario())
        assert wait_for(lambda: runtime.worker.pending == 0, timeout=2)
    assert passes  # it ran, and then stopped
    assert hooks_left(engine.model) == []
    assert "at its next checkpoint" in caplog.text and "Stopped the endless job" in caplog.text
    runtime.worker.shutdown()


def test_client_that_disconnects_mid_request_frees_the_worker(
    engine: Engine, data_dir: Path
) -> None:
    """A real server: a client gives up on a long attribution (a budget that lets it in); its
    job stops, and the next request runs at once."""
    app = make_app(engine, data_dir, max_job_cost=1e9)
    runtime: Runtime = app.state.runtime
    run = {
        "prompt": [100 + (i * 37) % 8000 for i in range(220)],
        "targets": [5],
        "distractors": [6],
        "k": 100,
        "verify": 50,
    }
    with serve_in_thread(app) as url:
        with httpx.Client(base_url=url, timeout=1.0) as client, pytest.raises(httpx.ReadTimeout):
            client.post("/api/debugger/attribute", json={"runs": [run] * 8})  # minutes of work
        gave_up = time.monotonic()
        assert wait_for(lambda: runtime.worker.pending == 0, timeout=5)
        with httpx.Client(base_url=url, timeout=30) as client:
            began = time.monotonic()
            assert _call(client, "POST", "/api/activations", ACTIVATIONS)["tokens"]
            assert time.monotonic() - began < 2
            assert client.get("/api/health").json()["pending"] == 0
        assert time.monotonic() - gave_up < 8
    assert hooks_left(engine.model) == []

"""Cost estimates of model jobs: over-budget requests are refused before they are queued, with
the estimate, the budget and what to reduce; requests within the budget run."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from neuron_explainer.activation_server.costs import (
    COST_BUDGET,
    activations_cost,
    debugger_cost,
    logit_lens_cost,
    sampling_cost,
)
from neuron_explainer.activation_server.engine import Engine
from neuron_explainer.activation_server.runtime import Runtime
from neuron_explainer.activation_server.schemas import (
    ActivationsRequest,
    DebuggerRequest,
    LogitLensRequest,
    SamplingRequest,
)
from neuron_explainer.activation_server.schemas.base import (
    MAX_K,
    MAX_NEW_TOKENS,
    MAX_RUNS,
    MAX_SAMPLES,
    MAX_VERIFY,
)
from tests.activation_server.conftest import BASE_URL, make_app

PROMPT = [100 + (i * 37) % 8000 for i in range(220)]  # token ids: 220 tokens
SMALL = {"prompt": "name = str(value", "targets": [")"], "distractors": ["]"], "k": 5}


def worst_run(tokens: int = 220) -> dict[str, Any]:
    """One run at the documented bounds (every family, k and verify at their maxima)."""
    return {
        "prompt": PROMPT[:tokens],
        "targets": [PROMPT[0]],
        "distractors": [PROMPT[1]],
        "k": MAX_K,
        "verify": MAX_VERIFY,
    }


def estimate(engine: Engine, runs: list[dict[str, Any]]) -> float:
    return debugger_cost(engine, DebuggerRequest.model_validate({"runs": runs})).units


def test_worst_in_bounds_debugger_request_is_refused(engine: Engine, data_dir: Path) -> None:
    """8 runs x k 100 x verify 50 on a 220-token prompt took a minute: now a 400 at once,
    naming the estimate, the budget and what to reduce, and nothing is queued."""
    app = make_app(engine, data_dir)
    runtime: Runtime = app.state.runtime
    with TestClient(app, base_url=BASE_URL) as client:
        body = {"runs": [worst_run()] * MAX_RUNS}
        response = client.post("/api/debugger/attribute", json=body)
        assert response.status_code == 400, response.text
        detail = response.json()["detail"]
        assert "fewer runs" in detail and "a smaller verify" in detail
        assert "a shorter prompt" in detail
        assert f"budget of {COST_BUDGET:,.0f} units" in detail
        found = re.search(r"estimated cost is ([\d,]+) units", detail)
        assert found is not None and float(found[1].replace(",", "")) > COST_BUDGET
        assert "8 runs of up to 220 tokens, verifying up to 50 nodes" in detail
        assert runtime.worker.pending == 0


def test_budget_is_a_setting(engine: Engine, data_dir: Path) -> None:
    """The same small request runs under the default budget and is refused under a tiny one."""
    verified = {**SMALL, "verify": 4}
    with TestClient(make_app(engine, data_dir), base_url=BASE_URL) as client:
        ok = client.post("/api/debugger/attribute", json={"runs": [verified]})
        assert ok.status_code == 200, ok.text
    with TestClient(make_app(engine, data_dir, max_job_cost=1.0), base_url=BASE_URL) as client:
        refused = client.post("/api/debugger/attribute", json={"runs": [verified]})
        assert refused.status_code == 400
        detail = refused.json()["detail"]
        assert "budget of 1 units" in detail and "a smaller verify" in detail
        sampling = {"prompt": "def f(", "interventions": [], "maxNewTokens": 8, "nSamples": 4}
        refused = client.post("/api/sampling", json=sampling)
        assert refused.status_code == 400
        assert "fewer samples, fewer new tokens or a shorter prompt" in refused.json()["detail"]


def test_cheap_routes_fit_the_budget_at_their_bounds(engine: Engine) -> None:
    """Activations, the logit lens and sampling are never refused within their bounds; one
    debugger run at the bounds on a full prompt fits as well."""
    n_ctx = engine.model.cfg.n_ctx
    prompt = [100 + (i * 37) % 8000 for i in range(n_ctx)]
    latent = {"family": "latent", "site": "blocks.1.mlp.hook_post", "index": 3}
    activations = ActivationsRequest.model_validate({"prompt": prompt, "component": latent})
    lens = LogitLensRequest.model_validate({"prompt": prompt, "targets": [5], "distractors": [6]})
    sampling = SamplingRequest.model_validate(
        {
            "prompt": prompt[: n_ctx - MAX_NEW_TOKENS],
            "interventions": [{"kind": "ablate", "component": latent}] * 16,
            "maxNewTokens": MAX_NEW_TOKENS,
            "nSamples": MAX_SAMPLES,
        }
    )
    assert activations_cost(engine, activations).units < COST_BUDGET
    assert logit_lens_cost(engine, lens).units < COST_BUDGET
    assert sampling_cost(engine, sampling).units < COST_BUDGET
    assert estimate(engine, [worst_run(n_ctx)]) < COST_BUDGET


def test_estimates_grow_with_what_the_job_does(engine: Engine) -> None:
    one = estimate(engine, [worst_run()])
    assert estimate(engine, [worst_run()] * 4) == 4 * one
    assert estimate(engine, [{**worst_run(), "verify": 0}]) < one / 5  # verification dominates
    assert estimate(engine, [worst_run(55)]) < one / 3  # about linear in the prompt's tokens
    no_latents = {**worst_run(), "families": ["embedding", "neuron", "head"]}
    assert estimate(engine, [no_latents]) < one / 3  # the autoencoders are most of the work
    text = {**worst_run(), "prompt": "x = 1\n" * 40}  # text prompts count their tokens
    tokens = len(engine.model.tokenizer.encode(text["prompt"]))  # type: ignore[union-attr]
    assert estimate(engine, [text]) == estimate(engine, [worst_run(tokens)])

"""The worst model request inside the documented bounds, and how long a tiny request waits
behind it.

The server runs all model work on one worker thread, so one long job delays every job queued
behind it. On the bundled model (toy-gelu-2l with its four autoencoders), CPU, fp32, a real
uvicorn server in a thread of this process:

- worst: the debugger request at every bound (`MAX_RUNS` runs x k `MAX_K` x verify `MAX_VERIFY`,
  every family, a 220-token prompt): its latency and status (400 when the cost budget refuses
  it), and the wait of a tiny request (one component's activations on a short prompt) sent
  0.2 s after it;
- accepted: the in-bounds requests the budget accepts with the largest estimates, one per
  shape (many runs, a large verify, sampling at its bounds): their latency and the tiny
  request's wait behind the slowest;
- calibrate (`--calibrate`): estimated cost units next to measured milliseconds of the jobs,
  called directly in the worker's way, on requests of several sizes (the check behind the
  constants in `activation_server/costs.py`).

Timings are the minimum over `--repeats` (the machine's other load only slows a run down);
the load average is printed with them. Not a test: run with `make bench`.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from typing import Any

import httpx
import torch
from common import repo_tokens

from neuron_explainer.activation_server.background import serve_in_thread
from neuron_explainer.activation_server.engine import Engine, load_engine
from neuron_explainer.activation_server.main import create_app
from neuron_explainer.activation_server.schemas.base import (
    MAX_K,
    MAX_NEW_TOKENS,
    MAX_RUNS,
    MAX_SAMPLES,
    MAX_VERIFY,
)
from neuron_explainer.activation_server.settings import Settings

MODEL = "toy-gelu-2l"
PROMPT_TOKENS = 220
REPEATS = 2
TINY_DELAY_S = 0.2
Request = tuple[str, dict[str, Any]]  # path, body


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def debugger_run(tokens: list[int], k: int = MAX_K, verify: int = MAX_VERIFY) -> dict[str, Any]:
    return {
        "prompt": tokens,
        "targets": [tokens[-1]],
        "distractors": [tokens[-2]],
        "k": k,
        "verify": verify,
    }


def post(http: httpx.Client, request: Request) -> tuple[float, int]:
    began = time.perf_counter()
    response = http.post(request[0], json=request[1])
    return time.perf_counter() - began, response.status_code


def behind(url: str, first: Request, tiny: Request) -> tuple[float, int, float]:
    """`first`'s latency and status, and the latency of `tiny` sent `TINY_DELAY_S` after it."""
    out: list[tuple[float, int]] = []
    with httpx.Client(base_url=url, timeout=600) as a, httpx.Client(base_url=url, timeout=600) as b:
        thread = threading.Thread(target=lambda: out.append(post(a, first)))
        thread.start()
        time.sleep(TINY_DELAY_S)
        tiny_s, tiny_status = post(b, tiny)
        thread.join()
    assert tiny_status == 200, tiny_status
    return out[0][0], out[0][1], tiny_s


def best_behind(url: str, first: Request, tiny: Request, repeats: int) -> tuple[float, int, float]:
    """`behind`, repeated: the least latencies (the machine's other load only adds to them)."""
    runs = [behind(url, first, tiny) for _ in range(repeats)]
    return min(r[0] for r in runs), runs[0][1], min(r[2] for r in runs)


def accepted_requests(engine: Engine, tokens: list[int], budget: float) -> dict[str, Request]:
    """Per shape, the in-bounds request with the largest estimate within `budget`."""
    # Imported here: `--worst-only` also runs on code without cost estimates (before/after).
    from neuron_explainer.activation_server.costs import debugger_cost, sampling_cost
    from neuron_explainer.activation_server.schemas import DebuggerRequest, SamplingRequest

    def runs_cost(runs: list[dict[str, Any]]) -> float:
        return debugger_cost(engine, DebuggerRequest.model_validate({"runs": runs})).units

    shapes: dict[str, Request] = {}
    for name, verifies in (("large verify", range(MAX_VERIFY, -1, -1)), ("many runs", [0])):
        best: tuple[float, list[dict[str, Any]]] | None = None
        for n in range(1, MAX_RUNS + 1):
            for verify in verifies:
                runs = [debugger_run(tokens, verify=verify)] * n
                units = runs_cost(runs)
                if units <= budget and (best is None or units > best[0]):
                    best = (units, runs)
                    break
        assert best is not None
        shapes[f"{name}: {len(best[1])} runs, verify {best[1][0]['verify']}"] = (
            "/api/debugger/attribute",
            {"runs": best[1]},
        )
    prompt = tokens[: engine.model.cfg.n_ctx - MAX_NEW_TOKENS]
    latent = {"family": "latent", "site": next(iter(engine.saes)), "index": 3}
    body = {
        "prompt": prompt,
        "interventions": [{"kind": "ablate", "component": latent}],
        "maxNewTokens": MAX_NEW_TOKENS,
        "nSamples": MAX_SAMPLES,
    }
    assert sampling_cost(engine, SamplingRequest.model_validate(body)).units <= budget
    shapes[f"sampling: {MAX_SAMPLES} x {MAX_NEW_TOKENS} tokens"] = ("/api/sampling", body)
    return shapes


def calibrate(engine: Engine, tokens: list[int], repeats: int) -> None:
    from neuron_explainer.activation_server import costs
    from neuron_explainer.activation_server.jobs.components import run_sampling
    from neuron_explainer.activation_server.jobs.debugger import run_debugger
    from neuron_explainer.activation_server.schemas import DebuggerRequest, SamplingRequest

    def run(n: int, **change: Any) -> dict[str, Any]:
        return {**debugger_run(tokens[:n], k=10, verify=0), **change}

    cases: list[tuple[str, Any, Any, Any]] = []
    for name, runs in [
        ("all families, 16 tokens", [run(16)]),
        ("all families, 110 tokens", [run(110)]),
        ("all families, 220 tokens", [run(220)]),
        ("all, k 100, 220 tokens", [run(220, k=100)]),
        ("neuron+head, 220 tokens", [run(220, families=["neuron", "head"])]),
        ("compare prompt, 110 tokens", [run(110, compare_prompt=tokens[1:111])]),
        ("verify 10, 110 tokens", [run(110, verify=10)]),
        ("verify 50, 55 tokens", [run(55, k=100, verify=50)]),
        ("verify 50, 110 tokens", [run(110, k=100, verify=50)]),
        ("verify 50, 220 tokens", [run(220, k=100, verify=50)]),
        ("2 runs verify 20, 220", [run(220, k=100, verify=20)] * 2),
    ]:
        request = DebuggerRequest.model_validate({"runs": runs})
        cases.append((name, request, run_debugger, costs.debugger_cost))
    for name, n, new, ablate in [
        ("sampling 1 x 20", 1, 20, False),
        ("sampling 8 x 64", 8, 64, False),
        ("sampling 8 x 64, latent", 8, 64, True),
    ]:
        latent = {"family": "latent", "site": "blocks.1.mlp.hook_post", "index": 3}
        ivs = [{"kind": "ablate", "component": latent}] if ablate else []
        body = {"prompt": tokens[:190], "interventions": ivs, "maxNewTokens": new, "nSamples": n}
        cases.append(
            (name, SamplingRequest.model_validate(body), run_sampling, costs.sampling_cost)
        )
    print(f"{'calibration':<28} {'estimate':>9} {'wall':>9} {'ratio':>6} {'CPU':>9}")
    for name, request, job, cost in cases:
        walls, cpus = [], []
        for _ in range(repeats):
            with engine.session():
                wall, cpu = time.perf_counter(), time.process_time()
                job(engine, request)
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
        units, ms = cost(engine, request).units, min(walls) * 1e3
        print(
            f"{name:<28} {units:>9.0f} {ms:>7.0f}ms {units / ms:>6.2f} {min(cpus) * 1e3:>7.0f}ms",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--calibrate", action="store_true", help="estimates vs measured times")
    parser.add_argument("--worst-only", action="store_true", help="only the request at every bound")
    args = parser.parse_args()
    # Denormal floats flushed to zero, as `tdb` does: the library leaves this process-wide
    # setting to its entry points (softmax gradients over a vocabulary are full of denormals).
    torch.set_flush_denormal(True)

    engine = load_engine(Settings(model=MODEL))
    tokens = [int(t) for t in repo_tokens(engine.model.tokenizer, engine.model.cfg.n_ctx)]
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, {MODEL} with "
        f"{len(engine.saes)} autoencoders, best of {args.repeats}; {load()}",
        flush=True,
    )
    if args.calibrate:
        calibrate(engine, tokens, args.repeats)
        return
    settings = Settings(model=MODEL, ui_dir=None)
    tiny: Request = (
        "/api/activations",
        {"prompt": "a = b(c", "component": {"family": "neuron", "layer": 0, "index": 1}},
    )
    worst: Request = (
        "/api/debugger/attribute",
        {"runs": [debugger_run(tokens[:PROMPT_TOKENS])] * MAX_RUNS},
    )
    with serve_in_thread(create_app(settings, engine)) as url:
        with httpx.Client(base_url=url, timeout=600) as http:
            post(http, tiny)  # warm up
        print(f"{'request':<36} {'status':>6} {'latency':>9} {'tiny waits':>10}")
        latency, status, tiny_s = best_behind(url, worst, tiny, 1)
        name = f"worst: {MAX_RUNS} runs x k {MAX_K} x verify {MAX_VERIFY}"
        print(f"{name:<36} {status:>6} {latency:>8.2f}s {tiny_s:>9.2f}s ({load()})", flush=True)
        if args.worst_only:
            return
        shapes = accepted_requests(engine, tokens[:PROMPT_TOKENS], settings.max_job_cost)
        for name, request in shapes.items():
            latency, status, tiny_s = best_behind(url, request, tiny, args.repeats)
            print(f"{name:<36} {status:>6} {latency:>8.2f}s {tiny_s:>9.2f}s ({load()})", flush=True)
    print(f"budget: {settings.max_job_cost:,.0f} units (Settings.max_job_cost)")


if __name__ == "__main__":
    main()

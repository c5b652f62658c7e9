"""The debugger request through the activation server against the direct library call.

The default debugger request: the first investigation of the default suite for toy-gelu-2l
(prompt, target and distractor; every node family, k 10, the bundled autoencoders spliced in),
on the bundled model, CPU, fp32, torch's default thread count.

- library: `attribute(model, investigation.request())` with the autoencoders spliced, in this
  process; the peer the ratio divides by;
- http: the same request as JSON (`POST /api/debugger/attribute`) to a real uvicorn server on a
  free local port (in a thread of this process, sharing the loaded model), through one keep-alive
  httpx client: validation, the queue to the model's worker thread, the engine, the response
  schema and JSON on both sides.

Latency: median seconds per call with interleaved repetitions (wall and this process's CPU time);
the goal is an http / library wall ratio of at most 1.15. Throughput: requests per second with
`--clients` concurrent clients (threads, each its own connection) sending the request for
`--seconds`, next to the library's serial rate (the server runs model work on one thread, so
that rate is its ceiling). Not a test: run with `make bench`.
"""

from __future__ import annotations

import argparse
import threading
import time
from typing import Any

import httpx
import torch
from common import median_times

from neuron_explainer.activation_server.background import serve_in_thread
from neuron_explainer.activation_server.engine import load_engine
from neuron_explainer.activation_server.main import create_app
from neuron_explainer.activation_server.settings import Settings
from neuron_explainer.activations import attribute
from neuron_explainer.activations.investigations import Investigation, load_investigations

MODEL = "toy-gelu-2l"
REPEATS = 20
WARMUP = 3
CLIENTS = 4
SECONDS = 10.0
GOAL = 1.15


def first_investigation() -> Investigation:
    return next(i for i in load_investigations() if i.model == MODEL)


def throughput(url: str, body: dict[str, Any], clients: int, seconds: float) -> float:
    """Requests per second answered to `clients` concurrent clients over `seconds`."""
    done = [0] * clients
    start = threading.Barrier(clients + 1)
    stop = threading.Event()

    def client(c: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            start.wait()
            while not stop.is_set():
                http.post("/api/debugger/attribute", json=body).raise_for_status()
                done[c] += 1

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return sum(done) / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--warmup", type=int, default=WARMUP)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    args = parser.parse_args()
    # Denormal floats flushed to zero, as `tdb` does: the library leaves this process-wide
    # setting to its entry points (softmax gradients over a vocabulary are full of denormals).
    torch.set_flush_denormal(True)

    engine = load_engine(Settings(model=MODEL))
    investigation = first_investigation()
    body = {
        "runs": [
            {
                "prompt": investigation.prompt,
                "targets": list(investigation.targets),
                "distractors": list(investigation.distractors),
            }
        ]
    }
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, {MODEL} with "
        f"{len(engine.saes)} autoencoders, investigation {investigation.id!r}, "
        f"median of {args.repeats} after {args.warmup} warm-up",
        flush=True,
    )

    def library() -> object:
        with engine.session():
            return attribute(engine.model, investigation.request())

    app = create_app(Settings(model=MODEL, ui_dir=None), engine)
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=60) as http:

        def over_http() -> object:
            response = http.post("/api/debugger/attribute", json=body)
            response.raise_for_status()
            return response.content

        times = median_times({"library": library, "http": over_http}, args.repeats, args.warmup)
        rate = throughput(url, body, args.clients, args.seconds)
    (lib_wall, lib_cpu), http_wall = times["library"], times["http"][0]
    print(f"{'operation':<10} {'wall':>10} {'ratio':>6} {'CPU':>10} {'ratio':>6}")
    for name, (wall, cpu) in times.items():
        print(
            f"{name:<10} {wall * 1e3:>8.1f}ms {wall / lib_wall:>6.2f} {cpu * 1e3:>8.1f}ms "
            f"{cpu / lib_cpu:>6.2f}"
        )
    ratio = http_wall / lib_wall
    print(
        f"throughput: {rate:.1f} requests/s with {args.clients} concurrent clients "
        f"(library serial rate {1 / lib_wall:.1f}/s)"
    )
    verdict = "ok" if ratio <= GOAL else "over"
    print(f"goal: http / library wall ratio <= {GOAL}; {ratio:.2f} {verdict}")


if __name__ == "__main__":
    main()

"""A full attribution request against a plain forward pass on the same input, with peak memory.

GPT-2-small-shaped random weights (12 layers, d_model 768, 12 heads, d_mlp 3072, vocab 50257),
CPU, fp32, torch's default thread count, batch 1, random (seeded) token ids of 64 and 256 tokens.
Three operations on the same tokens:

- forward: `model(tokens)` under `torch.no_grad()`, the peer every ratio divides by;
- forward+backward: a forward with grad, then the gradient of the logit difference
  (`logits[0, -1, a] - logits[0, -1, b]`) with respect to every parameter, as `.backward()` would
  compute it (the issue's "about 3x" reference; the request takes gradients with respect to
  activations only, so its backward skips the weight gradients);
- request: `attribute(model, AttributionRequest(tokens, targets=[a], distractors=[b],
  families=("embedding", "neuron", "head"), k=10))`, every family that needs no autoencoder.

Time: median seconds per call, with interleaved repetitions so drift hits all equally, as wall
time and as this process's CPU time (all threads); each ratio is that median over the forward's
(lower is better). The goal is on the wall ratio; on a machine that other jobs keep busy the wall
times stretch with the waiting, and the CPU ratio is the steadier one.

Peak memory: each operation runs once more, alone, in a fresh child process (this file with
`--peak`) that builds the same model and tokens, resets the kernel's resident-set high-water mark
(`/proc/self/clear_refs`, 5) and reports VmHWM after the call minus VmRSS before it: the largest
growth of resident memory during the call, weights and model excluded. A fresh process keeps
memory freed by earlier calls (which the allocator holds on to) from hiding the growth; the
first call's one-off allocations (thread pools, kernel scratch) are included and are small.
Where the high-water mark cannot be reset, the child falls back to `ru_maxrss` (and says so).
`--positions`, `--repeats`, `--warmup` and `--memory` (which operations get a child) shorten a
run. Not a test: run with `make bench`.
"""

from __future__ import annotations

import argparse
import gc
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import torch
from common import median_times

from neuron_explainer.activations import AttributionRequest, attribute
from neuron_explainer.models.config import TransformerConfig
from neuron_explainer.models.transformer import Transformer

REPEATS = 5
WARMUP = 1
POSITIONS = [64, 256]
FAMILIES = ("embedding", "neuron", "head")  # all families that exist without autoencoders
K = 10
TARGET, DISTRACTOR = 464, 383
CFG = TransformerConfig(
    n_layers=12, d_model=768, n_heads=12, d_head=64, d_mlp=3072, n_ctx=1024, d_vocab=50257
)  # GPT-2 small shape
OPERATIONS = ["forward", "forward+backward", "request"]
GOAL = 4.0


def build(pos: int) -> tuple[Transformer, torch.Tensor]:
    """The model (random weights, seeded) and `pos` random token ids (seeded), batch 1."""
    torch.manual_seed(0)
    model = Transformer(CFG).eval()
    tokens = torch.randint(0, CFG.d_vocab, (1, pos), generator=torch.Generator().manual_seed(pos))
    return model, tokens


def operations(model: Transformer, tokens: torch.Tensor) -> dict[str, Callable[[], object]]:
    params = list(model.parameters())

    def forward() -> object:
        with torch.no_grad():
            return model(tokens)

    def forward_backward() -> object:
        with torch.enable_grad():
            logits = model(tokens)
            diff = logits[0, -1, TARGET] - logits[0, -1, DISTRACTOR]
            return torch.autograd.grad(diff, params)

    def request() -> object:
        prompt = tokens[0].tolist()
        return attribute(
            model,
            AttributionRequest(
                prompt, targets=[TARGET], distractors=[DISTRACTOR], families=FAMILIES, k=K
            ),
        )

    return {"forward": forward, "forward+backward": forward_backward, "request": request}


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _peak_child(operation: str, pos: int) -> None:
    """Child process: print the growth of resident memory (MB) during one call of `operation`."""
    model, tokens = build(pos)
    fn = operations(model, tokens)[operation]
    gc.collect()
    before = _status_kb("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")  # high-water mark := current RSS
        method = "VmHWM"
    except OSError:
        method = "ru_maxrss"  # monotonic since start: includes the build's peak
    fn()
    peak = (
        _status_kb("VmHWM")
        if method == "VmHWM"
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    )
    print(f"{max(peak - before, 0) / 1024:.1f} {method}")


def _peak_mb(operation: str, pos: int) -> tuple[float, str]:
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--peak", operation, str(pos)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return float(out[0]), out[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positions", type=int, nargs="+", default=POSITIONS)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--warmup", type=int, default=WARMUP)
    parser.add_argument(
        "--memory",
        nargs="*",
        choices=OPERATIONS,
        default=OPERATIONS,
        help="operations whose peak memory is measured, each in a child process",
    )
    args = parser.parse_args()
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, GPT-2 small shape "
        f"(random weights), fp32, CPU, batch 1, families {'/'.join(FAMILIES)}, k {K}, "
        f"median of {args.repeats} after {args.warmup} warm-up",
        flush=True,
    )
    print(
        f"{'tokens':>6}  {'operation':<17} {'wall':>10} {'ratio':>6} {'CPU':>10} {'ratio':>6} "
        f"{'peak RSS +':>11}",
        flush=True,
    )
    ratios: dict[int, float] = {}
    for pos in args.positions:
        model, tokens = build(pos)
        times = median_times(operations(model, tokens), args.repeats, args.warmup)
        del model
        gc.collect()
        (fwd_wall, fwd_cpu) = times["forward"]
        for name in OPERATIONS:
            wall, cpu = times[name]
            memory = "-"
            if name in args.memory:
                mb, method = _peak_mb(name, pos)
                memory = f"{mb:.1f} MB" + ("" if method == "VmHWM" else f" ({method})")
            print(
                f"{pos:>6}  {name:<17} {wall * 1e3:>8.1f}ms {wall / fwd_wall:>6.2f} "
                f"{cpu * 1e3:>8.1f}ms {cpu / fwd_cpu:>6.2f} {memory:>11}",
                flush=True,
            )
        ratios[pos] = times["request"][0] / fwd_wall
    verdict = ", ".join(
        f"{pos} tokens {r:.2f} {'ok' if r <= GOAL else 'over'}" for pos, r in ratios.items()
    )
    print(f"goal: request wall ratio <= {GOAL:.0f} (forward+backward alone is about 3); {verdict}")


if __name__ == "__main__":
    # Denormal floats flushed to zero, as `tdb` does: the library leaves this process-wide
    # setting to its entry points (softmax gradients over a vocabulary are full of denormals).
    torch.set_flush_denormal(True)
    if len(sys.argv) == 4 and sys.argv[1] == "--peak":
        _peak_child(sys.argv[2], int(sys.argv[3]))
    else:
        main()

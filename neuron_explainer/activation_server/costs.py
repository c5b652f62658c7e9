"""Cost estimates of model jobs: a job over the server's budget is refused before it is queued.

All model work runs on one worker thread (`worker.ModelWorker`), so a job's cost is also how long
every job queued behind it waits. Each model route estimates its job's cost from the request and
the loaded model's sizes (no model work: prompts are only tokenized), and `Runtime.run` refuses a
job whose estimate is over `Settings.max_job_cost` (default `COST_BUDGET`) with a 400 that gives
the estimate, the budget and what to reduce.

Unit: one cost unit is about one millisecond of model work on the reference machine (2 CPU
cores, torch's default threads, fp32). The estimate adds up, per forward pass, the pass's
floating-point work (`Work.gflop`: the model's matrix products per token, the attention over the
prompt, and those of the autoencoders that run in that pass, which dominate on the bundled
models), a fixed cost per pass, the scoring of every node of the requested families and the
token tables of the listed nodes:

    debugger run    attribution: 1 forward + backward of 1 or 2 rows (compare prompt, or
                    ablated vs. baseline) x prompt tokens, with the requested latents'
                    autoencoders; verification: 1 forward of (1 + verify) rows x prompt tokens;
                    a forward of the source prompt, and of the prompt for "mean" ablations
    logit lens      2 forwards of the prompt
    activations     1 forward of the prompt
    sampling        2 generations (with and without the interventions): a forward of
                    samples x prompt tokens, then one pass per new token

Calibration: the constants were fitted (least squares on relative error) to 44 requests timed on
the bundled toy-gelu-2l with its four autoencoders on this project's 2-core machine, at quiet
moments (load average under 2), best of 3 to 5: debugger runs of 16 to 220 tokens, each family
alone and all together, k 10 and 100, verify 0, 10 and 50, a compare prompt, two runs in one
request; sampling of 1 to 8 samples x 8 to 64 new tokens with and without a latent ablated; the
logit lens; activations. Estimates fall within 0.75x to 1.7x of those best times, and runs of
the same request on the shared machine take 10% to 40% longer than its best, so the large jobs
near the budget come out about right (1 run x k 100 x verify 50 on 220 tokens: 6,084 units,
best 5.2 to 6.6 s; 8 runs x k 100 on 220 tokens: 6,051 units, 5.6 to 6.5 s through the server).
Time grows about linearly with the prompt's tokens at these sizes (the attention's quadratic
term is small next to the autoencoders'). `python bench/bench_worst_request.py --calibrate`
prints estimates next to measured times. Other models scale by their sizes; on a faster
machine, raise the budget (`Settings.max_job_cost`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass

from neuron_explainer.activation_server.engine import Engine
from neuron_explainer.activation_server.errors import BadRequestError
from neuron_explainer.activation_server.schemas import (
    ActivationsRequest,
    ComponentSpec,
    DebuggerRequest,
    DebuggerRun,
    LogitLensRequest,
    NodeAblation,
    SamplingRequest,
    SiteAblation,
)
from neuron_explainer.activation_server.schemas.base import Prompt
from neuron_explainer.activation_server.settings import DEFAULT_JOB_COST
from neuron_explainer.activations.families import get_family
from neuron_explainer.activations.nodes import Node
from neuron_explainer.models.sites import Site

COST_BUDGET = DEFAULT_JOB_COST  # units: about 10 s of model work on the reference machine
MS_PER_GFLOP = 6.0  # forward passes
BACKWARD = 1.2  # a backward pass costs about 1.2 times its forward pass
MIN_ROW_TOKENS = 32  # a pass over fewer tokens (a sampling step) still reads all the weights
PASS_MS = 1.5  # fixed cost of one forward pass or sampling step
MS_PER_MILLION_NODES = 40.0  # the four metrics of each node, and ranking them
MS_PER_LISTED_NODE = 0.4  # a listed node's output and input token tables
MS_PER_AUTOENCODER = 12.0  # per attribution run, each autoencoder's write directions
METRICS_RANKED = 8  # top and bottom k of each of the four metrics


@dataclass
class Work:
    """What a job does, in the quantities its time follows."""

    gflop: float = 0.0  # floating-point work of forward passes, in billions of operations
    grad_gflop: float = 0.0  # that of the forward passes followed by a backward pass
    passes: int = 0  # forward passes and generation steps
    scored_nodes: int = 0  # nodes whose metrics are computed and ranked
    listed_nodes: int = 0  # nodes listed with their token tables
    autoencoders: int = 0  # autoencoders whose latents an attribution pass scores

    @property
    def units(self) -> float:
        return (
            MS_PER_GFLOP * (self.gflop + (1 + BACKWARD) * self.grad_gflop)
            + PASS_MS * self.passes
            + MS_PER_MILLION_NODES * self.scored_nodes / 1e6
            + MS_PER_LISTED_NODE * self.listed_nodes
            + MS_PER_AUTOENCODER * self.autoencoders
        )

    def __add__(self, other: Work) -> Work:
        return Work(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))


@dataclass(frozen=True)
class Estimate:
    """A job's cost, and the words for refusing it."""

    work: Work
    what: str  # the request's size, e.g. "8 runs of up to 220 tokens, verifying up to 50 nodes"
    reduce: str  # what to send instead, e.g. "fewer runs, a smaller verify or a shorter prompt"

    @property
    def units(self) -> float:
        return self.work.units


class OverBudgetError(BadRequestError):
    """The job's estimated cost is over the server's budget: a 400, like other requests that
    pass their schema but do not fit the served model (a 422 means the schema failed)."""


def check_budget(estimate: Estimate, budget: float) -> None:
    if estimate.units <= budget:
        return
    raise OverBudgetError(
        f"This request is too large for this server: its estimated cost is "
        f"{estimate.units:,.0f} units ({estimate.what}), over the budget of {budget:,.0f} units "
        f"per request (a unit is about a millisecond of model work on a 2-core CPU). "
        f"Send {estimate.reduce}."
    )


# ---- forward passes ----------------------------------------------------------------------------


def prompt_tokens(engine: Engine, prompt: Prompt) -> int:
    """Tokens of a prompt, at most the model's context (longer ones are refused by the job)."""
    tokenizer = engine.model.tokenizer
    if isinstance(prompt, str):
        count = len(tokenizer.encode(prompt)) if tokenizer is not None else len(prompt)
    else:
        count = len(prompt)
    return max(1, min(count, engine.model.cfg.n_ctx))


def forward(
    engine: Engine,
    rows: int,
    tokens: int,
    saes: Iterable[str] = (),
    context: int | None = None,
    unembedded: int = 1,
    backward: bool = False,
    read_only: bool = False,
) -> Work:
    """One forward pass of `rows` x `tokens` new tokens attending to `context` tokens (default
    `tokens`), with the autoencoders at `saes` running (`read_only`: only their latents are
    read), unembedding `unembedded` tokens per row; `backward`: followed by a backward pass."""
    cfg = engine.model.cfg
    d = cfg.d_model
    context = tokens if context is None else context
    per_layer = 4 * d * d + 2 * context * d + (0 if cfg.attn_only else 2 * d * cfg.d_mlp)
    # An autoencoder whose latents are edited or differentiated encodes and decodes twice (its
    # error term is recomputed); one only read encodes once.
    per_sae = sum(engine.saes[site].cfg.d_in * engine.saes[site].cfg.d_sae for site in saes)
    per_token = cfg.n_layers * per_layer + per_sae * (1 if read_only else 4)
    macs = max(rows * tokens, MIN_ROW_TOKENS) * per_token + rows * unembedded * d * cfg.d_vocab
    gflop = 2 * macs / 1e9
    return Work(gflop=0.0 if backward else gflop, grad_gflop=gflop if backward else 0.0, passes=1)


def _add(parts: Iterable[Work]) -> Work:
    return sum(parts, Work())


# ---- the debugger ------------------------------------------------------------------------------


def _latent_sites(engine: Engine, run: DebuggerRun) -> list[str]:
    """Autoencoders that run in the run's passes: those of the requested latents, and all when
    an ablation or the trace acts on a latent."""
    on_latent = (run.trace is not None and run.trace.site is not None) or any(
        _on_autoencoder(a) for a in run.ablations
    )
    latents = [f for f in map(get_family, set(run.families)) if f.by_autoencoder]
    return [
        site
        for site in engine.saes
        if on_latent or any(f.selects(Site.parse(site).autoencoder().name) for f in latents)
    ]


def _on_autoencoder(ablation: NodeAblation | SiteAblation) -> bool:
    """Whether an ablation acts on an autoencoder's node or site (unknown names: no)."""
    try:
        if isinstance(ablation, NodeAblation):
            return get_family(Node.parse(ablation.node_id).family).by_autoencoder
        return Site.parse(ablation.site).sae is not None
    except ValueError:
        return False


def _scored_nodes(engine: Engine, run: DebuggerRun, tokens: int, saes: Sequence[str]) -> int:
    cfg = engine.model.cfg
    families = set(run.families)
    count = 0
    if "embedding" in families:
        count += tokens
    if "neuron" in families and not cfg.attn_only:
        count += cfg.n_layers * tokens * cfg.d_mlp
    if "head" in families:
        count += cfg.n_layers * cfg.n_heads * tokens * tokens
    count += sum(tokens * engine.saes[site].cfg.d_sae for site in saes)
    return count


def run_work(engine: Engine, run: DebuggerRun, tokens: int) -> tuple[Work, Work]:
    """The attribution pass and the verification of one run, whose prompt has `tokens`."""
    if run.compare_prompt is not None:  # of another length, the two run apart: count the longer
        tokens = max(tokens, prompt_tokens(engine, run.compare_prompt))
    rows = 2 if run.compare_prompt is not None or run.ablations else 1
    saes = _latent_sites(engine, run)
    scored = rows * _scored_nodes(engine, run, tokens, saes) * (2 if run.trace else 1)
    listed = min(METRICS_RANKED * run.k, scored)
    passes = [forward(engine, rows, tokens, saes, backward=True)]
    if run.source_prompt is not None:
        passes.append(forward(engine, 1, tokens))
    if any(a.value == "mean" for a in run.ablations) and run.mean_source == "prompt":
        passes.append(forward(engine, 1, tokens))
    passes.append(Work(scored_nodes=scored, listed_nodes=listed, autoencoders=len(saes)))
    verification = Work()
    if run.verify:
        verification = forward(engine, 1 + min(run.verify, listed), tokens, saes)
    return _add(passes), verification


def debugger_cost(engine: Engine, request: DebuggerRequest) -> Estimate:
    lengths = [prompt_tokens(engine, run.prompt) for run in request.runs]  # tokenized once
    works = [run_work(engine, run, n) for run, n in zip(request.runs, lengths, strict=True)]
    attribution = _add([a for a, _ in works])
    verification = _add([v for _, v in works])
    n = len(request.runs)
    longest = max(lengths)
    verify = max(run.verify for run in request.runs)
    what = f"{n} run{'s' if n > 1 else ''} of up to {longest} tokens"
    if verify:
        what += f", verifying up to {verify} nodes"
    # The largest part first: verification, or the runs' attribution passes.
    verify_first = verify > 0 and verification.units >= attribution.units
    advice = ["a smaller verify"] if verify_first else []
    advice += ["fewer runs"] if n > 1 else []
    advice += ["a shorter prompt"]
    advice += ["a smaller verify"] if verify > 0 and not verify_first else []
    advice += ["fewer families", "a smaller k"]
    return Estimate(attribution + verification, what, _either(advice))


def _either(options: list[str]) -> str:
    return options[0] if len(options) == 1 else ", ".join(options[:-1]) + " or " + options[-1]


def logit_lens_cost(engine: Engine, request: LogitLensRequest) -> Estimate:
    tokens = prompt_tokens(engine, request.prompt)
    work = _add([forward(engine, 1, tokens, unembedded=tokens)] * 2)
    return Estimate(work, f"a prompt of {tokens} tokens", "a shorter prompt")


def _component_saes(engine: Engine, component: ComponentSpec) -> list[str]:
    site = component.site
    by_autoencoder = get_family(component.family).by_autoencoder
    return [site] if by_autoencoder and site in engine.saes else []


def activations_cost(engine: Engine, request: ActivationsRequest) -> Estimate:
    tokens = prompt_tokens(engine, request.prompt)
    saes = _component_saes(engine, request.component)
    work = forward(engine, 1, tokens, saes, unembedded=tokens, read_only=True)
    return Estimate(work, f"a prompt of {tokens} tokens", "a shorter prompt")


def sampling_cost(engine: Engine, request: SamplingRequest) -> Estimate:
    tokens = prompt_tokens(engine, request.prompt)
    n, new = request.n_samples, request.max_new_tokens
    saes = sorted(
        {
            site
            for iv in request.interventions
            if iv.kind == "ablate"
            for site in _component_saes(engine, iv.component)
        }
    )
    runs = []
    for with_saes in (saes, []):  # with the interventions, then without
        runs.append(forward(engine, n, tokens, with_saes))
        runs += [forward(engine, n, 1, with_saes, context=tokens + step) for step in range(1, new)]
    work = _add(runs)
    return Estimate(
        work,
        f"{n} samples of {new} new tokens after {tokens} prompt tokens",
        "fewer samples, fewer new tokens or a shorter prompt",
    )

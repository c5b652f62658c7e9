from functools import partial

from fastapi import APIRouter, Request

from neuron_explainer.activation_server.costs import debugger_cost, logit_lens_cost
from neuron_explainer.activation_server.deps import RuntimeDep, get_store
from neuron_explainer.activation_server.errors import STORE_RESPONSES
from neuron_explainer.activation_server.jobs.debugger import run_debugger, run_logit_lens
from neuron_explainer.activation_server.schemas import (
    DebuggerRequest,
    DebuggerResponse,
    LogitLensRequest,
    LogitLensResponse,
)

router = APIRouter(prefix="/debugger", tags=["debugger"])


# With meanSource "dataset", the served model's collation store must exist.
@router.post("/attribute", responses=STORE_RESPONSES)
async def attribute_runs(
    body: DebuggerRequest, runtime: RuntimeDep, request: Request
) -> DebuggerResponse:
    """Why the targets and not the distractors: node tables of one or more runs."""
    dataset_means = any(run.mean_source == "dataset" for run in body.runs)
    store = get_store(runtime.settings, None) if dataset_means else None
    cost = partial(debugger_cost, request=body)
    return await runtime.run(request, cost, run_debugger, body, store)


@router.post("/logit-lens")
async def read_logit_lens(
    body: LogitLensRequest, runtime: RuntimeDep, request: Request
) -> LogitLensResponse:
    """The logit lens at one token, and direct logit attribution with targets and distractors."""
    cost = partial(logit_lens_cost, request=body)
    return await runtime.run(request, cost, run_logit_lens, body)

from functools import partial

from fastapi import APIRouter, Request

from neuron_explainer.activation_server.costs import sampling_cost
from neuron_explainer.activation_server.deps import RuntimeDep
from neuron_explainer.activation_server.jobs.components import run_sampling
from neuron_explainer.activation_server.schemas import SamplingRequest, SamplingResponse

router = APIRouter(prefix="/sampling", tags=["sampling"])


@router.post("")
async def sample(body: SamplingRequest, runtime: RuntimeDep, request: Request) -> SamplingResponse:
    """Samples with interventions next to samples without them, from the same seed."""
    cost = partial(sampling_cost, request=body)
    return await runtime.run(request, cost, run_sampling, body)

from functools import partial

from fastapi import APIRouter, Request

from neuron_explainer.activation_server.costs import activations_cost
from neuron_explainer.activation_server.deps import RuntimeDep
from neuron_explainer.activation_server.jobs.components import run_activations
from neuron_explainer.activation_server.schemas import ActivationsRequest, ActivationsResponse

router = APIRouter(prefix="/activations", tags=["activations"])


@router.post("")
async def read_activations(
    body: ActivationsRequest, runtime: RuntimeDep, request: Request
) -> ActivationsResponse:
    """One component's activations on a prompt: per token, or per token pair for a head."""
    cost = partial(activations_cost, request=body)
    return await runtime.run(request, cost, run_activations, body)

from fastapi import APIRouter

from neuron_explainer.activation_server.deps import RuntimeDep
from neuron_explainer.activation_server.jobs.components import run_activations
from neuron_explainer.activation_server.schemas import ActivationsRequest, ActivationsResponse

router = APIRouter(prefix="/activations", tags=["activations"])


@router.post("")
async def read_activations(body: ActivationsRequest, runtime: RuntimeDep) -> ActivationsResponse:
    """One component's activations on a prompt: per token, or per token pair for a head."""
    return await runtime.run(run_activations, body)

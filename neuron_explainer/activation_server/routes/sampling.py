from fastapi import APIRouter

from neuron_explainer.activation_server.deps import RuntimeDep
from neuron_explainer.activation_server.jobs.components import run_sampling
from neuron_explainer.activation_server.schemas import SamplingRequest, SamplingResponse

router = APIRouter(prefix="/sampling", tags=["sampling"])


@router.post("")
async def sample(body: SamplingRequest, runtime: RuntimeDep) -> SamplingResponse:
    """Samples with interventions next to samples without them, from the same seed."""
    return await runtime.run(run_sampling, body)

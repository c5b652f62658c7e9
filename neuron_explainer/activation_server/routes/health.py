from fastapi import APIRouter

from neuron_explainer.activation_server.deps import RuntimeDep
from neuron_explainer.activation_server.schemas import HealthResponse

router = APIRouter(prefix="/health", tags=["health"])


@router.get("")
async def read_health(runtime: RuntimeDep) -> HealthResponse:
    """Whether the server is up; never loads the model."""
    return HealthResponse(
        model=runtime.settings.model, loaded=runtime.loaded, pending=runtime.worker.pending
    )

from fastapi import APIRouter

from neuron_explainer.activation_server.deps import PoolDep
from neuron_explainer.activation_server.schemas import HealthResponse

router = APIRouter(prefix="/health", tags=["health"])


@router.get("")
async def read_health(pool: PoolDep) -> HealthResponse:
    """Whether the server is up, and which models are loaded; never loads a model."""
    default = pool.default
    return HealthResponse(
        model=default.name,
        loaded=default.loaded,
        loaded_models=pool.loaded(),
        pending=pool.worker.pending,
    )

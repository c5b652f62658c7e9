from fastapi import APIRouter, Request

from neuron_explainer.activation_server.deps import PoolDep, get_preparation
from neuron_explainer.activation_server.routes.model import dataset_info
from neuron_explainer.activation_server.schemas import ModelsResponse, ServedModel
from neuron_explainer.models import registry

router = APIRouter(prefix="/models", tags=["models"])


@router.get("")
def list_models(pool: PoolDep, request: Request) -> ModelsResponse:
    """The models this server serves (choose one with `?model=NAME` on any route); loads none."""
    models = []
    for name in pool.names:
        settings = pool.runtime(name).settings
        dataset = dataset_info(settings, get_preparation(request, settings))
        models.append(
            ServedModel(
                name=name,
                description=registry.entry(name).description,
                default=name == pool.settings.default_model,
                loaded=name in pool.loaded(),
                dataset_available=dataset.available,
            )
        )
    return ModelsResponse(models=models)

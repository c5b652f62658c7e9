"""The API's routers, one module per tag, all under /api."""

from fastapi import APIRouter

from neuron_explainer.activation_server.errors import ERROR_RESPONSES, MODEL_RESPONSES
from neuron_explainer.activation_server.routes import (
    activations,
    datasets,
    debugger,
    health,
    investigations,
    model,
    models,
    sampling,
)

api_router = APIRouter(prefix="/api", responses=ERROR_RESPONSES)
for module in (health, models):
    api_router.include_router(module.router)
# Routes of one model: `?model=NAME` (deps.get_runtime) picks it, 404 for a model not served.
for module in (model, debugger, activations, sampling, datasets, investigations):
    api_router.include_router(module.router, responses=MODEL_RESPONSES)

"""The API's routers, one module per tag, all under /api."""

from fastapi import APIRouter

from neuron_explainer.activation_server.errors import ERROR_RESPONSES
from neuron_explainer.activation_server.routes import (
    activations,
    datasets,
    debugger,
    health,
    investigations,
    model,
    sampling,
)

api_router = APIRouter(prefix="/api", responses=ERROR_RESPONSES)
for module in (health, model, debugger, activations, sampling, datasets, investigations):
    api_router.include_router(module.router)

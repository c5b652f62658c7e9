"""The FastAPI app: `create_app(settings)` builds it; nothing here loads a model.

    uvicorn "neuron_explainer.activation_server.main:create_app" --factory   # or `tdb serve`

The API lives under /api (routers in `routes/`), the built UI (`neuron_viewer/dist`) at /.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from neuron_explainer.activation_server.bodies import JsonBodies
from neuron_explainer.activation_server.docs import OPENAPI_URL, add_docs
from neuron_explainer.activation_server.engine import Engine
from neuron_explainer.activation_server.errors import add_error_handlers
from neuron_explainer.activation_server.pool import ModelPool
from neuron_explainer.activation_server.responses import OrjsonResponse
from neuron_explainer.activation_server.routes import api_router
from neuron_explainer.activation_server.security import TOKEN_HEADER, Guard
from neuron_explainer.activation_server.settings import Settings
from neuron_explainer.activation_server.ui import ui_mount


def operation_id(route: Any) -> str:
    """`{tag}-{name}`, e.g. `debugger-attribute_runs`: stable names for the generated client.
    (FastAPI passes an `APIRoute`, or a wrapper of one with the same fields.)"""
    return f"{route.tags[0]}-{route.name}"


def create_app(
    settings: Settings | None = None,
    engine: Engine | None = None,
    engines: Mapping[str, Engine] | None = None,
) -> FastAPI:
    """The app for `settings`. Models load in the app's worker on first use (the default one at
    start with `preload`); tests and benchmarks pass a loaded `engine` (of the default model)
    or `engines` by model name instead, which apps may share as long as only one of them serves
    at a time (each app has its own worker thread)."""
    settings = settings or Settings()
    if settings.requires_token and not settings.token:
        raise ValueError(f"Serving on {settings.host} (not loopback) requires a token")
    given = dict(engines or {})
    if engine is not None:
        given[settings.model] = engine
    pool = ModelPool(settings, given)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.preload:
            await pool.default.engine()
        yield
        pool.worker.shutdown()

    app = FastAPI(
        title="Transformer Debugger",
        version="0.1.0",
        openapi_url=OPENAPI_URL,
        docs_url=None,  # `add_docs`: Swagger UI from the package's files, not a CDN
        redoc_url=None,
        default_response_class=OrjsonResponse,
        generate_unique_id_function=operation_id,
        lifespan=lifespan,
    )
    app.state.pool = pool
    app.state.runtime = pool.default  # the default model's (its worker is the pool's)
    add_error_handlers(app)
    app.include_router(api_router)
    add_docs(app, token_required=settings.token is not None)
    if settings.ui_dir is not None and settings.ui_dir.is_dir():
        app.router.routes.append(ui_mount(settings.ui_dir))
    # The last added is the outermost: CORS answers preflights before the guard's token check,
    # and bodies are read and checked only once the guard has let the request in.
    app.add_middleware(JsonBodies)
    app.add_middleware(Guard, settings=settings)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.origins(),
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type", TOKEN_HEADER],
    )
    return app


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the app (`tdb openapi`, the generated UI client); builds no
    model."""
    return create_app().openapi()

"""The interactive API docs at /api/docs, from Swagger UI files installed with the package.

FastAPI's own docs page loads Swagger UI from a CDN, so it is blank offline. Here the page points
at the files of the PyPI package `swagger-ui-bundle-v2` (Swagger UI 5, which reads the OpenAPI
3.1 document FastAPI writes), served under /api/docs/assets; nothing is loaded from outside.

The page, its files and the OpenAPI document need no token (`security.Guard`): they describe the
API, as its source does, and hold no data. Every operation still needs the token when the server
has one; the document then declares it, so Swagger UI's "Authorize" button sends it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]  # no py.typed

DOCS_URL = "/api/docs"
ASSETS_URL = f"{DOCS_URL}/assets"
OPENAPI_URL = "/api/openapi.json"
# Swagger UI validates documents with an online service unless told not to.
SWAGGER_UI_PARAMETERS = {"validatorUrl": None}
BEARER = {"bearer": {"type": "http", "scheme": "bearer", "description": "tdb serve's token"}}


def is_docs(path: str) -> bool:
    """The docs page, its files and the OpenAPI document: public even when a token is set."""
    return path in (DOCS_URL, OPENAPI_URL) or path.startswith(f"{ASSETS_URL}/")


def add_docs(app: FastAPI, token_required: bool) -> None:
    """The docs page and its files on `app` (created with `docs_url=None`); with
    `token_required`, the OpenAPI document declares the bearer token on every operation."""
    app.mount(ASSETS_URL, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    async def docs(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=OPENAPI_URL,
            title=f"{app.title}: API",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon-32x32.png",
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )

    app.add_route(DOCS_URL, docs, include_in_schema=False)  # a plain route: no operation id

    if token_required:
        plain_openapi = app.openapi

        def openapi_with_token() -> dict[str, Any]:
            schema = plain_openapi()
            schema.setdefault("components", {})["securitySchemes"] = BEARER
            schema["security"] = [{name: []} for name in BEARER]
            return schema

        app.openapi = openapi_with_token  # type: ignore[method-assign]

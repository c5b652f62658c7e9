"""The built UI (`neuron_viewer/dist`) at /, as a single-page app, never shadowing the API."""

from __future__ import annotations

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from neuron_explainer.activation_server.security import is_api


class SinglePageFiles(StaticFiles):
    """Files of the build; any other page path (no file extension) gets index.html, so the UI's
    own routes (e.g. /debugger?...) load from a bookmark."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except HTTPException as e:
            if e.status_code != 404 or "." in Path(path).name:
                raise
            return await super().get_response("index.html", scope)


class UiMount(Mount):
    """A mount at / that leaves every /api path to the API's routes, so an unknown API path is a
    404 and a wrong method a 405 listing the right ones, not a response of the file server."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and is_api(scope["path"]):
            return Match.NONE, {}
        return super().matches(scope)


def ui_mount(directory: Path) -> UiMount:
    return UiMount("/", app=SinglePageFiles(directory=directory, html=True), name="ui")

"""The guard in front of the app: Host header, token, body size, and the last-resort 500.

- Host: only localhost, 127.0.0.1, ::1, the bound host and configured extras are answered (400
  otherwise), so a page on another domain that resolves to this machine (DNS rebinding) cannot
  read the API through the user's browser. A Host header that is not `host[:port]` (userinfo as
  in `127.0.0.1:8000@evil.example`, spaces, paths) is refused whole (`hosts.header_host`).
- Token: when the server has one (mandatory off loopback), every /api request carries it as
  `Authorization: Bearer TOKEN` or `X-TDB-Token: TOKEN` (401 otherwise); only the API docs
  (/api/docs, its files, /api/openapi.json) are public, so a browser can open them.
- Body: a request body over `max_body_bytes` is refused with 413, by its Content-Length or, for a
  streamed body, as soon as it grows past the limit.
- An exception no handler took is logged with its traceback and answered with a generic 500;
  the client learns nothing of the server's internals.

CORS (`origins`) is Starlette's middleware, outside this guard.
"""

from __future__ import annotations

import logging
import secrets

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from neuron_explainer.activation_server.docs import is_docs
from neuron_explainer.activation_server.errors import error_response
from neuron_explainer.activation_server.hosts import header_host
from neuron_explainer.activation_server.settings import Settings

log = logging.getLogger(__name__)
TOKEN_HEADER = "x-tdb-token"


def is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def needs_token(path: str) -> bool:
    """Every /api path but the docs (`docs.is_docs`: the docs page, its Swagger UI files and the
    OpenAPI document, which hold no data)."""
    return is_api(path) and not is_docs(path)


class Guard:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.hosts = settings.hosts()
        self.token = settings.token.encode() if settings.token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, self._limited(receive), tracked_send)
        except Exception:
            log.exception("Unhandled error in %s %s", scope["method"], scope["path"])
            if not started:
                detail = "Internal server error; the server's log has the details"
                await error_response(500, detail)(scope, receive, send)

    def _refusal(self, scope: Scope, headers: Headers) -> ASGIApp | None:
        header = headers.get("host", "")
        host = header_host(header)
        if host is None:
            return error_response(
                400,
                f"Host {header[:100]!r} is not served here: a Host header is a host name or IP "
                "address with an optional port (no user, path or spaces); open "
                f"{self.settings.origin}",
            )
        if host not in self.hosts:
            return error_response(
                400,
                f"Host {host!r} is not served here; open {self.settings.origin}, or start the "
                f"server with --allowed-host {host} to serve that name",
            )
        if needs_token(scope["path"]) and self.token is not None and not self._authorized(headers):
            return error_response(
                401,
                "This server needs its token: send 'Authorization: Bearer TOKEN' or "
                "'X-TDB-Token: TOKEN' (tdb serve printed the token when it started)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        length = headers.get("content-length")
        limit = self.settings.max_body_bytes
        if length is not None and (not length.isdigit() or int(length) > limit):
            return error_response(413, f"Request body over the limit of {limit} bytes")
        return None

    def _authorized(self, headers: Headers) -> bool:
        assert self.token is not None
        given = headers.get(TOKEN_HEADER)
        if given is None:
            scheme, _, credentials = headers.get("authorization", "").partition(" ")
            given = credentials.strip() if scheme.lower() == "bearer" else None
        return given is not None and secrets.compare_digest(given.encode(), self.token)

    def _limited(self, receive: Receive) -> Receive:
        limit, seen = self.settings.max_body_bytes, 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(413, f"Request body over the limit of {limit} bytes")
            return message

        return limited

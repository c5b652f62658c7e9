"""Request bodies are JSON in UTF-8, within fixed bounds, checked before FastAPI parses them.

FastAPI answers a body it cannot parse with a bare "There was an error parsing the body" (invalid
UTF-8, nesting past Python's recursion limit, an integer past Python's 4,300-digit limit) or with
a schema error about a "dictionary" (a body sent as text/plain or form data). This middleware
reads each /api body (already bounded in size by `security.Guard`), refuses it with a message
naming what to send instead, and hands the same bytes on to the app:

- a body whose Content-Type is not JSON (`application/json` or `application/*+json`): 415;
- bytes that are not UTF-8 (a leading byte-order mark is allowed): 400;
- JSON nested deeper than `MAX_JSON_DEPTH` levels: 400 (no request of the API nests more than a
  few; a test keeps every request schema within the limit);
- a number with more than `MAX_NUMBER_DIGITS` digits in a row: 400 (the API's largest integer
  is 2**31 - 1; a float carries 17 significant digits).

The checks scan the bytes without parsing them (about as fast as FastAPI's own parse, which
follows: a parse here would double that work); JSON that does not parse is left to FastAPI, whose
422 gives the position of the error.
"""

from __future__ import annotations

import re

import numpy as np
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from neuron_explainer.activation_server.errors import (
    ApiError,
    BadRequestError,
    UnsupportedMediaTypeError,
    error_response,
)
from neuron_explainer.activation_server.security import is_api

MAX_JSON_DEPTH = 32
MAX_NUMBER_DIGITS = 100
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def check_json_body(content_type: str | None, body: bytes) -> None:
    """Raises an `ApiError` saying what to send when `body` is not JSON within the bounds."""
    if not is_json(content_type):
        given = f"Content-Type {content_type!r}" if content_type else "no Content-Type"
        raise UnsupportedMediaTypeError(
            f"The body was sent with {given}; send JSON with 'Content-Type: application/json'"
        )
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadRequestError(
            f"The body is not valid UTF-8 (byte {e.start} is 0x{body[e.start]:02x}); send JSON "
            "encoded as UTF-8, with non-ASCII text as UTF-8 bytes or \\u escapes"
        ) from None
    structure = json_structure(body)
    if json_depth(structure) > MAX_JSON_DEPTH:
        raise BadRequestError(
            f"The body's JSON is nested deeper than {MAX_JSON_DEPTH} levels; send the request as "
            "its schema has it (see /api/docs): no request of this API nests more than a few levels"
        )
    digits = max((len(run) for run in _LONG_DIGIT_RUN.findall(structure)), default=0)
    if digits:
        raise BadRequestError(
            f"The body has a number of {digits} digits; numbers are limited to "
            f"{MAX_NUMBER_DIGITS} digits (every bound of this API is far smaller: see /api/docs)"
        )


# A JSON string literal, escapes included; one left open runs to the end of the body. No byte of a
# multibyte UTF-8 character is `"` or `\`, so it can be found in the raw bytes. The quantifiers
# are possessive and every match succeeds: a regex that could fail and retry at each escaped quote
# of an unterminated string took 15 s on 40 kB of `\"`.
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_LONG_DIGIT_RUN = re.compile(rb"[0-9]{%d,}" % (MAX_NUMBER_DIGITS + 1))


def json_structure(body: bytes) -> bytes:
    """`body` with every string literal emptied: what is left are brackets, numbers and words,
    cheap to scan (brackets and digits inside strings are text, not structure)."""
    return _STRING.sub(b'""', body)


def json_depth(structure: bytes) -> int:
    """How deep objects and lists nest (the outermost is level 1), in one vectorised pass over
    the brackets of `json_structure`'s output."""
    codes = np.frombuffer(structure, dtype=np.uint8)
    opened = (codes == ord("[")).astype(np.int32) + (codes == ord("{"))
    closed = (codes == ord("]")).astype(np.int32) + (codes == ord("}"))
    return int(np.cumsum(opened - closed).max(initial=0))


class JsonBodies:
    """ASGI middleware (inside the guard): checks /api request bodies, then replays them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in BODY_METHODS
            or not is_api(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        try:
            body, disconnected = await _read_body(receive)
            if body and not disconnected:
                check_json_body(Headers(scope=scope).get("content-type"), body)
        except HTTPException as e:  # the guard's size limit, raised while reading
            await error_response(e.status_code, str(e.detail))(scope, receive, send)
            return
        except ApiError as e:
            await error_response(e.status_code, e.message)(scope, receive, send)
            return
        await self.app(scope, _replay(body, disconnected, receive), send)


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The whole body, and whether the client went away before sending it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks), True
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), False


def _replay(body: bytes, disconnected: bool, receive: Receive) -> Receive:
    """The body as one message, then the client's own messages (e.g. its disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        if disconnected:
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": body, "more_body": False}

    return replay

"""Errors as JSON: every refusal says what is wrong and how to fix it, in `ErrorResponse`.

Invalid input (bodies that fail their schema, values the model cannot take) is a 4xx. The engine
reports bad values as `ValueError` or `KeyError` with a message written for the user; jobs that
validate user input convert those to `BadRequestError` (`user_errors`). Anything else is a bug: the
client gets a generic 500 and the traceback goes to the server's log only (`security.Guard`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from neuron_explainer.activation_server.responses import OrjsonResponse
from neuron_explainer.activation_server.schemas import ErrorItem, ErrorResponse
from neuron_explainer.activation_server.worker import QueueFullError

log = logging.getLogger(__name__)


class ApiError(Exception):
    status_code = 400

    def __init__(self, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers


class BadRequestError(ApiError):
    status_code = 400


class NotFoundError(ApiError):
    status_code = 404


class ConflictError(ApiError):
    status_code = 409


class UnsupportedMediaTypeError(ApiError):
    """A body in another format than the JSON the API reads."""

    status_code = 415


class UnavailableError(ApiError):
    """Not yet: retry after the Retry-After header's seconds."""

    status_code = 503


def message_of(e: Exception) -> str:
    """A KeyError's message without the quotes `str(KeyError)` adds."""
    if isinstance(e, KeyError) and e.args:
        return str(e.args[0])
    return str(e)


@contextmanager
def user_errors() -> Iterator[None]:
    """Around engine calls on user input: their ValueError and KeyError become 400s."""
    try:
        yield
    except (ValueError, KeyError) as e:
        raise BadRequestError(message_of(e)) from e


def error_response(status: int, detail: str, **extra: Any) -> OrjsonResponse:
    headers = extra.pop("headers", None)
    body = ErrorResponse(detail=detail, **extra).model_dump(by_alias=True, exclude_none=True)
    return OrjsonResponse(body, status_code=status, headers=headers)


def _loc(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


async def _validation(request: Request, exc: Exception) -> OrjsonResponse:
    assert isinstance(exc, RequestValidationError)
    items = [
        ErrorItem(loc=list(e.get("loc", ())), message=str(e.get("msg", "")), type=e.get("type", ""))
        for e in exc.errors()
    ]
    detail = "; ".join(f"{_loc(tuple(i.loc))}: {i.message}" for i in items) or "Invalid request"
    return error_response(422, f"Invalid request: {detail}", errors=items)


async def _api_error(request: Request, exc: Exception) -> OrjsonResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status_code, exc.message, headers=exc.headers)


async def _http(request: Request, exc: Exception) -> OrjsonResponse:
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, str(exc.detail), headers=exc.headers)


async def _queue_full(request: Request, exc: Exception) -> OrjsonResponse:
    assert isinstance(exc, QueueFullError)
    retry = str(request.app.state.runtime.settings.retry_after_s)
    return error_response(503, str(exc), headers={"Retry-After": retry})


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(QueueFullError, _queue_full)


# Documented on every API route, so clients (and the schema checks) know each refusal's body.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": description}
    for code, description in [
        (
            400,
            "Invalid value for this model, an unknown Host header, a body past its bounds, or a "
            "model job whose estimated cost is over the server's budget (the detail gives the "
            "estimate, the budget and what to reduce; see activation_server/costs.py)",
        ),
        (401, "Missing or wrong token"),
        (413, "Request body over the limit"),
        (415, "Request body not sent as JSON (Content-Type: application/json)"),
        (422, "Request body or parameters fail their schema"),
        (500, "Unexpected server error (details in the server log)"),
        (503, "Model queue full; retry after Retry-After seconds"),
    ]
}
# On the routes of one model (they take `?model=NAME`).
MODEL_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {
        "model": ErrorResponse,
        "description": "The server does not serve the model asked for (`?model=`); the detail "
        "lists the served models",
    },
}
STORE_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {
        "model": ErrorResponse,
        "description": "No such collation store, group or component, or a model the server "
        "does not serve (`?model=`)",
    },
    409: {"model": ErrorResponse, "description": "The collation store belongs to another model"},
    503: {
        "model": ErrorResponse,
        "description": "Model queue full, or the store is being collated (with its progress) "
        "or its collation is restarting: retry after Retry-After seconds. Without Retry-After: "
        "the store is damaged or its collation failed; the message names the command to run",
    },
}

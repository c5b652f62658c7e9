"""Bodies that are not JSON in UTF-8 within the bounds get a 4xx naming what to send instead
(FastAPI answered them with "There was an error parsing the body" or a schema error about a
dictionary), and never a 500; the same bytes reach the route when they pass."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from neuron_explainer.activation_server.bodies import MAX_JSON_DEPTH, MAX_NUMBER_DIGITS
from neuron_explainer.activation_server.main import openapi_document

JSON = {"content-type": "application/json"}


def post(client: TestClient, body: bytes, headers: dict[str, str], path: str) -> Any:
    return client.post(path, content=body, headers=headers)  # raw bytes, as sent


def nested(levels: int) -> bytes:
    return b'{"text": ' + b"[" * (levels - 1) + b"]" * (levels - 1) + b"}"


@pytest.mark.parametrize(
    "body, headers, status, words",
    [
        (b'{"text": "caf\xe9"}', JSON, 400, ["not valid UTF-8", "byte 13", "encoded as UTF-8"]),
        (b'{"te\xffxt": "a"}', JSON, 400, ["not valid UTF-8", "0xff"]),
        (b"\xff\xfe{\x00}\x00", JSON, 400, ["not valid UTF-8"]),  # UTF-16
        (nested(1000), JSON, 400, [f"deeper than {MAX_JSON_DEPTH} levels"]),
        (b"[" * 100_000 + b"]" * 100_000, JSON, 400, [f"deeper than {MAX_JSON_DEPTH} levels"]),
        (nested(MAX_JSON_DEPTH + 1), JSON, 400, [f"deeper than {MAX_JSON_DEPTH} levels"]),
        (
            b'{"text": "a", "n": ' + b"9" * 5000 + b"}",
            JSON,
            400,
            ["5000 digits", f"limited to {MAX_NUMBER_DIGITS} digits"],
        ),
        (b'{"text": "a", "n": -' + b"1" * 101 + b"}", JSON, 400, ["101 digits"]),
        (b'{"text": "a", "n": 1.' + b"1" * 300 + b"}", JSON, 400, ["300 digits"]),
        (b'{"text": "a"}', {"content-type": "text/plain"}, 415, ["'text/plain'", "JSON"]),
        (b'{"text": "a"}', {}, 415, ["no Content-Type", "Content-Type: application/json"]),
        (
            b"text=a",
            {"content-type": "application/x-www-form-urlencoded"},
            415,
            ["send JSON with 'Content-Type: application/json'"],
        ),
    ],
)  # fmt: skip
def test_bad_bodies_say_what_to_send(
    client: TestClient, body: bytes, headers: dict[str, str], status: int, words: list[str]
) -> None:
    for path in ("/api/model/tokenize", "/api/debugger/attribute"):
        response = post(client, body, headers, path)
        assert response.status_code == status, (path, response.text)
        detail = response.json()["detail"]
        for word in words:
            assert word in detail, (path, detail)


def test_good_bodies_pass_unchanged(client: TestClient) -> None:
    escaped = post(client, b'{"text": "caf\\u00e9"}', JSON, "/api/model/tokenize").json()["ids"]
    for headers in (
        JSON,
        {"content-type": "application/json; charset=utf-8"},
        {"content-type": "application/vnd.api+json"},
    ):
        response = post(client, '{"text": "café"}'.encode(), headers, "/api/model/tokenize")
        assert response.status_code == 200, response.text
        assert response.json()["ids"] == escaped
    bom = post(client, b'\xef\xbb\xbf{"text": "a"}', JSON, "/api/model/tokenize")
    assert bom.status_code == 200
    # Within the bounds, the schema decides (and says where); no body check gets in the way.
    deep = post(client, nested(MAX_JSON_DEPTH), JSON, "/api/model/tokenize")
    assert deep.status_code == 422 and "body.text" in deep.json()["detail"]
    wide = b'{"text": "a", "n": ' + b"9" * MAX_NUMBER_DIGITS + b"}"
    assert post(client, wide, JSON, "/api/model/tokenize").status_code == 422
    # Brackets, digits and escaped quotes inside strings are text, not structure.
    text = '{"text": "[{\\"' + "[" * 100 + "7" * 500 + '\\\\"}'
    assert post(client, text.encode(), JSON, "/api/model/tokenize").status_code == 200
    broken = post(client, b'{"text": ', JSON, "/api/model/tokenize")
    assert broken.status_code == 422 and "JSON decode error" in broken.json()["detail"]
    empty = post(client, b"", {}, "/api/model/tokenize")
    assert empty.status_code == 422 and "Field required" in empty.json()["detail"]
    assert client.get("/api/health").status_code == 200  # bodiless requests untouched


def _depth(schema: dict[str, Any], schemas: dict[str, Any], seen: tuple[str, ...] = ()) -> int:
    """How many levels of objects and lists a body of `schema` can nest."""
    if "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        assert name not in seen, f"{name} is recursive: its depth has no bound"
        return _depth(schemas[name], schemas, (*seen, name))
    alternatives = [
        _depth(s, schemas, seen) for key in ("anyOf", "oneOf", "allOf") for s in schema.get(key, [])
    ]
    inner = [_depth(p, schemas, seen) for p in schema.get("properties", {}).values()]
    if schema.get("type") == "array":
        inner.append(_depth(schema.get("items", {}), schemas, seen))
    own = 1 + max(inner, default=0) if schema.get("type") in ("object", "array") else 0
    return max([own, *alternatives])


def test_every_request_schema_fits_the_depth_limit() -> None:
    """The limit never refuses a valid request: each request body nests within it."""
    doc = openapi_document()
    schemas = doc["components"]["schemas"]
    depths = {
        path: _depth(op["requestBody"]["content"]["application/json"]["schema"], schemas)
        for path, item in doc["paths"].items()
        for op in item.values()
        if "requestBody" in op
    }
    assert depths and max(depths.values()) <= MAX_JSON_DEPTH // 4, depths


def test_hostile_bodies_are_answered_quickly(client: TestClient) -> None:
    """An unterminated string of escaped quotes once made the body scan retry at every quote (15 s
    for 40 kB); each of these 1 MB-sized bodies must take a fraction of a second."""
    for body in (
        b'{"text": "' + b'\\"' * 400_000,
        b'{"text": "' + b'\\"' * 400_000 + b"\\",
        b"[" + b"[1]," * 200_000 + b"[1]]",
        b'{"text": "' + b"a" * 900_000 + b'"}',
    ):
        began = time.perf_counter()
        response = post(client, body, JSON, "/api/model/tokenize")
        assert 400 <= response.status_code < 500
        assert time.perf_counter() - began < 3.0

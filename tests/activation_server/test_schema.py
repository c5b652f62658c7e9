"""The OpenAPI document: exported without a model, stable operation ids, and a schemathesis run
over every operation (no 5xx, every response as documented)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import torch
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from neuron_explainer.activation_server.engine import Engine
from neuron_explainer.activation_server.main import openapi_document
from tests.activation_server.conftest import make_app

EXAMPLES = 15  # per operation
# Built at collection from the document `tdb openapi` writes (no model behind it); the calls go
# to an app with the model (`api_app`).
# Requests valid by the schema may still not fit the loaded model (a target of two tokens, layer
# 7 of a 2-layer model, a prompt over its context): the API answers those with 400 (or 404 for
# collated components that do not exist), so 400 counts as acceptance of schema-valid data.
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400", "404"]}}}
)
schema = schemathesis.openapi.from_dict(openapi_document(), config=CONFIG)


@pytest.fixture(scope="module", autouse=True)
def _subnormal_floats() -> Iterator[None]:
    """Hypothesis refuses to run where subnormal floats flush to zero, which the test session
    turns on (`torch.set_flush_denormal`, tests/conftest.py) in this thread; the server's model
    thread turns it on for itself."""
    torch.set_flush_denormal(False)
    yield
    torch.set_flush_denormal(True)


@pytest.fixture(scope="module")
def api_app(engine: Engine, data_dir: Path) -> FastAPI:
    return make_app(engine, data_dir, allowed_hosts=("testserver",))  # schemathesis's Host


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms(case: Any, api_app: FastAPI) -> None:
    case.call_and_validate(app=api_app)

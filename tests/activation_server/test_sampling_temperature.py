"""`POST /api/sampling` at a tiny temperature samples greedily (it was a 500: "probability tensor
contains inf, nan or element < 0")."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient


def sampled(client: TestClient, **body: Any) -> Any:
    body = {"prompt": "def f(x):", "interventions": [], "maxNewTokens": 6, "nSamples": 2, **body}
    response = client.post("/api/sampling", json=body)
    assert response.status_code == 200, response.text
    return response.json()["samples"]


@pytest.mark.parametrize("temperature", [1e-300, 1e-40, 5e-324])
def test_tiny_temperature_samples_greedily(client: TestClient, temperature: float) -> None:
    greedy = sampled(client, temperature=0.0)
    assert sampled(client, temperature=temperature, seed=5) == greedy

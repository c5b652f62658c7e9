"""The bundled toy-gelu-2l with its autoencoders, loaded once for the folder; a tiny collation
of it in a temporary data directory; apps and clients on them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from neuron_explainer.activation_server.engine import Engine, load_engine
from neuron_explainer.activation_server.main import create_app
from neuron_explainer.activation_server.settings import Settings
from neuron_explainer.datasets import CollationConfig, run_collation

MODEL = "toy-gelu-2l"
BASE_URL = "http://127.0.0.1:8000"
COLLATED_SAE = "blocks.0.hook_attn_out"  # the one autoencoder in the test collation
# A small store: 12 contexts of 16 tokens, few examples per component.
COLLATION = CollationConfig(
    context_size=16,
    batch_contexts=4,
    shard_contexts=12,
    window_before=4,
    window_after=2,
    top_k=4,
    n_quantiles=2,
    per_quantile=2,
    n_random=2,
)


@pytest.fixture(scope="package")
def engine() -> Engine:
    return load_engine(Settings(model=MODEL))


@pytest.fixture(scope="package")
def data_dir(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data")
    tokens = root / "collation.u16"
    np.random.default_rng(0).integers(0, engine.model.cfg.d_vocab, 200).astype("<u2").tofile(tokens)
    saes = {COLLATED_SAE: engine.saes[COLLATED_SAE]}
    store = root / "collations" / MODEL
    run_collation(
        engine.model,
        saes,
        tokens,
        str(store),
        root / "work",
        COLLATION,
        model_name=MODEL,
        progress=False,
    )
    return root


def make_app(engine: Engine, data_dir: Path, **settings: Any) -> FastAPI:
    """An app on the shared engine; without a UI unless `ui_dir` is given."""
    settings = {"ui_dir": None, **settings}
    return create_app(Settings(model=MODEL, data_dir=data_dir, **settings), engine)


@pytest.fixture(scope="module")
def client(engine: Engine, data_dir: Path) -> Iterator[TestClient]:
    with TestClient(make_app(engine, data_dir), base_url=BASE_URL) as c:
        yield c

"""A tiny model with two autoencoders, a random token file, and collations of it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from neuron_explainer.datasets import CollationConfig, ShardResult, collate_shard
from neuron_explainer.models.sparse_autoencoder import SaeConfig, SparseAutoencoder
from neuron_explainer.models.tokenizers import Tokenizer
from neuron_explainer.models.transformer import Transformer
from tests.models.tiny import tiny_model

N_TOKENS = 300  # 25 contexts of 12 (the file holds a few tokens more than whole contexts)
CFG = CollationConfig(
    context_size=12, batch_contexts=4, shard_contexts=8, window_before=5, window_after=3
)
N_CONTEXTS = N_TOKENS // 12


class NumberTokenizer(Tokenizer):
    """Token i reads "<i>"."""

    name = "numbers"

    @property
    def vocab_size(self) -> int:
        return 97

    @property
    def special_tokens(self) -> dict[str, int]:
        return {}

    def encode(self, text: str) -> list[int]:
        return [int(t) for t in text.replace(">", "").split("<")[1:]]

    def token_bytes(self, token_id: int) -> bytes:
        return f"<{token_id}>".encode()


def random_sae(d_in: int, d_sae: int, seed: int, k: int | None = None) -> SparseAutoencoder:
    """ReLU, or TopK with `k`."""
    torch.manual_seed(seed)
    architecture = "relu" if k is None else "topk"
    sae = SparseAutoencoder(SaeConfig(architecture, d_in=d_in, d_sae=d_sae, k=k))
    with torch.no_grad():
        for p in sae.parameters():
            p.normal_(0.0, 0.3)
    return sae


@pytest.fixture(scope="package")
def model() -> Transformer:
    m = tiny_model()
    m.tokenizer = NumberTokenizer()
    return m


@pytest.fixture(scope="package")
def saes() -> dict[str, SparseAutoencoder]:
    return {
        "blocks.0.mlp.hook_post": random_sae(64, 24, seed=1),
        # 160 latents: 5 blocks of `kernels.top_k_rows`, enough for its block bound at k 5.
        "blocks.1.hook_resid_pre": random_sae(32, 160, seed=2, k=5),
    }


@pytest.fixture(scope="package")
def tokens_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "collation.u16"
    np.random.default_rng(0).integers(0, 97, N_TOKENS).astype("<u2").tofile(path)
    return path


@pytest.fixture(scope="package")
def tokens(tokens_path: Path) -> np.ndarray:
    return np.fromfile(tokens_path, dtype="<u2")


@pytest.fixture(scope="package")
def full(model: Transformer, saes: dict[str, SparseAutoencoder], tokens: np.ndarray) -> ShardResult:
    """One pass over every context."""
    return collate_shard(model, saes, tokens, 0, N_CONTEXTS, CFG)

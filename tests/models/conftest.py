"""Randomly initialised GPT-2 checkpoints in Hugging Face layout, written by the tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

transformers = pytest.importorskip("transformers")

TINY = dict(n_layer=2, n_embd=64, n_head=4, n_positions=64, vocab_size=211)
GPT2_SMALL = dict(n_layer=12, n_embd=768, n_head=12, n_positions=1024, vocab_size=50257)


def make_hf_model(shape: dict, seed: int = 0, **overrides: object) -> transformers.GPT2LMHeadModel:
    torch.manual_seed(seed)
    config = transformers.GPT2Config(**shape, **overrides)
    model = transformers.GPT2LMHeadModel(config).eval()
    with torch.no_grad():
        # Non-trivial LayerNorm parameters and biases, so that every weight matters in parity.
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.normal_(0.0, 0.05)
            elif ".ln_" in name or "ln_f" in name:
                p.normal_(1.0, 0.1)
    return model


def save_hf(model: transformers.GPT2LMHeadModel, directory: Path, **kwargs: object) -> Path:
    model.save_pretrained(str(directory), **kwargs)
    return directory


@pytest.fixture(scope="session")
def tiny_hf(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[transformers.GPT2LMHeadModel, Path]:
    model = make_hf_model(TINY, initializer_range=0.2)
    return model, save_hf(model, tmp_path_factory.mktemp("tiny_gpt2"))


@pytest.fixture(scope="session")
def small_hf(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[transformers.GPT2LMHeadModel, Path]:
    model = make_hf_model(GPT2_SMALL, initializer_range=0.05)
    return model, save_hf(model, tmp_path_factory.mktemp("gpt2_small_shape"))

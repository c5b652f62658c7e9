"""The bundled default model loads by name with no network, and its card reports evaluations."""

from __future__ import annotations

import json

import torch

from neuron_explainer.models import Transformer, registry


def test_default_model_loads_and_completes_code() -> None:
    model = Transformer.from_pretrained(registry.DEFAULT_MODEL)
    assert model.tokenizer is not None
    assert model.cfg.n_layers == 2 and model.cfg.d_model == 256 and model.cfg.d_mlp == 1024
    prompt = model.tokenizer.encode("import numpy as")
    out = model.generate(torch.tensor([prompt]), max_new_tokens=1)
    assert model.tokenizer.decode(out[0, -1:].tolist()) == " np"


def test_default_model_card_reports_training_and_evaluation() -> None:
    card = json.loads((registry.BUNDLED_DIR / registry.DEFAULT_MODEL / "card.json").read_text())
    assert card["training"]["tokens"] >= 20_000_000
    validation = card["evaluation"]["validation"]
    assert validation["loss"] < validation["bigram_loss"] < validation["unigram_loss"]
    assert card["corpus_sha256"]

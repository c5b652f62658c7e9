"""The bundled default model loads by name with no network, and its card reports evaluations."""

from __future__ import annotations

import json

import torch

from neuron_explainer.models import Transformer, registry, splice_saes
from neuron_explainer.models.sae_registry import load_model_saes, sae_entries


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


def test_attention_only_model_loads_and_its_card_reports_induction() -> None:
    model = Transformer.from_pretrained("toy-attn-only-2l")
    assert model.cfg.attn_only and model.cfg.n_layers == 2 and model.cfg.n_heads == 8
    card = json.loads((registry.BUNDLED_DIR / "toy-attn-only-2l" / "card.json").read_text())
    assert card["total_training_tokens"] >= 20_000_000
    induction = card["evaluation"]["induction"]
    assert [len(layer) for layer in induction["induction_scores"]] == [8, 8]
    validation = card["evaluation"]["validation"]
    assert validation["loss"] < validation["bigram_loss"] < validation["unigram_loss"]


def test_bundled_models_stay_within_40_mb() -> None:
    """The models' files (weights, config, tokenizer, card); their autoencoders are apart."""
    files = [p for p in registry.BUNDLED_DIR.rglob("*") if p.is_file() and "saes" not in p.parts]
    assert sum(p.stat().st_size for p in files) <= 40 * 2**20


SAE_SITES = {
    "blocks.0.mlp.hook_post",
    "blocks.1.mlp.hook_post",
    "blocks.0.hook_attn_out",
    "blocks.1.hook_attn_out",
}


def test_bundled_autoencoders_load_by_name_and_splice_exactly() -> None:
    model = Transformer.from_pretrained(registry.DEFAULT_MODEL)
    saes = load_model_saes(registry.DEFAULT_MODEL)
    assert set(saes) == SAE_SITES
    assert model.tokenizer is not None
    tokens = model.tokenizer.encode("def fibonacci(n):\n    if n < 2:\n        return n")
    # Caching runs the splice with its error term (and attention without the fused kernel).
    clean, _ = model.run_with_cache(tokens)
    with splice_saes(model, saes):
        spliced, cache = model.run_with_cache(tokens)
    assert float((spliced - clean).abs().max()) <= 1e-5
    for site, sae in saes.items():
        latents = cache[f"{site}.hook_sae_acts_post"]
        assert sae.cfg.k is not None and int((latents != 0).sum(-1).max()) <= sae.cfg.k


def test_bundled_autoencoder_cards_report_metrics_over_a_million_tokens() -> None:
    for entry in sae_entries(registry.DEFAULT_MODEL):
        evaluation = entry.card["evaluation"]
        assert evaluation["n_tokens"] >= 1_000_000
        assert evaluation["dead_fraction"] < 0.05
        assert evaluation["ce_loss_score"] >= 0.9

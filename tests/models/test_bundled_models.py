"""The bundled default model loads by name with no network, and its card reports evaluations."""

from __future__ import annotations

import json

import torch

from neuron_explainer.models import Transformer, registry, splice_saes
from neuron_explainer.models.sae_registry import load_model_saes, sae_entries
from neuron_explainer.training.eval_model import induction_eval


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


def test_attention_only_model_has_an_induction_head() -> None:
    """Measured afresh on the bundled weights, not read from the card."""
    model = Transformer.from_pretrained("toy-attn-only-2l")
    result = induction_eval(model, batch=20, seed=1)
    assert max(max(layer) for layer in result["induction_scores"]) >= 0.5
    assert result["loss_second_half"] < result["loss_first_half"] / 2


def test_gpu_trained_model_loads_and_beats_the_default_model() -> None:
    model = Transformer.from_pretrained("toy-gelu-4l")
    assert (model.cfg.n_layers, model.cfg.d_model) == (4, 512)
    cards = {
        name: json.loads((registry.BUNDLED_DIR / name / "card.json").read_text())
        for name in ("toy-gelu-4l", registry.DEFAULT_MODEL)
    }
    big, default = cards["toy-gelu-4l"], cards[registry.DEFAULT_MODEL]
    assert big["total_training_tokens"] >= 200_000_000
    assert big["evaluation"]["validation"]["loss"] < default["evaluation"]["validation"]["loss"]


def _bundled_size(names: set[str]) -> int:
    """Bytes of the models' files (weights, config, tokenizer, card); autoencoders apart."""
    files = [p for p in registry.BUNDLED_DIR.rglob("*") if p.is_file() and "saes" not in p.parts]
    return sum(
        p.stat().st_size for p in files if p.relative_to(registry.BUNDLED_DIR).parts[0] in names
    )


def test_bundled_models_stay_within_40_mb() -> None:
    """The CPU-trained models together, and the GPU-trained one alone (float16, 17M parameters)."""
    assert _bundled_size({"toy-gelu-2l", "toy-attn-only-2l"}) <= 40 * 2**20
    assert _bundled_size({"toy-gelu-4l"}) <= 40 * 2**20


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
    # float32 sums in any order (any thread count)
    torch.testing.assert_close(spliced, clean, atol=1e-5, rtol=1e-5)
    for site, sae in saes.items():
        latents = cache[f"{site}.hook_sae_acts_post"]
        assert sae.cfg.k is not None and int((latents != 0).sum(-1).max()) <= sae.cfg.k


def test_bundled_autoencoder_cards_report_metrics_over_a_million_tokens() -> None:
    for entry in sae_entries(registry.DEFAULT_MODEL):
        evaluation = entry.card["evaluation"]
        assert evaluation["n_tokens"] >= 1_000_000
        assert evaluation["dead_fraction"] < 0.05
        assert evaluation["ce_loss_score"] >= 0.9

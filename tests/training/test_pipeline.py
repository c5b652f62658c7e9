"""The whole model pipeline through `tdb`, on a tiny configuration: corpus slice -> tokenizer ->
a few hundred training steps -> bundle -> load by name -> evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from neuron_explainer.cli import main
from neuron_explainer.models import Transformer, TransformerConfig, registry
from tests.training.test_corpus import write_manifest

VOCAB = 384
STEPS = 300


def test_pipeline_from_text_to_evaluated_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    manifest = write_manifest(tmp_path)
    assert main(["build-corpus", "--data-dir", str(data), "--manifest", str(manifest)]) == 0
    assert main(["train-tokenizer", "--data-dir", str(data), "--vocab-size", str(VOCAB)]) == 0
    for split in ("train", "validation", "collation"):
        assert (data / "tokens" / f"{split}.u16").stat().st_size > 0

    cfg = TransformerConfig(
        n_layers=1, d_model=32, n_heads=2, d_head=16, d_mlp=64, n_ctx=32, d_vocab=VOCAB
    )
    cfg_path = tmp_path / "model.json"
    cfg_path.write_text(cfg.to_json())
    run = tmp_path / "run"
    args = ["train-model", "--data-dir", str(data), "--out", str(run), "--model-config"]
    args += [str(cfg_path), "--total-tokens", str(STEPS * 8 * 32), "--batch-size", "8"]
    assert main([*args, "--lr", "3e-3", "--eval-interval", "100", "--threads", "1"]) == 0
    summary = json.loads((run / "final" / "training_summary.json").read_text())
    assert summary["finished"] and summary["steps"] == STEPS

    eval_json = tmp_path / "eval.json"
    assert (
        main(["eval-model", str(run / "final"), "--data-dir", str(data), "--out", str(eval_json)])
        == 0
    )
    result = json.loads(eval_json.read_text())
    # A few hundred steps already beat predicting from token frequencies alone.
    assert result["validation"]["loss"] < result["validation"]["unigram_loss"]
    assert len(result["induction"]["induction_scores"]) == cfg.n_layers

    monkeypatch.setattr(registry, "BUNDLED_DIR", tmp_path / "bundled")
    monkeypatch.setattr("neuron_explainer.models.registry.BUNDLED_DIR", tmp_path / "bundled")
    assert main(["bundle-model", str(run), "toy-gelu-2l", "--eval-json", str(eval_json),
                 "--data-dir", str(data)]) == 0  # fmt: skip
    model = Transformer.from_pretrained("toy-gelu-2l")
    assert model.cfg == cfg and model.tokenizer is not None
    card = json.loads((tmp_path / "bundled" / "toy-gelu-2l" / "card.json").read_text())
    assert card["corpus_sha256"] and card["evaluation"]["validation"]["loss"] > 0
    capsys.readouterr()
    assert main(["sample", "toy-gelu-2l", "--prompt", "def ", "--max-new-tokens", "5"]) == 0
    assert "def " in capsys.readouterr().out

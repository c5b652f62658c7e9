from __future__ import annotations

from pathlib import Path

import pytest

from neuron_explainer.cli import main
from tests.models.tiny import tiny_model


def test_models_lists_every_registry_entry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in ("toy-gelu-2l", "gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl", "distilgpt2"):
        assert name in out


def test_hooks_lists_names_and_shapes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tiny_model().save_pretrained(str(tmp_path))
    assert main(["hooks", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "blocks.1.attn.hook_pattern" in out and "[1, 4, 4, 4]" in out


def test_sample_without_tokenizer_or_model_fails_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tiny_model().save_pretrained(str(tmp_path))
    assert main(["sample", str(tmp_path)]) == 2
    assert "no tokenizer" in capsys.readouterr().err
    assert main(["sample", "no-such-model"]) == 2
    assert "Registry names" in capsys.readouterr().err

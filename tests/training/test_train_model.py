"""Training loop: it learns, resumes to the same weights, and writes no pickle."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from tokenizers import Tokenizer as RustTokenizer
from tokenizers.models import WordLevel

from neuron_explainer.models.config import TransformerConfig
from neuron_explainer.models.loading import load_model
from neuron_explainer.training.train_model import (
    MIN_REPEAT,
    TrainConfig,
    lr_at,
    train_batch,
    train_model,
)

D_VOCAB = 64
EOT = D_VOCAB - 1
TINY_MODEL = TransformerConfig(
    n_layers=1, d_model=32, n_heads=4, d_head=8, d_mlp=64, n_ctx=32, d_vocab=D_VOCAB
)
PICKLE_MAGICS = (b"\x80", b"PK")  # pickle protocol >= 2, and torch.save's zip archive


def write_counting_corpus(path: Path, n_tokens: int, seed: int) -> None:
    """Documents that count upward from a random token, mod EOT, each ended by EOT."""
    rng = np.random.default_rng(seed)
    tokens: list[int] = []
    while len(tokens) < n_tokens:
        start, length = rng.integers(0, EOT), rng.integers(5, 40)
        tokens.extend((start + np.arange(length)) % EOT)
        tokens.append(EOT)
    np.asarray(tokens[:n_tokens], dtype="<u2").tofile(path)


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[Path, Path]:
    train, val = tmp_path / "train.bin", tmp_path / "val.bin"
    write_counting_corpus(train, 50_000, seed=1)
    write_counting_corpus(val, 5_000, seed=2)
    return train, val


def tiny_cfg(total_steps: int, **changes: Any) -> TrainConfig:
    cfg = TrainConfig(
        model=TINY_MODEL,
        batch_size=8,
        lr=3e-3,
        warmup_steps=10,
        total_tokens=total_steps * 8 * TINY_MODEL.n_ctx,
        eval_interval=25,
        eval_tokens=512,
        checkpoint_interval=7,
        seed=3,
        device="cpu",
        num_threads=1,  # a tiny model gains nothing from threads, which contend on shared CPUs
    )
    return dataclasses.replace(cfg, **changes)


def test_lr_schedule_warms_up_then_decays_to_a_tenth() -> None:
    cfg = tiny_cfg(100)
    assert lr_at(0, cfg) == pytest.approx(cfg.lr / 10)
    assert lr_at(9, cfg) == pytest.approx(cfg.lr)
    assert lr_at(99, cfg) == pytest.approx(cfg.lr * 0.1, rel=1e-2)
    assert all(lr_at(s, cfg) >= lr_at(s + 1, cfg) for s in range(10, 99))


def test_loss_decreases_on_a_learnable_pattern(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    tokenizer = tmp_path / "tokenizer.json"
    vocab = {f"t{i}": i for i in range(D_VOCAB)}
    tokenizer.write_text(RustTokenizer(WordLevel(vocab, unk_token="t0")).to_str())
    summary = train_model(
        tiny_cfg(100), *corpus, tmp_path / "run", tokenizer_path=tokenizer, progress=False
    )
    first_eval, last_eval = summary["evals"][0]["val_loss"], summary["final_val_loss"]
    assert summary["steps"] == 100 and summary["finished"]
    assert last_eval < 0.5 * np.log(D_VOCAB), summary["evals"]
    assert last_eval < first_eval
    final = tmp_path / "run" / "final"
    assert json.loads((final / "training_summary.json").read_text())["steps"] == 100
    model = load_model(final)
    assert model.cfg == TINY_MODEL
    assert model.tokenizer is not None and model.tokenizer.vocab_size == D_VOCAB


def test_resume_equals_uninterrupted_run(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    cfg = tiny_cfg(30)
    whole = train_model(cfg, *corpus, tmp_path / "whole", progress=False)
    part = train_model(cfg, *corpus, tmp_path / "split", progress=False, stop_at_step=12)
    assert part["steps"] == 12 and not part["finished"]
    assert not (tmp_path / "split" / "final").exists()
    resumed = train_model(cfg, *corpus, tmp_path / "split", progress=False)

    assert resumed["steps"] == 30
    assert resumed["evals"] == whole["evals"]
    assert resumed["final_train_loss"] == whole["final_train_loss"]
    weights_whole = load_file(tmp_path / "whole" / "final" / "model.safetensors")
    weights_resumed = load_file(tmp_path / "split" / "final" / "model.safetensors")
    assert weights_whole.keys() == weights_resumed.keys()
    for name, value in weights_whole.items():
        assert torch.equal(value, weights_resumed[name]), name


def test_resume_refuses_a_different_config(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    train_model(tiny_cfg(10), *corpus, tmp_path / "run", progress=False, stop_at_step=5)
    with pytest.raises(ValueError, match="different TrainConfig"):
        train_model(tiny_cfg(10, lr=1e-3), *corpus, tmp_path / "run", progress=False)


def test_checkpoint_is_safetensors_and_json_only(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    train_model(tiny_cfg(8), *corpus, tmp_path / "run", progress=False, stop_at_step=7)
    checkpoint = tmp_path / "run" / "checkpoint"
    files = sorted(p.name for p in checkpoint.iterdir())
    assert files == [
        "config.json",
        "model.safetensors",
        "optimizer.safetensors",
        "rng.safetensors",
        "state.json",
    ]
    for path in checkpoint.iterdir():
        assert not path.read_bytes().startswith(PICKLE_MAGICS), path.name
        if path.suffix == ".json":
            json.loads(path.read_text())
        else:
            load_file(path)
    assert json.loads((checkpoint / "state.json").read_text())["step"] == 7


def test_rejects_token_ids_outside_the_vocabulary(tmp_path: Path) -> None:
    bad = tmp_path / "bad.bin"
    np.full(1000, D_VOCAB, dtype="<u2").tofile(bad)
    with pytest.raises(ValueError, match="out of range"):
        train_model(tiny_cfg(5), bad, bad, tmp_path / "run", progress=False)


def test_repeated_windows_repeat_a_stretch_of_text(corpus: tuple[Path, Path]) -> None:
    tokens = np.memmap(corpus[0], dtype="<u2", mode="r")
    cfg = tiny_cfg(1, repeat_fraction=0.5)
    batch = train_batch(tokens, 0, cfg)
    plain = train_batch(tokens, 0, dataclasses.replace(cfg, repeat_fraction=0.0))
    repeated = [row for row in range(cfg.batch_size) if not torch.equal(batch[row], plain[row])]
    assert len(repeated) == 4
    for row in repeated:
        window = batch[row]
        length = next(
            n for n in range(MIN_REPEAT, 17) if torch.equal(window[n : 2 * n], window[:n])
        )
        assert torch.equal(window[:length], plain[row, :length])  # a stretch of real text
        assert torch.equal(window, window[:length].repeat(3)[: len(window)])
    with pytest.raises(ValueError, match="repeat_fraction"):
        tiny_cfg(1, repeat_fraction=1.5)


def test_init_from_starts_at_the_given_weights(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    first = train_model(tiny_cfg(10), *corpus, tmp_path / "first", progress=False)
    assert first["finished"]
    start = str(tmp_path / "first" / "final")
    cfg = tiny_cfg(1, init_from=start, lr=1e-12, warmup_steps=0, weight_decay=0.0)
    train_model(cfg, *corpus, tmp_path / "second", progress=False)
    before, after = load_model(start), load_model(tmp_path / "second" / "final")
    for (name, a), b in zip(before.state_dict().items(), after.state_dict().values(), strict=True):
        torch.testing.assert_close(b, a, atol=1e-6, rtol=0, msg=name)
    with pytest.raises(ValueError, match="not the configured"):
        other = dataclasses.replace(TINY_MODEL, d_mlp=32)
        train_model(tiny_cfg(1, init_from=start, model=other), *corpus, tmp_path / "x")

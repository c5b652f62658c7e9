"""`tdb collate`, `tdb collation-record`, `tdb collation-summary` on a tiny model; `tdb prepare`."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from neuron_explainer.datasets.commands import add_commands
from neuron_explainer.datasets.locations import BUNDLED_TOKENS, default_store_dir, token_file
from neuron_explainer.datasets.reader import read_record
from tests.models.tiny import tiny_model


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tdb")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


def test_collate_record_summary(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    model_dir = tmp_path / "tiny"
    tiny_model().save_pretrained(str(model_dir))
    (tmp_path / "tokens").mkdir()
    rng = np.random.default_rng(1)
    rng.integers(0, 97, 200).astype("<u2").tofile(tmp_path / "tokens" / "collation.u16")
    small = ["--context-size", "16", "--batch-contexts", "4", "--shard-contexts", "8"]
    assert run(["collate", str(model_dir), "--data-dir", str(tmp_path), *small]) == 0
    store = default_store_dir(tmp_path, str(model_dir))
    assert "collated 192 tokens" in capsys.readouterr().out
    assert run(["collation-record", store, "head", "0", "3"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert set(record["measures"]) == {"attention", "write_norm"}
    assert run(["collation-summary", store, "neuron", "1", "--by", "max", "--limit", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["index", "kurtosis", "density"] and len(lines) == 4


def test_prepare_collates_the_bundled_tokens_once(tmp_path, capsys, monkeypatch) -> None:
    """`tdb prepare` (make serve's first run) on the default model and the bundled tokens; a
    second run reuses the store."""
    argv = ["prepare", "toy-gelu-2l", "--data-dir", str(tmp_path), "--tokens", "512"]
    assert run(argv) == 0
    store = default_store_dir(tmp_path, "toy-gelu-2l")
    assert store in capsys.readouterr().out
    index = json.loads((tmp_path / "collations" / "toy-gelu-2l" / "index.json").read_text())
    assert index["corpus"]["n_tokens"] == 512
    assert {g["family"] for g in index["groups"]} == {"neuron", "head", "latent"}
    assert not (tmp_path / "collations" / "toy-gelu-2l.work").exists()  # shard results removed
    first = np.fromfile(BUNDLED_TOKENS / "tokens.u16", dtype="<u2", count=512)
    top = read_record(store, "neuron", 0, 0).measures["activation"].top[0]
    at = top.id - top.position  # the window's first token in the token file
    assert top.tokens == first[at : at + len(top.tokens)].tolist()

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("collated again")

    monkeypatch.setattr("neuron_explainer.datasets.jobs.collate_model", fail)
    assert run(argv) == 0


def test_token_files_are_checked(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="--split bundled"):
        token_file(tmp_path, "collation")
    assert token_file(tmp_path, "bundled").name == "tokens.u16"
    with pytest.raises(ValueError, match="not this model's"):
        token_file(tmp_path, "bundled", tiny_model())  # no tokenizer of ours

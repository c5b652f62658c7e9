"""`tdb collate`, `tdb collation-record` and `tdb collation-summary` on a tiny model."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from neuron_explainer.datasets.commands import add_commands, default_store_dir
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

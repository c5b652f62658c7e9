"""Byte-level BPE training and `.u16` token files, on a tiny corpus."""

from __future__ import annotations

import json
import sysconfig
from pathlib import Path

import numpy as np
import pytest

from neuron_explainer.models.tokenizers import HfTokenizer
from neuron_explainer.training.corpus_sources import SEPARATOR
from neuron_explainer.training.tokenizer_training import (
    ENDOFTEXT,
    bytes_per_token,
    iter_documents,
    read_tokens,
    tokenize_split,
    train_tokenizer,
)

FIXTURES = Path(__file__).parent / "fixtures" / "prose"
SAMPLES = [
    "Hello, world! It's a naïve café — ünïcödé, 日本語のテキスト, emoji 🦀🐍 and Ελληνικά.",
    "def f(x: int) -> int:\n\treturn x ** 2  # square\r\n\n\n    \u00a0trailing  \n",
    "  leading spaces, \x00 NUL and \x7f DEL, a lone surrogate-free 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 line",
    "",
]


@pytest.fixture(scope="module")
def train_txt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    docs = [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.glob("*.txt"))]
    docs += [(stdlib / name).read_text(encoding="utf-8") for name in ("textwrap.py", "colorsys.py")]
    path = tmp_path_factory.mktemp("corpus") / "train.txt"
    path.write_text(SEPARATOR.join(docs), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tokenizer_json(train_txt: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    train_tokenizer(train_txt, 600, out_path=out, progress=False)
    return out


def test_vocabulary_layout(tokenizer_json: Path) -> None:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_json))
    assert tok.token_to_id(ENDOFTEXT) == 0
    assert tok.get_vocab_size() == 600
    # Every byte is in the vocabulary, right after the special token.
    assert sorted(tok.get_vocab()[t] for t in tok.get_vocab() if len(t) == 1)[:256] == list(
        range(1, 257)
    )
    config = json.loads(tokenizer_json.read_text())
    assert config["pre_tokenizer"]["type"] == "ByteLevel"
    assert config["pre_tokenizer"]["add_prefix_space"] is False
    assert config["decoder"]["type"] == "ByteLevel"


@pytest.mark.parametrize("text", SAMPLES)
def test_round_trip(tokenizer_json: Path, text: str) -> None:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_json))
    ids = tok.encode(text, add_special_tokens=False).ids
    assert tok.decode(ids, skip_special_tokens=False) == text
    # The project's tokenizer wrapper reads the same file and agrees byte for byte.
    wrapper = HfTokenizer.from_file(tokenizer_json)
    assert wrapper.encode(text) == ids
    assert wrapper.decode(ids) == text
    assert wrapper.eot_token_id == 0


def test_round_trip_of_code(tokenizer_json: Path) -> None:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_json))
    source = (Path(sysconfig.get_paths()["stdlib"]) / "json" / "decoder.py").read_text()
    ids = tok.encode(source, add_special_tokens=False).ids
    assert tok.decode(ids, skip_special_tokens=False) == source
    assert len(ids) < len(source.encode()) / 1.5  # the merges compress code too


def test_training_is_deterministic(train_txt: Path, tokenizer_json: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.json"
    train_tokenizer(train_txt, 600, out_path=again, progress=False)
    assert again.read_bytes() == tokenizer_json.read_bytes()


def test_tokenize_split(tokenizer_json: Path, train_txt: Path, tmp_path: Path) -> None:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_json))
    docs = list(iter_documents(train_txt))
    assert len(docs) == 4
    out = tmp_path / "train.u16"
    # A small batch size exercises several batches.
    n = tokenize_split(tokenizer_json, train_txt, out, batch_bytes=1000, progress=False)
    expected: list[int] = []
    for doc in docs:
        expected += [*tok.encode(doc, add_special_tokens=False).ids, 0]
    tokens = read_tokens(out)
    assert n == len(expected) == len(tokens) == out.stat().st_size // 2
    assert tokens.dtype == np.dtype("<u2")
    assert tokens.tolist() == expected
    assert np.fromfile(out, dtype="<u2").tolist() == expected
    stats = bytes_per_token(tok, train_txt)
    assert stats["bytes"] == sum(len(d.encode()) for d in docs)
    assert stats["bytes_per_token"] > 1.0


def test_iter_documents_across_chunk_boundaries(tmp_path: Path) -> None:
    docs = ["alpha " * 7, "β" * 5, "gamma", "last"]
    path = tmp_path / "split.txt"
    path.write_text(SEPARATOR.join(docs), encoding="utf-8")
    for chunk_chars in (1, 3, 5, 13, 1000):
        assert list(iter_documents(path, chunk_chars=chunk_chars)) == docs


def test_vocab_size_must_fit_uint16(train_txt: Path) -> None:
    with pytest.raises(ValueError, match="uint16"):
        train_tokenizer(train_txt, 70000, out_path=None, progress=False)

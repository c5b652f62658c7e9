from __future__ import annotations

from pathlib import Path

import pytest

from neuron_explainer.models.tokenizers import HfTokenizer, Tokenizer, gpt2_tokenizer
from tests.tiny_tokenizer import train_tiny_tokenizer

IOI = "When Mary and John went to the store, John gave a drink to"
IOI_IDS = [2215, 5335, 290, 1757, 1816, 284, 262, 3650, 11, 1757, 2921, 257, 4144, 284]
TEXTS = [
    IOI,
    "naïve café — 東京 🎉 \u200b emoji 👩‍💻",
    "def f(x):\n\treturn {'a': [1, 2]}  # ok\n\n\n",
    "   leading and trailing spaces   ",
    "<|endoftext|>after a separator",
]


def _train_tiny_hf_tokenizer(path: Path) -> HfTokenizer:
    return train_tiny_tokenizer(TEXTS, 400, path)


@pytest.fixture(scope="module", params=["gpt2", "hf"])
def tokenizer(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Tokenizer:
    if request.param == "gpt2":
        return gpt2_tokenizer()
    return _train_tiny_hf_tokenizer(tmp_path_factory.mktemp("tok") / "tokenizer.json")


def test_gpt2_reference_encoding() -> None:
    tok = gpt2_tokenizer()
    assert tok.encode(IOI) == IOI_IDS
    assert tok.vocab_size == 50257
    assert tok.eot_token_id == 50256
    assert tok.token_strings(tok.encode(" John gave")) == [" John", " gave"]


@pytest.mark.parametrize("text", TEXTS)
def test_unicode_round_trip(tokenizer: Tokenizer, text: str) -> None:
    ids = tokenizer.encode(text)
    assert tokenizer.decode(ids) == text
    assert tokenizer.decode_bytes(ids) == text.encode("utf-8")
    # Display strings are never empty, and each stands for exactly its token's bytes.
    strings = tokenizer.token_strings(ids)
    assert len(strings) == len(ids) and all(strings)


def test_raw_bytes_round_trip(tokenizer: Tokenizer) -> None:
    for token_id in range(min(tokenizer.vocab_size, 400)):
        raw = tokenizer.token_bytes(token_id)
        assert tokenizer.decode_bytes([token_id]) == raw
    # A multi-byte character split across tokens shows escapes for the partial bytes.
    ids = tokenizer.encode("🎉")
    joined = b"".join(tokenizer.token_bytes(i) for i in ids)
    assert joined == "🎉".encode()


def test_special_tokens(tokenizer: Tokenizer) -> None:
    eot = tokenizer.eot_token_id
    assert eot is not None and tokenizer.special_tokens["<|endoftext|>"] == eot
    assert eot in tokenizer.encode("a<|endoftext|>b")


def test_out_of_range_ids(tokenizer: Tokenizer) -> None:
    with pytest.raises(ValueError, match="out of range"):
        tokenizer.decode([tokenizer.vocab_size])
    with pytest.raises(ValueError, match="out of range"):
        tokenizer.token_strings([-1])

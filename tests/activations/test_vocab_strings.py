"""Display strings of tokens: characters split over byte-level tokens read whole, and the hint
for a target of several tokens is text that can be typed (never a partial byte)."""

from __future__ import annotations

from pathlib import Path

import pytest

import neuron_explainer.models as models_package
from neuron_explainer.activations.vocab import (
    first_token_hint,
    token_strings,
    vocabulary_strings,
)
from neuron_explainer.models import Transformer
from neuron_explainer.models.token_text import text_strings
from neuron_explainer.models.tokenizers import HfTokenizer
from tests.models.tiny import TINY_CFG

# The bundled toy tokenizer is byte-level BPE with no merge for 'é' or '😀': 'café' is
# c|af|\xc3|\xa9, '😀' is four one-byte tokens.
TOY_TOKENIZER = Path(models_package.__file__).parent / "bundled" / "toy-gelu-2l" / "tokenizer.json"


def toy_tokenizer_model() -> Transformer:
    """A tiny random model with the bundled toy tokenizer (only its tokenizer matters here)."""
    tokenizer = HfTokenizer.from_file(TOY_TOKENIZER)
    m = Transformer(TINY_CFG.replace(d_vocab=tokenizer.vocab_size))
    m.tokenizer = tokenizer
    return m


@pytest.fixture(scope="module")
def model() -> Transformer:
    return toy_tokenizer_model()


def test_characters_split_over_tokens_read_whole(model: Transformer) -> None:
    assert model.tokenizer is not None
    for text in ["café", " naïve 😀 x", "日本語", "a😀😀b\n", "plain ascii"]:
        ids = model.tokenizer.encode(text)
        strings = token_strings(model, ids)
        assert len(strings) == len(ids)
        assert "".join(strings) == text
        assert not any("\\x" in s for s in strings), strings
    ids = model.tokenizer.encode("café")
    assert token_strings(model, ids) == ["c", "af", "", "é"]


def test_text_strings_put_each_character_on_its_last_byte() -> None:
    assert text_strings([b"caf\xc3", b"\xa9"]) == ["caf", "é"]
    assert text_strings([b"\xf0\x9f", b"\x98", b"\x80!"]) == ["", "", "😀!"]
    assert text_strings([]) == []


def test_bytes_of_no_character_are_escaped_on_their_own_token() -> None:
    # A window that starts or ends inside a character, and a lead byte left unfinished.
    assert text_strings([b"\xa9", b"ok", b"\xc3"]) == ["\\xa9", "ok", "\\xc3"]
    assert text_strings([b"\xc3", b"a"]) == ["\\xc3", "a"]
    assert text_strings([b"x\xff"]) == ["x\\xff"]


def test_unrelated_tokens_keep_their_own_strings(model: Transformer) -> None:
    assert model.tokenizer is not None
    ids = model.tokenizer.encode("😀")
    assert vocabulary_strings(model, ids) == ["\\xf0", "\\x9f", "\\x98", "\\x80"]


def test_hint_is_typeable_text_or_an_id(model: Transformer) -> None:
    assert model.tokenizer is not None
    cafe = model.tokenizer.encode(" café")
    assert first_token_hint(model, cafe) == repr(" c")
    emoji = model.tokenizer.encode("😀")
    hint = first_token_hint(model, emoji)
    assert hint.startswith(f"the id {emoji[0]} ")
    assert "\\x" not in hint

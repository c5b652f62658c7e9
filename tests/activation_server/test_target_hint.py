"""A target of several tokens is refused with a hint that can be typed or an id, never a
partial byte such as '\\xf0' (the first byte-token of an emoji)."""

from __future__ import annotations

import pytest

from neuron_explainer.activation_server.errors import BadRequestError
from neuron_explainer.activation_server.jobs.common import single_tokens
from tests.activations.test_vocab_strings import toy_tokenizer_model


@pytest.mark.parametrize(
    ("text", "hint"),
    [("😀", "e.g. the id 173 (its first token, part of a character)"), (" café", "e.g. ' c'")],
)
def test_multi_token_target_hint_is_whole_text_or_an_id(text: str, hint: str) -> None:
    model = toy_tokenizer_model()
    with pytest.raises(BadRequestError) as raised:
        single_tokens(model, [text], "Target")
    assert hint in raised.value.message
    assert "e.g. '\\x" not in raised.value.message

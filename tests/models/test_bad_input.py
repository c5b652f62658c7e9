from __future__ import annotations

import pytest
import torch

from tests.models.tiny import tiny_model


@pytest.mark.parametrize(
    ("tokens", "error", "message"),
    [
        ([1, 2, 97], ValueError, r"Token id 97 is out of range \[0, 97\)"),
        ([-1, 2], ValueError, "Token id -1 is out of range"),
        (list(range(49)), ValueError, "49 tokens is longer than the model's context of 48"),
        ([], ValueError, "empty"),
        (torch.zeros(1, 0, dtype=torch.long), ValueError, "empty"),
        (torch.tensor([[0.5, 1.0]]), TypeError, "integer token ids"),
        (torch.zeros(1, 2, 3, dtype=torch.long), ValueError, r"shape \[batch, pos\]"),
        ([[1, 2], [3]], TypeError, "nested lists of ints"),
        ("hello", TypeError, "nested lists of ints"),
    ],
)
def test_bad_tokens_get_a_clear_error(tokens: object, error: type, message: str) -> None:
    model = tiny_model()
    with pytest.raises(error, match=message):
        model(tokens)  # type: ignore[arg-type]
    with pytest.raises(error, match=message):
        model.run_with_cache(tokens)  # type: ignore[arg-type]


def test_bad_attention_mask() -> None:
    model = tiny_model()
    tokens = torch.tensor([[1, 2, 3]])
    with pytest.raises(ValueError, match="expected \\(1, 3\\)"):
        model(tokens, attention_mask=torch.ones(1, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="only 0"):
        model(tokens, attention_mask=torch.tensor([[0, 2, 1]]))
    with pytest.raises(ValueError, match="at least one unmasked"):
        model(tokens, attention_mask=torch.zeros(1, 3, dtype=torch.long))


def test_bad_stop_layer() -> None:
    with pytest.raises(ValueError, match="stop_layer <= 2"):
        tiny_model()([1, 2], stop_at_layer=3)

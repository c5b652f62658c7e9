"""Tiny temperatures sample greedily instead of dividing by (float32) zero; probabilities that are
not finite are refused before they reach the sampler."""

from __future__ import annotations

import pytest
import torch

from neuron_explainer.models.generation import MIN_TEMPERATURE, sample
from tests.models.tiny import tiny_model

# 1e-40 is a float32 denormal (flushed to 0 here), 1e-300 underflows float32, 5e-324 is the
# smallest float64; all used to give "probability tensor contains inf, nan or element < 0".
TINY_TEMPERATURES = [1e-300, 1e-40, 5e-324, MIN_TEMPERATURE / 2]


@pytest.mark.parametrize("temperature", TINY_TEMPERATURES)
def test_tiny_temperatures_are_greedy(temperature: float) -> None:
    logits = torch.tensor([[0.1, 3.0, -2.0, 2.9], [50.0, -10.0, 49.0, 0.0]])
    assert sample(logits, temperature, 1.0).tolist() == [1, 0]
    assert sample(logits, temperature, 0.5).tolist() == [1, 0]


@pytest.mark.parametrize("temperature", TINY_TEMPERATURES)
def test_generate_at_tiny_temperature_equals_greedy(temperature: float) -> None:
    model = tiny_model()
    greedy = model.generate([1, 2, 3], max_new_tokens=8)
    tiny = model.generate([1, 2, 3], max_new_tokens=8, temperature=temperature, seed=0)
    assert tiny.tolist() == greedy.tolist()


def test_small_temperatures_above_the_floor_do_not_overflow() -> None:
    # Large logits over a small temperature: 1e4 / 1e-5 = 1e9 overflows exp without the shift.
    logits = torch.tensor([[1e4, 1e4 - 1.0, -1e4]])
    gen = torch.Generator().manual_seed(0)
    assert int(sample(logits, MIN_TEMPERATURE * 10, 1.0, gen)) == 0
    # Two exact ties stay a fair draw between them, whatever the temperature above the floor.
    ties = torch.tensor([[7.0, 7.0, -3.0]])
    draws = {int(sample(ties, MIN_TEMPERATURE * 10, 1.0, gen)) for _ in range(100)}
    assert draws == {0, 1}


@pytest.mark.parametrize("bad", [float("nan"), float("-inf")])
def test_non_finite_probabilities_are_refused(bad: float) -> None:
    logits = torch.full((1, 4), bad)
    with pytest.raises(ValueError, match="non-finite probabilities"):
        sample(logits, 1.0, 1.0)


@pytest.mark.parametrize("temperature", [float("nan"), float("inf")])
def test_non_finite_temperatures_are_refused(temperature: float) -> None:
    with pytest.raises(ValueError, match="finite number >= 0"):
        tiny_model().generate([1], temperature=temperature)

from __future__ import annotations

import pytest
import torch

from neuron_explainer.models import pad_batch
from neuron_explainer.models.generation import sample
from tests.models.tiny import tiny_model

ATOL = 1e-5
PROMPTS = [[5, 9, 2], [7, 1, 4, 4, 8, 3, 11], [60], [3, 3, 3, 3, 3]]


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("attn_only", [False, True])
def test_padded_batch_equals_one_prompt_at_a_time(side: str, attn_only: bool) -> None:
    model = tiny_model(attn_only=attn_only)
    tokens, mask = pad_batch(PROMPTS, pad_token_id=0, side=side)
    batched = model(tokens, attention_mask=mask)
    _, cache = model.run_with_cache(tokens, attention_mask=mask)  # explicit attention path
    for i, prompt in enumerate(PROMPTS):
        alone = model(torch.tensor(prompt))[0]
        rows = mask[i].bool()
        assert torch.allclose(batched[i, rows], alone, atol=ATOL)
        _, alone_cache = model.run_with_cache(torch.tensor(prompt))
        for name in ("blocks.1.hook_resid_post", "blocks.0.attn.hook_z"):
            assert torch.allclose(cache[name][i, rows], alone_cache[name][0], atol=ATOL)


@pytest.mark.parametrize("attn_only", [False, True])
def test_kv_cache_generation_equals_uncached(attn_only: bool) -> None:
    model = tiny_model(attn_only=attn_only)
    tokens, mask = pad_batch(PROMPTS, side="left")
    cached = model.generate(tokens, attention_mask=mask, max_new_tokens=20)
    uncached = model.generate(tokens, attention_mask=mask, max_new_tokens=20, use_cache=False)
    assert cached.tolist() == uncached.tolist()
    assert len(set(cached[1, -20:].tolist())) > 1
    for kwargs in (dict(temperature=0.8, seed=7), dict(temperature=1.0, top_p=0.5, seed=7)):
        a = model.generate(tokens, attention_mask=mask, max_new_tokens=15, **kwargs)
        b = model.generate(
            tokens, attention_mask=mask, max_new_tokens=15, use_cache=False, **kwargs
        )
        assert a.tolist() == b.tolist()


def test_batched_generation_equals_single_prompt_generation() -> None:
    model = tiny_model()
    tokens, mask = pad_batch(PROMPTS, side="left")
    batched = model.generate(tokens, attention_mask=mask, max_new_tokens=10)
    for i, prompt in enumerate(PROMPTS):
        alone = model.generate(prompt, max_new_tokens=10)
        assert batched[i, -10:].tolist() == alone[0, -10:].tolist()


def test_seed_makes_sampling_reproducible() -> None:
    model = tiny_model()
    a = model.generate([1, 2, 3], max_new_tokens=12, temperature=1.0, seed=1)
    b = model.generate([1, 2, 3], max_new_tokens=12, temperature=1.0, seed=1)
    c = model.generate([1, 2, 3], max_new_tokens=12, temperature=1.0, seed=2)
    assert a.tolist() == b.tolist()
    assert a.tolist() != c.tolist()


def test_top_p_keeps_only_the_nucleus() -> None:
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    gen = torch.Generator().manual_seed(0)
    draws = {int(sample(logits, 1.0, 0.7, gen)) for _ in range(300)}
    assert draws == {0, 1}
    assert int(sample(logits, 1.0, 0.01, gen)) == 0
    assert int(sample(logits, 0.0, 1.0)) == 0


def test_generation_arguments_are_checked() -> None:
    model = tiny_model()
    with pytest.raises(ValueError, match="exceeds the model's context of 48"):
        model.generate(list(range(40)), max_new_tokens=10)
    with pytest.raises(ValueError, match="temperature"):
        model.generate([1], temperature=-1.0)
    with pytest.raises(ValueError, match="top_p"):
        model.generate([1], top_p=0.0)
    with pytest.raises(ValueError, match="max_new_tokens"):
        model.generate([1], max_new_tokens=-1)


def test_pad_batch_validates() -> None:
    with pytest.raises(ValueError, match="side"):
        pad_batch([[1]], side="middle")
    with pytest.raises(ValueError, match="empty"):
        pad_batch([[1], []])

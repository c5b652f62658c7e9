"""Logits and greedy tokens equal Hugging Face GPT2LMHeadModel on the same random weights."""

from __future__ import annotations

import torch

from neuron_explainer.models import Transformer

LOGIT_ATOL = 1e-4
N_GREEDY = 20


def _compare(hf_model, directory, prompt_len: int, batch: int = 2) -> None:
    ours = Transformer.from_pretrained(str(directory))
    torch.manual_seed(1)
    tokens = torch.randint(0, ours.cfg.d_vocab, (batch, prompt_len))
    with torch.no_grad():
        expected = hf_model(tokens).logits
        actual = ours(tokens)
    assert actual.shape == expected.shape
    assert (actual - expected).abs().max().item() <= LOGIT_ATOL

    prompt = tokens[:1, :8]
    with torch.no_grad():
        hf_tokens = hf_model.generate(
            prompt,
            attention_mask=torch.ones_like(prompt),
            max_new_tokens=N_GREEDY,
            do_sample=False,
            pad_token_id=0,
        )
    our_tokens = ours.generate(prompt, max_new_tokens=N_GREEDY)
    assert our_tokens.tolist() == hf_tokens.tolist()
    # The weights must not make greedy decoding trivial, or the comparison says little.
    assert len(set(our_tokens[0, 8:].tolist())) > 1


def test_tiny_config_matches_hf(tiny_hf) -> None:
    _compare(*tiny_hf, prompt_len=40, batch=3)


def test_gpt2_small_shape_matches_hf(small_hf) -> None:
    _compare(*small_hf, prompt_len=64)


def test_untied_unembedding_matches_hf(tmp_path) -> None:
    from tests.models.conftest import TINY, make_hf_model, save_hf

    hf_model = make_hf_model(TINY, initializer_range=0.2, tie_word_embeddings=False)
    with torch.no_grad():
        hf_model.lm_head.weight.normal_(0, 0.2)
    assert hf_model.lm_head.weight.data_ptr() != hf_model.transformer.wte.weight.data_ptr()
    directory = save_hf(hf_model, tmp_path)
    ours = Transformer.from_pretrained(str(directory))
    assert not ours.cfg.tied_embeddings
    tokens = torch.randint(0, ours.cfg.d_vocab, (2, 16))
    with torch.no_grad():
        assert (ours(tokens) - hf_model(tokens).logits).abs().max().item() <= LOGIT_ATOL

from __future__ import annotations

import pytest
import torch

from neuron_explainer.models.weight_processing import process_weights
from tests.models.tiny import tiny_model

LOGPROB_ATOL = 1e-4
OPTIONS = [
    dict(fold_ln=True, center_writing_weights=False, center_unembed=False),
    dict(fold_ln=False, center_writing_weights=True, center_unembed=False),
    dict(fold_ln=False, center_writing_weights=False, center_unembed=True),
    dict(fold_ln=True, center_writing_weights=True, center_unembed=True),
]


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("attn_only", [False, True])
def test_processing_preserves_the_output_distribution(options: dict, attn_only: bool) -> None:
    model = tiny_model(attn_only=attn_only)
    tokens = torch.randint(0, model.cfg.d_vocab, (2, 12))
    before = model(tokens).log_softmax(-1)
    processed = process_weights(model, **options)
    after = processed(tokens).log_softmax(-1)
    assert (after - before).abs().max().item() <= LOGPROB_ATOL
    assert not processed.cfg.tied_embeddings
    assert processed.cfg.normalization == ("LNPre" if options["fold_ln"] else "LN")
    # The original model is left untouched.
    assert torch.equal(model(tokens).log_softmax(-1), before)


def test_processed_weights_have_the_documented_properties() -> None:
    processed = process_weights(tiny_model())
    assert processed.W_E.mean(-1).abs().max() < 1e-5
    assert processed.blocks[0].attn.W_O.mean(-1).abs().max() < 1e-5
    assert processed.W_U.mean(-1).abs().max() < 1e-5
    assert processed.blocks[0].ln1.w is None
    with pytest.raises(ValueError, match="fold_ln"):
        process_weights(processed)


def test_processing_via_from_pretrained(tmp_path) -> None:
    from neuron_explainer.models import Transformer

    model = tiny_model()
    model.save_pretrained(str(tmp_path))
    processed = Transformer.from_pretrained(str(tmp_path), fold_ln=True, center_unembed=True)
    assert processed.cfg.normalization == "LNPre"
    tokens = torch.randint(0, 97, (1, 9))
    diff = processed(tokens).log_softmax(-1) - model(tokens).log_softmax(-1)
    assert diff.abs().max().item() <= LOGPROB_ATOL

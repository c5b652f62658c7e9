"""Every hook equals TransformerLens HookedTransformer's (no weight processing), same weights."""

from __future__ import annotations

import pytest
import torch

from neuron_explainer.models import Transformer

tl = pytest.importorskip("transformer_lens")
from transformer_lens.pretrained.weight_conversions import convert_gpt2_weights  # noqa: E402

HOOK_ATOL = 1e-4


def _tl_model(hf_model) -> tl.HookedTransformer:
    hf_cfg = hf_model.config
    cfg = tl.HookedTransformerConfig(
        n_layers=hf_cfg.n_layer,
        d_model=hf_cfg.n_embd,
        n_heads=hf_cfg.n_head,
        d_head=hf_cfg.n_embd // hf_cfg.n_head,
        d_mlp=4 * hf_cfg.n_embd,
        n_ctx=hf_cfg.n_positions,
        d_vocab=hf_cfg.vocab_size,
        act_fn="gelu_new",
        normalization_type="LN",
        eps=hf_cfg.layer_norm_epsilon,
        default_prepend_bos=False,
    )
    model = tl.HookedTransformer(cfg)
    model.load_and_process_state_dict(
        convert_gpt2_weights(hf_model, cfg),
        fold_ln=False,
        center_writing_weights=False,
        center_unembed=False,
        fold_value_biases=False,
        refactor_factored_attn_matrices=False,
    )
    return model.eval()


def _max_diff(name: str, ours: torch.Tensor, theirs: torch.Tensor) -> float:
    assert ours.shape == theirs.shape, f"{name}: {tuple(ours.shape)} vs {tuple(theirs.shape)}"
    if name.endswith("hook_attn_scores"):
        causal = torch.ones(ours.shape[-2:], dtype=torch.bool).tril()
        ours, theirs = ours[..., causal], theirs[..., causal]
    return (ours - theirs).abs().max().item()


@pytest.mark.parametrize("fixture", ["tiny_hf", "small_hf"])
def test_every_hook_matches_transformer_lens(fixture: str, request: pytest.FixtureRequest) -> None:
    hf_model, directory = request.getfixturevalue(fixture)
    ours = Transformer.from_pretrained(str(directory))
    theirs = _tl_model(hf_model)
    tokens = torch.randint(0, ours.cfg.d_vocab, (2, 24), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        our_logits, our_cache = ours.run_with_cache(tokens)
        tl_logits, tl_cache = theirs.run_with_cache(tokens)
    assert set(our_cache) <= set(tl_cache.cache_dict), set(our_cache) - set(tl_cache.cache_dict)
    # Every site DESIGN.md lists must be there.
    assert {"hook_embed", "blocks.0.ln1.hook_scale", "blocks.0.attn.hook_pattern"} <= set(our_cache)
    diffs = {name: _max_diff(name, our_cache[name], tl_cache[name]) for name in our_cache}
    worst = max(diffs, key=lambda n: diffs[n])
    assert diffs[worst] <= HOOK_ATOL, f"{worst}: max |diff| {diffs[worst]}"
    assert (our_logits - tl_logits).abs().max().item() <= HOOK_ATOL

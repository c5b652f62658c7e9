"""Logit lens and direct logit attribution: exact against the model's own logits, and equal to
TransformerLens's `accumulated_resid` / `logit_attrs` on the same weights."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor

from neuron_explainer.activations.logit_lens import (
    direct_logit_attribution,
    lens_sites,
    logit_lens,
)
from neuron_explainer.models import Transformer
from neuron_explainer.models.weight_processing import process_weights
from tests.activations.helpers import PROMPT, CharTokenizer
from tests.models.tiny import tiny_model

ATOL = 1e-4  # float32 models; measured deviations are ~1e-6
POSITION = 4
TARGETS, DISTRACTORS = [11, 40], [29]


def char_model(attn_only: bool) -> Transformer:
    model = tiny_model(0, attn_only=attn_only)
    model.tokenizer = CharTokenizer()
    return model


def real_logits(model: Transformer, position: int = POSITION) -> Tensor:
    with torch.no_grad():
        logits: Tensor = model(torch.tensor([PROMPT]))
    return logits[0, position]


def real_difference(model: Transformer, position: int = POSITION) -> float:
    at = real_logits(model, position)
    return float(at[TARGETS].mean() - at[DISTRACTORS].mean())


def full_logits(layer_top: tuple, d_vocab: int) -> Tensor:
    out = torch.full((d_vocab,), float("nan"))
    for t in layer_top:
        out[t.token] = t.logit
    return out


@pytest.mark.parametrize("attn_only", [False, True])
def test_lens_last_entry_is_the_model_logits(attn_only: bool) -> None:
    model = char_model(attn_only)
    d_vocab = model.cfg.d_vocab
    lens = logit_lens(
        model, PROMPT, POSITION, top_n=d_vocab, targets=TARGETS, distractors=DISTRACTORS
    )
    expected = ["embed", "0_mid", "0_post", "1_mid", "1_post"]
    if attn_only:
        expected = ["embed", "0_post", "1_post"]
    assert [layer.label for layer in lens] == expected
    real = real_logits(model)
    last = lens[-1]
    assert (full_logits(last.top, d_vocab) - real).abs().max().item() <= ATOL
    assert [t.token for t in last.top] == real.argsort(descending=True).tolist()
    assert last.logit_difference is not None
    assert abs(last.logit_difference - real_difference(model)) <= ATOL
    assert abs(sum(t.probability for t in last.top) - 1.0) <= ATOL
    for layer in lens:  # each layer: ranked, probabilities of its own softmax, its own difference
        logits = full_logits(layer.top, d_vocab)
        assert [t.logit for t in layer.top] == sorted((t.logit for t in layer.top), reverse=True)
        probs = logits.double().softmax(-1)
        assert max(abs(t.probability - float(probs[t.token])) for t in layer.top) <= ATOL
        difference = float(logits[TARGETS].mean() - logits[DISTRACTORS].mean())
        assert layer.logit_difference is not None
        assert abs(layer.logit_difference - difference) <= ATOL


def test_lens_top_n_strings_and_text_prompt() -> None:
    model = char_model(False)
    text = "".join(chr(t + 32) for t in PROMPT)
    lens = logit_lens(model, text, -1, top_n=3)
    assert lens == logit_lens(model, torch.tensor(PROMPT), len(PROMPT) - 1, top_n=3)
    for layer in lens:
        assert len(layer.top) == 3
        assert layer.logit_difference is None
        assert all(t.string == chr(t.token + 32) for t in layer.top if t.token < 95)
    model.tokenizer = None
    assert logit_lens(model, PROMPT, 0, top_n=1)[0].top[0].string.startswith("<")


def test_dla_sums_to_the_logit_difference_and_orders_components() -> None:
    for attn_only in (False, True):
        model = char_model(attn_only)
        rows = direct_logit_attribution(model, PROMPT, TARGETS, DISTRACTORS, POSITION)
        total = sum(r.contribution for r in rows)
        assert abs(total - real_difference(model)) <= ATOL
        labels = [r.label for r in rows]
        layer = ["L{L}H0", "L{L}H1", "L{L}H2", "L{L}H3", "{L}_attn_bias"]
        layer += [] if attn_only else ["{L}_mlp_out"]
        expected = ["embed", "pos_embed"]
        for n in range(model.cfg.n_layers):
            expected += [label.format(L=n) for label in layer]
        assert labels == [*expected, "ln_final_bias", "unembed_bias"]


def test_dla_is_unchanged_by_folding_the_layer_norms() -> None:
    """Folding moves ln_final's weight into W_U and its bias into b_U; components stay."""
    model = char_model(False)
    folded = process_weights(
        model, fold_ln=True, center_writing_weights=False, center_unembed=False
    )
    ours = direct_logit_attribution(model, PROMPT, TARGETS, DISTRACTORS, POSITION)
    theirs = direct_logit_attribution(folded, PROMPT, TARGETS, DISTRACTORS, POSITION)
    for a, b in zip(ours[:-2], theirs[:-2], strict=True):
        assert a.label == b.label
        assert abs(a.contribution - b.contribution) <= ATOL
    assert theirs[-2].contribution == 0.0  # LNPre has no bias
    assert abs(sum(r.contribution for r in theirs) - real_difference(model)) <= ATOL


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda m: logit_lens(m, PROMPT, len(PROMPT)), "outside a prompt"),
        (lambda m: logit_lens(m, PROMPT, -len(PROMPT) - 1), "outside a prompt"),
        (lambda m: logit_lens(m, PROMPT, 0, top_n=0), "top_n"),
        (lambda m: logit_lens(m, PROMPT, 0, targets=[3]), "at least one target"),
        (lambda m: logit_lens(m, PROMPT, 0, targets=["ab"], distractors=[3]), "single token"),
        (lambda m: logit_lens(m, torch.tensor([PROMPT, PROMPT]), 0), "one prompt"),
        (lambda m: direct_logit_attribution(m, PROMPT, [], [3], 0), "at least one target"),
        (lambda m: direct_logit_attribution(m, PROMPT, [3, 4], [4], 0), "overlap"),
        (lambda m: direct_logit_attribution(m, PROMPT, [3], [500], 0), "out of range"),
        (lambda m: direct_logit_attribution(m, PROMPT, [3], [4], 99), "outside a prompt"),
    ],
)
def test_bad_input_raises(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(char_model(False))


# ---- TransformerLens reference -----------------------------------------------------------------


def tl_model(model: Transformer):  # -> transformer_lens.HookedTransformer
    """Our weights in a HookedTransformer. Its `logit_attrs` reads the raw W_U without
    ln_final's weight, so the final LayerNorm is folded (fold_ln) and the comparison holds."""
    tl = pytest.importorskip("transformer_lens")
    cfg = model.cfg
    tl_cfg = tl.HookedTransformerConfig(
        n_layers=cfg.n_layers,
        d_model=cfg.d_model,
        n_heads=cfg.n_heads,
        d_head=cfg.d_head,
        d_mlp=None if cfg.attn_only else cfg.d_mlp,
        n_ctx=cfg.n_ctx,
        d_vocab=cfg.d_vocab,
        act_fn=cfg.act_fn,
        normalization_type="LN",
        eps=cfg.ln_eps,
        attn_only=cfg.attn_only,
        default_prepend_bos=False,
    )
    sd = {
        "embed.W_E": model.W_E,
        "pos_embed.W_pos": model.W_pos,
        "ln_final.w": model.ln_final.w,
        "ln_final.b": model.ln_final.b,
        "unembed.W_U": model.W_U,
        "unembed.b_U": model.b_U,
    }
    for n, block in enumerate(model.blocks):
        for name in ("ln1.w", "ln1.b", "ln2.w", "ln2.b", "mlp.W_in", "mlp.b_in", "mlp.W_out"):
            if not (cfg.attn_only and name[:3] in ("ln2", "mlp")):
                module, param = name.split(".")
                sd[f"blocks.{n}.{name}"] = getattr(getattr(block, module), param)
        if not cfg.attn_only:
            sd[f"blocks.{n}.mlp.b_out"] = block.mlp.b_out
        for name in ("W_Q", "W_K", "W_V", "W_O", "b_Q", "b_K", "b_V", "b_O"):
            sd[f"blocks.{n}.attn.{name}"] = getattr(block.attn, name)
    reference = tl.HookedTransformer(tl_cfg)
    reference.load_and_process_state_dict(
        {k: v.detach().clone() for k, v in sd.items()},
        fold_ln=True,
        center_writing_weights=False,
        center_unembed=False,
        fold_value_biases=False,
        refactor_factored_attn_matrices=False,
    )
    return reference.eval()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("attn_only", [False, True])
def test_matches_transformer_lens(attn_only: bool) -> None:
    model = char_model(attn_only)
    reference = tl_model(model)
    with torch.no_grad():
        _, cache = reference.run_with_cache(torch.tensor([PROMPT]))
        # Logit lens: each accumulated residual normalised by its own statistics.
        acc = cache.accumulated_resid(incl_mid=not attn_only, pos_slice=POSITION)
        normed = cache.apply_ln_to_stack(acc, pos_slice=POSITION, recompute_ln=True)
        tl_lens = normed[:, 0] @ reference.W_U + reference.b_U  # [site, d_vocab]
        # DLA: heads, then embeddings and MLPs, then the attention biases.
        heads, head_labels = cache.stack_head_results(pos_slice=POSITION, return_labels=True)
        rest, rest_labels = cache.decompose_resid(
            pos_slice=POSITION, mode="mlp", return_labels=True
        )
        biases = torch.stack([b.attn.b_O[None] for b in reference.blocks])
        stack = torch.cat([heads, rest, biases])
        labels = head_labels + rest_labels + [f"{n}_attn_bias" for n in range(model.cfg.n_layers)]

        def attrs(tokens: list[int]) -> Tensor:
            per_token = [cache.logit_attrs(stack, tokens=t, pos_slice=POSITION) for t in tokens]
            return torch.stack(per_token).mean(0)[:, 0]

        tl_dla = dict(zip(labels, (attrs(TARGETS) - attrs(DISTRACTORS)).tolist(), strict=True))

    d_vocab = model.cfg.d_vocab
    lens = logit_lens(model, PROMPT, POSITION, top_n=d_vocab)
    assert len(lens) == len(lens_sites(model.cfg)) == tl_lens.shape[0]
    for layer, theirs in zip(lens, tl_lens, strict=True):
        assert (full_logits(layer.top, d_vocab) - theirs).abs().max().item() <= ATOL, layer.label

    rows = direct_logit_attribution(model, PROMPT, TARGETS, DISTRACTORS, POSITION)
    ours = {
        r.label: r.contribution for r in rows if r.kind not in ("ln_final_bias", "unembed_bias")
    }
    assert set(ours) == set(tl_dla)
    worst = max(ours, key=lambda label: abs(ours[label] - tl_dla[label]))
    assert abs(ours[worst] - tl_dla[worst]) <= ATOL, f"{worst}: {ours[worst]} vs {tl_dla[worst]}"

from __future__ import annotations

import pytest
import torch

from neuron_explainer.models import HookPoint
from tests.models.tiny import tiny_model

ATOL = 1e-5


def _no_hooks_attached(model) -> bool:
    return not model.hook_points.any_attached()


def test_hook_names_and_shapes() -> None:
    model = tiny_model()
    cfg = model.cfg
    tokens = torch.randint(0, cfg.d_vocab, (3, 10))
    _, cache = model.run_with_cache(tokens)
    assert set(cache) == set(model.hook_names())
    b, p, h, dh = 3, 10, cfg.n_heads, cfg.d_head
    assert cache["blocks.0.attn.hook_q"].shape == (b, p, h, dh)
    assert cache["blocks.1.attn.hook_z"].shape == (b, p, h, dh)
    assert cache["blocks.0.attn.hook_attn_scores"].shape == (b, h, p, p)
    assert cache["blocks.0.attn.hook_pattern"].shape == (b, h, p, p)
    assert cache["blocks.1.mlp.hook_post"].shape == (b, p, cfg.d_mlp)
    assert cache["blocks.0.ln1.hook_scale"].shape == (b, p, 1)
    assert cache["ln_final.hook_normalized"].shape == (b, p, cfg.d_model)
    assert cache["hook_pos_embed"].shape == (b, p, cfg.d_model)
    pattern = cache["blocks.0.attn.hook_pattern"]
    assert torch.allclose(pattern.sum(-1), torch.ones(b, h, p), atol=ATOL)
    assert (pattern.triu(1) == 0).all()  # causal


def test_attn_only_model_has_no_mlp_hooks() -> None:
    names = tiny_model(attn_only=True).hook_names()
    assert not any("mlp" in n or "resid_mid" in n or "ln2" in n for n in names)
    assert "blocks.1.hook_resid_post" in names


def test_cache_is_consistent_with_residual_arithmetic() -> None:
    model = tiny_model()
    logits, cache = model.run_with_cache(torch.randint(0, 97, (2, 7)))
    for layer in range(2):
        p = f"blocks.{layer}."
        mid = cache[p + "hook_resid_pre"] + cache[p + "hook_attn_out"]
        assert torch.allclose(mid, cache[p + "hook_resid_mid"], atol=ATOL)
        post = mid + cache[p + "hook_mlp_out"]
        assert torch.allclose(post, cache[p + "hook_resid_post"], atol=ATOL)
    assert torch.allclose(model.unembed(cache["blocks.1.hook_resid_post"]), logits, atol=ATOL)


def test_forward_edit_changes_output_as_expected() -> None:
    model = tiny_model()
    tokens = torch.randint(0, 97, (2, 9))

    def zero_resid(x: torch.Tensor, hook: HookPoint) -> torch.Tensor:
        return torch.zeros_like(x)

    edited = model.run_with_hooks(tokens, fwd_hooks=[("blocks.0.hook_resid_post", zero_resid)])
    zeros = torch.zeros(2, 9, model.cfg.d_model)
    expected = model.unembed(model.run_blocks(zeros, start_layer=1))
    assert torch.allclose(edited, expected, atol=ATOL)
    assert not torch.allclose(edited, model(tokens), atol=1e-2)
    assert _no_hooks_attached(model)


def test_pattern_edit_takes_the_explicit_attention_path() -> None:
    model = tiny_model()
    tokens = torch.randint(0, 97, (1, 6))

    def attend_to_first(pattern: torch.Tensor, hook: HookPoint) -> torch.Tensor:
        out = torch.zeros_like(pattern)
        out[..., 0] = 1.0
        return out

    edited_cache: dict[str, torch.Tensor] = {}

    def save(x: torch.Tensor, hook: HookPoint) -> None:
        edited_cache[hook.name] = x

    model.run_with_hooks(
        tokens,
        fwd_hooks=[("blocks.0.attn.hook_pattern", attend_to_first), ("blocks.0.attn.hook_z", save)],
    )
    z = edited_cache["blocks.0.attn.hook_z"]
    # Every position now copies position 0's value vector.
    assert torch.allclose(z, z[:, :1].expand_as(z), atol=ATOL)


def test_backward_hooks_receive_gradients() -> None:
    model = tiny_model()
    tokens = torch.randint(0, 97, (2, 8))
    grads: dict[str, torch.Tensor] = {}

    def save_grad(g: torch.Tensor, hook: HookPoint) -> None:
        grads[hook.name] = g

    logits, cache = model.run_with_cache(
        tokens, names_filter="blocks.1.mlp.hook_post", detach=False
    )
    post = cache["blocks.1.mlp.hook_post"]
    post.retain_grad()
    logits[:, -1, 5].sum().backward()
    expected = post.grad

    model.zero_grad()
    logits = model.run_with_hooks(tokens, bwd_hooks=[("blocks.1.mlp.hook_post", save_grad)])
    assert _no_hooks_attached(model)
    logits[:, -1, 5].sum().backward()
    assert torch.allclose(grads["blocks.1.mlp.hook_post"], expected, atol=ATOL)

    # A later forward pass is untouched by the earlier backward hook.
    grads.clear()
    model(tokens)[:, -1, 5].sum().backward()
    assert grads == {}


def test_backward_hook_can_replace_gradient() -> None:
    model = tiny_model()
    tokens = torch.randint(0, 97, (1, 5))

    def kill(g: torch.Tensor, hook: HookPoint) -> torch.Tensor:
        return torch.zeros_like(g)

    model.zero_grad()
    model.run_with_hooks(tokens, bwd_hooks=[("hook_pos_embed", kill)])[0, -1, 0].backward()
    assert model.W_pos.grad is not None and model.W_pos.grad.abs().max() == 0


def test_hooks_removed_after_exception() -> None:
    model = tiny_model()

    def boom(x: torch.Tensor, hook: HookPoint) -> None:
        raise RuntimeError("hook failed")

    with pytest.raises(RuntimeError, match="hook failed"):
        model.run_with_hooks([1, 2, 3], fwd_hooks=[("blocks.1.hook_resid_pre", boom)])
    assert _no_hooks_attached(model)
    with (
        pytest.raises(RuntimeError, match="inside"),
        model.hooks(fwd_hooks=[(lambda n: True, lambda x, h: None)]),
    ):
        assert model.hook_points.any_attached()
        raise RuntimeError("inside")
    assert _no_hooks_attached(model)


def test_hooks_context_and_name_filters() -> None:
    model = tiny_model()
    seen: list[str] = []
    with model.hooks(
        fwd_hooks=[(lambda n: n.endswith("hook_pattern"), lambda x, h: seen.append(h.name))]
    ):
        model([1, 2, 3])
        model([4, 5])
    assert seen == ["blocks.0.attn.hook_pattern", "blocks.1.attn.hook_pattern"] * 2
    _, cache = model.run_with_cache([1, 2], names_filter=["blocks.0.hook_mlp_out", "hook_embed"])
    assert set(cache) == {"blocks.0.hook_mlp_out", "hook_embed"}


def test_unknown_hook_name_suggests_close_names() -> None:
    model = tiny_model()
    with pytest.raises(KeyError, match=r"blocks\.0\.attn\.hook_pattern"):
        model.run_with_hooks([1], fwd_hooks=[("blocks.0.attn.hook_patern", lambda x, h: None)])
    with pytest.raises(KeyError, match="Unknown hook name"):
        model.run_with_cache([1], names_filter=["no_such_hook"])
    assert _no_hooks_attached(model)


def test_bad_hook_return_values_raise() -> None:
    model = tiny_model()
    with pytest.raises(ValueError, match="returned shape"):
        model.run_with_hooks([1, 2], fwd_hooks=[("hook_embed", lambda x, h: x[:, :1])])
    with pytest.raises(TypeError, match="return a Tensor"):
        model.run_with_hooks([1, 2], fwd_hooks=[("hook_embed", lambda x, h: 3.0)])  # type: ignore[arg-type, return-value]
    with (
        pytest.raises(TypeError, match=r"name_or_filter, fn|fwd_hooks"),
        model.hooks(fwd_hooks=["hook_embed"]),  # type: ignore[list-item]
    ):
        pass
    assert _no_hooks_attached(model)


def test_staged_forward_equals_full_forward() -> None:
    model = tiny_model()
    tokens = torch.randint(0, 97, (2, 11))
    full = model(tokens)
    resid = model(tokens, stop_at_layer=1)
    _, cache = model.run_with_cache(tokens, names_filter="blocks.1.hook_resid_pre")
    assert torch.allclose(resid, cache["blocks.1.hook_resid_pre"], atol=ATOL)
    staged = model.unembed(model.run_blocks(resid, start_layer=1))
    assert torch.allclose(staged, full, atol=ATOL)
    with pytest.raises(ValueError, match="start_layer"):
        model.run_blocks(resid, start_layer=2, stop_layer=1)


def test_hooks_apply_during_generation() -> None:
    model = tiny_model()
    prompt = torch.randint(0, 97, (1, 5))
    steps: list[int] = []
    forced = 13

    def force_token(logit_input: torch.Tensor, hook: HookPoint) -> torch.Tensor:
        return torch.zeros_like(logit_input)

    def count_positions(x: torch.Tensor, hook: HookPoint) -> None:
        steps.append(x.shape[1])

    # Zeroing the normalized final residual (with a zero LN bias) leaves logits equal to b_U.
    with torch.no_grad():
        assert model.ln_final.b is not None
        model.ln_final.b.zero_()
        model.b_U.zero_()
        model.b_U[forced] = 1.0
    out = model.generate(
        prompt,
        max_new_tokens=4,
        fwd_hooks=[
            ("ln_final.hook_normalized", force_token),
            ("blocks.0.hook_resid_pre", count_positions),
        ],
    )
    assert out[0, 5:].tolist() == [forced] * 4
    assert steps == [5, 1, 1, 1]  # the cache feeds one new position per step
    assert _no_hooks_attached(model)

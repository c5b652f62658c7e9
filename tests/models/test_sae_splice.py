from __future__ import annotations

import pytest
import torch
from torch import Tensor

from neuron_explainer.models import HookPoint, Transformer
from neuron_explainer.models.sae_splice import (
    attach_sae,
    detach_sae,
    splice_saes,
    spliced_saes,
)
from neuron_explainer.models.sites import SAE_KINDS
from neuron_explainer.models.sparse_autoencoder import SaeConfig, SparseAutoencoder
from tests.models.tiny import TINY_CFG, tiny_model

# Logits of a spliced model equal the original ones up to float32 rounding of x - x_hat + x_hat.
LOGIT_ATOL = 1e-5
GRAD_ATOL = 1e-5
# An ablation that is supposed to matter must move some logit by at least this much.
MIN_EFFECT = 1e-3
SITES = [
    "blocks.0.hook_resid_pre",
    "blocks.1.hook_resid_mid",
    "blocks.0.hook_resid_post",
    "blocks.1.hook_attn_out",
    "blocks.0.hook_mlp_out",
    "blocks.1.mlp.hook_pre",
    "blocks.0.mlp.hook_post",
]


def make_sae(d_in: int, architecture: str = "relu", seed: int = 0) -> SparseAutoencoder:
    """A random autoencoder with biases, so its reconstruction error is large."""
    torch.manual_seed(seed)
    k = 6 if architecture == "topk" else None
    sae = SparseAutoencoder(SaeConfig(architecture, d_in, 3 * d_in, k=k))
    with torch.no_grad():
        sae.b_enc.normal_(0.1, 0.3)
        sae.b_dec.normal_(0.0, 0.3)
    return sae


def width(site: str) -> int:
    return TINY_CFG.d_mlp if ".mlp." in site else TINY_CFG.d_model


def tokens() -> Tensor:
    return torch.randint(0, TINY_CFG.d_vocab, (2, 9), generator=torch.Generator().manual_seed(1))


def sae_names(model: Transformer) -> list[str]:
    return [n for n in model.hook_names() if ".hook_sae_" in n]


def assert_clean(model: Transformer, names_before: list[str]) -> None:
    assert model.hook_names() == names_before
    assert not any(p.splice is not None for p in model.hook_points.resolve(lambda _: True))
    assert spliced_saes(model) == {}


@pytest.mark.parametrize("site", SITES)
def test_splice_leaves_logits_unchanged(site: str) -> None:
    model, toks = tiny_model(), tokens()
    names_before = model.hook_names()
    with torch.no_grad():
        expected = model(toks)
        with splice_saes(model, {site: make_sae(width(site))}) as splices:
            idle = model(toks)  # nothing observes the latents: the splice passes x through
            logits, cache = model.run_with_cache(toks)  # observed: the autoencoder runs
    assert (idle - expected).abs().max() == 0
    assert (logits - expected).abs().max() <= LOGIT_ATOL
    assert set(splices) == {site}
    assert {f"{site}.{s}" for s in SAE_KINDS.values()} <= set(cache)
    x = cache[f"{site}.hook_sae_input"]
    assert (x - cache[site]).abs().max() <= LOGIT_ATOL
    error = cache[f"{site}.hook_sae_error"]
    assert error.abs().max() > MIN_EFFECT  # the autoencoder is far from perfect
    assert (cache[f"{site}.hook_sae_recons"] + error - x).abs().max() <= LOGIT_ATOL
    assert cache[f"{site}.hook_sae_acts_post"].shape == (2, 9, 3 * width(site))
    assert_clean(model, names_before)


def test_several_autoencoders_at_once() -> None:
    model, toks = tiny_model(), tokens()
    names_before = model.hook_names()
    saes = {
        "blocks.0.mlp.hook_post": make_sae(TINY_CFG.d_mlp, "topk", seed=1),
        "blocks.0.hook_resid_post": make_sae(TINY_CFG.d_model, "jumprelu", seed=2),
        "blocks.1.hook_attn_out": make_sae(TINY_CFG.d_model, "relu", seed=3),
        "blocks.1.hook_mlp_out": make_sae(TINY_CFG.d_model, "topk", seed=4),
    }
    with torch.no_grad():
        expected = model(toks)
        with splice_saes(model, saes):
            assert spliced_saes(model) == saes
            logits, cache = model.run_with_cache(toks, names_filter=lambda n: "hook_sae" in n)
    assert len(cache) == len(saes) * len(SAE_KINDS)
    assert (logits - expected).abs().max() <= LOGIT_ATOL
    topk_acts = cache["blocks.0.mlp.hook_post.hook_sae_acts_post"]
    assert int((topk_acts != 0).sum(-1).max()) <= 6
    assert_clean(model, names_before)


def test_reading_latents_without_gradients_skips_the_decoder() -> None:
    """A cache of the latents (collation's case) runs the encoder only, and the output is x."""
    site = "blocks.0.mlp.hook_post"
    model, toks, sae = tiny_model(), tokens(), make_sae(TINY_CFG.d_mlp, "topk")
    calls = []
    decode = sae.decode
    sae.decode = lambda latents: calls.append(1) or decode(latents)  # type: ignore[method-assign]
    with torch.no_grad():
        expected = model(toks)
        with splice_saes(model, {site: sae}):
            names = [site, f"{site}.hook_sae_acts_post"]
            logits, cache = model.run_with_cache(toks, names_filter=lambda n: n in names)
            assert not calls and (logits - expected).abs().max() == 0
            assert torch.equal(cache[f"{site}.hook_sae_acts_post"], sae.encode(cache[site]))
            model.run_with_cache(toks, names_filter=f"{site}.hook_sae_recons")
            assert calls  # a later hook site is observed: the full splice runs
    with splice_saes(model, {site: sae}):
        model.run_with_cache(toks, names_filter=f"{site}.hook_sae_acts_post")
    assert len(calls) == 2 + 2  # with gradients too: recons and the error term's decode


def test_ablating_a_latent_removes_its_decoder_row_from_that_position() -> None:
    site, pos = "blocks.0.hook_mlp_out", 4
    model, toks, sae = tiny_model(), tokens(), make_sae(TINY_CFG.d_model)
    with torch.no_grad(), splice_saes(model, {site: sae}):
        _, cache = model.run_with_cache(toks, names_filter=f"{site}.hook_sae_acts_post")
        acts = cache[f"{site}.hook_sae_acts_post"]
        latent = int(acts[0, pos].argmax())
        assert acts[0, pos, latent] > MIN_EFFECT

        def zero_latent(a: Tensor, hook: HookPoint) -> Tensor:
            a = a.clone()
            a[0, pos, latent] = 0.0
            return a

        ablated = model.run_with_hooks(toks, [(f"{site}.hook_sae_acts_post", zero_latent)])

    # By hand, without the autoencoder: subtract that latent's write vector at that position.
    write = acts[0, pos, latent] * sae.W_dec[latent].detach()

    def remove_write(x: Tensor, hook: HookPoint) -> Tensor:
        x = x.clone()
        x[0, pos] -= write
        return x

    with torch.no_grad():
        expected = model.run_with_hooks(toks, [(site, remove_write)])
        baseline = model(toks)
    assert (ablated - expected).abs().max() <= LOGIT_ATOL
    assert (ablated - baseline).abs().max() > MIN_EFFECT
    # Causal: positions before the ablated one are untouched.
    assert (ablated[:, :pos] - baseline[:, :pos]).abs().max() <= LOGIT_ATOL


def metric(logits: Tensor) -> Tensor:
    return logits[0, -1, 3] - logits[0, -1, 5]


def test_latents_receive_gradients() -> None:
    site = "blocks.0.mlp.hook_post"
    model, toks, sae = tiny_model(), tokens(), make_sae(TINY_CFG.d_mlp, "topk")
    grads: dict[str, Tensor] = {}

    def save_grad(g: Tensor, hook: HookPoint) -> None:
        grads[hook.name] = g

    names = [f"{site}.hook_sae_acts_post", f"{site}.hook_sae_error", site]
    with splice_saes(model, {site: sae}):
        logits, cache = model.run_with_cache(toks, names_filter=names, detach=False)
        with model.hooks(bwd_hooks=[(n, save_grad) for n in names]):
            hooked_logits = model(toks)
    metric(hooked_logits).backward()
    grad_site = grads[site]
    # d output / d latents = W_dec, and the error node sees the output's gradient.
    expected = grad_site @ sae.W_dec.detach().T
    assert (grads[f"{site}.hook_sae_acts_post"] - expected).abs().max() <= GRAD_ATOL
    assert (grads[f"{site}.hook_sae_error"] - grad_site).abs().max() <= GRAD_ATOL
    assert grad_site.abs().max() > MIN_EFFECT
    # The same through autograd on the cached latents.
    acts = cache[f"{site}.hook_sae_acts_post"]
    (autograd,) = torch.autograd.grad(metric(logits), acts)
    assert (autograd - expected).abs().max() <= GRAD_ATOL


def test_upstream_gradients_are_those_of_the_unspliced_model() -> None:
    site = "blocks.0.hook_resid_post"
    model, toks, sae = tiny_model(), tokens(), make_sae(TINY_CFG.d_model, "jumprelu")

    def grad_of_embed(saes: dict[str, SparseAutoencoder]) -> Tensor:
        # Caching the latents makes the autoencoder run (and sit in the graph).
        def names(n: str) -> bool:
            return n == "hook_embed" or n.endswith("hook_sae_acts_post")

        with splice_saes(model, saes):
            logits, cache = model.run_with_cache(toks, names_filter=names, detach=False)
        assert len(cache) == 1 + len(saes)
        (grad,) = torch.autograd.grad(metric(logits), cache["hook_embed"])
        return grad

    assert (grad_of_embed({site: sae}) - grad_of_embed({})).abs().max() <= GRAD_ATOL


def test_without_error_term_the_site_carries_the_reconstruction() -> None:
    site = "blocks.1.hook_resid_pre"
    model, toks, sae = tiny_model(), tokens(), make_sae(TINY_CFG.d_model)

    def reconstruct(x: Tensor, hook: HookPoint) -> Tensor:
        return sae(x)[1]

    with torch.no_grad():
        expected = model.run_with_hooks(toks, [(site, reconstruct)])
        with splice_saes(model, {site: sae}, use_error_term=False):
            logits = model(toks)
        baseline = model(toks)
    assert (logits - expected).abs().max() <= LOGIT_ATOL
    assert (logits - baseline).abs().max() > MIN_EFFECT


def test_persistent_attach_and_detach() -> None:
    site = "blocks.1.hook_mlp_out"
    model, sae = tiny_model(), make_sae(TINY_CFG.d_model)
    names_before = model.hook_names()
    splice = attach_sae(model, site, sae)
    assert sae_names(model) == splice.hook_names()
    assert spliced_saes(model) == {site: sae}
    with pytest.raises(ValueError, match="already has a splice"):
        attach_sae(model, site, make_sae(TINY_CFG.d_model, seed=5))
    with pytest.raises(ValueError, match="already has a splice"), splice_saes(model, {site: sae}):
        pass
    assert sae_names(model) == splice.hook_names()  # the failed splice left the first intact
    assert detach_sae(model, site) is sae
    assert_clean(model, names_before)
    with pytest.raises(ValueError, match="No autoencoder"):
        detach_sae(model, site)


@pytest.mark.parametrize(
    ("site", "d_in", "error", "match"),
    [
        ("blocks.0.attn.hook_q", TINY_CFG.d_model, ValueError, "Cannot splice"),
        ("blocks.0.hook_mlp_out.hook_sae_input", TINY_CFG.d_model, ValueError, "Cannot splice"),
        ("blocks.7.hook_resid_pre", TINY_CFG.d_model, KeyError, "Unknown hook name"),
        ("blocks.0.mlp.hook_post", TINY_CFG.d_model, ValueError, "d_in"),
        ("blocks.0.hook_attn_out", TINY_CFG.d_mlp, ValueError, "d_in"),
    ],
)
def test_bad_splices_raise(site: str, d_in: int, error: type[Exception], match: str) -> None:
    model = tiny_model()
    names_before = model.hook_names()
    with pytest.raises(error, match=match):
        attach_sae(model, site, make_sae(d_in))
    assert_clean(model, names_before)


def test_attn_only_model_has_no_mlp_sites() -> None:
    model = tiny_model(attn_only=True)
    with pytest.raises(KeyError):
        attach_sae(model, "blocks.0.hook_mlp_out", make_sae(TINY_CFG.d_model))


def test_dtype_mismatch_raises() -> None:
    model, sae = tiny_model(), make_sae(TINY_CFG.d_model).double()
    with pytest.raises(ValueError, match=r"sae\.to"):
        attach_sae(model, "blocks.0.hook_resid_pre", sae)


def test_everything_is_removed_after_an_exception() -> None:
    model, toks = tiny_model(), tokens()
    names_before = model.hook_names()
    saes = {
        "blocks.0.hook_resid_pre": make_sae(TINY_CFG.d_model),
        "blocks.1.mlp.hook_post": make_sae(TINY_CFG.d_mlp),
    }
    with pytest.raises(RuntimeError, match="boom"), splice_saes(model, saes):
        model.run_with_cache(toks)
        raise RuntimeError("boom")
    assert_clean(model, names_before)
    # A failure while splicing (second site of the wrong width) undoes the first splice too.
    bad = {
        "blocks.0.hook_resid_pre": make_sae(TINY_CFG.d_model),
        "blocks.1.hook_mlp_out": make_sae(7),
    }
    with pytest.raises(ValueError, match="d_in"), splice_saes(model, bad):
        pass
    assert_clean(model, names_before)
    # Detaching inside the block is fine; the exit does not trip over it.
    with splice_saes(model, saes):
        detach_sae(model, "blocks.0.hook_resid_pre")
    assert_clean(model, names_before)

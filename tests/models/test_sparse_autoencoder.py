from __future__ import annotations

from typing import Any

import pytest
import torch

from neuron_explainer.models import sae_losses
from neuron_explainer.models.sparse_autoencoder import (
    ARCHITECTURES,
    SaeConfig,
    SparseAutoencoder,
)

ATOL = 1e-5
D_IN, D_SAE, K = 16, 48, 5


def make_sae(architecture: str, seed: int = 0, **kwargs: Any) -> SparseAutoencoder:
    torch.manual_seed(seed)
    k = K if architecture == "topk" else None
    sae = SparseAutoencoder(SaeConfig(architecture, D_IN, D_SAE, k=k, **kwargs))
    with torch.no_grad():
        sae.b_enc.normal_(0.0, 0.5)
        sae.b_dec.normal_(0.0, 0.5)
    return sae


@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
def test_encode_decode_follow_the_formulas(architecture: str) -> None:
    sae = make_sae(architecture)
    x = torch.randn(3, 7, D_IN)
    latents, x_hat = sae(x)
    assert latents.shape == (3, 7, D_SAE) and x_hat.shape == (3, 7, D_IN)
    pre = torch.einsum("bpi,is->bps", x - sae.b_dec, sae.W_enc) + sae.b_enc
    assert (sae.encode_pre_act(x) - pre).abs().max() <= ATOL
    assert (latents - sae.activate(pre)).abs().max() <= ATOL
    assert (
        x_hat - (torch.einsum("bps,si->bpi", latents, sae.W_dec) + sae.b_dec)
    ).abs().max() <= ATOL
    assert bool((latents >= 0).all())


@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
def test_encode_sparse_lists_the_nonzero_latents_of_encode(architecture: str) -> None:
    sae = make_sae(architecture)
    x = torch.randn(3, 7, D_IN)
    indices, values = sae.encode_sparse(x)
    assert indices.shape == values.shape and indices.shape[:2] == (3, 7)
    if architecture == "topk":
        assert indices.shape[2] == K
    scattered = torch.zeros(3, 7, D_SAE).scatter(-1, indices, values)
    assert torch.equal(scattered, sae.encode(x))


def test_apply_b_dec_to_input_off() -> None:
    sae = make_sae("relu", apply_b_dec_to_input=False)
    x = torch.randn(4, D_IN)
    assert (sae.encode_pre_act(x) - (x @ sae.W_enc + sae.b_enc)).abs().max() <= ATOL


def test_unknown_architecture_raises_listing_valid_names() -> None:
    with pytest.raises(ValueError, match="gated") as info:
        SaeConfig("gated", D_IN, D_SAE)
    for name in ("relu", "topk", "jumprelu"):
        assert name in str(info.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"architecture": "topk"},  # no k
        {"architecture": "topk", "k": D_SAE + 1},
        {"architecture": "relu", "k": 3},
        {"architecture": "relu", "normalize_activations": "layer_norm"},
        {"architecture": "relu", "dtype": "int8"},
    ],
)
def test_bad_configs_raise(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        SaeConfig(d_in=D_IN, d_sae=D_SAE, **kwargs)


def test_topk_keeps_exactly_k_largest() -> None:
    sae = make_sae("topk")
    with torch.no_grad():
        sae.b_enc.fill_(10.0)  # every pre-activation positive
    x = torch.randn(20, D_IN)
    latents = sae.encode(x)
    assert bool(((latents != 0).sum(-1) == K).all())
    pre = sae.encode_pre_act(x)
    kept = latents != 0
    assert bool(
        (pre.topk(K, dim=-1).indices.sort(-1).values == kept.nonzero()[:, 1].view(20, K)).all()
    )
    assert (latents[kept] - pre[kept]).abs().max() <= ATOL


def test_topk_drops_negative_pre_activations() -> None:
    sae = make_sae("topk")
    with torch.no_grad():
        sae.b_enc.fill_(-100.0)
    assert bool((sae.encode(torch.randn(5, D_IN)) == 0).all())


def test_jumprelu_thresholds() -> None:
    sae = make_sae("jumprelu")
    threshold = torch.rand(D_SAE) * 0.5
    with torch.no_grad():
        sae.activation.threshold.copy_(threshold)
    x = torch.randn(50, D_IN)
    pre, latents = sae.encode_pre_act(x), sae.encode(x)
    open_ = pre > threshold
    assert bool((latents[~open_] == 0).all())
    assert (latents[open_] - pre[open_]).abs().max() <= ATOL
    assert 0 < int(open_.sum()) < open_.numel()


def test_jumprelu_threshold_pseudo_gradient() -> None:
    eps, theta = 0.1, 0.5
    sae = make_sae("jumprelu", jumprelu_bandwidth=eps, jumprelu_init_threshold=theta)
    # One latent column, pre-activations inside and outside the kernel window around theta.
    pre = torch.tensor([0.46, 0.54, 0.6, 0.3, 0.52]).repeat(D_SAE, 1).T.contiguous()
    pre.requires_grad_(True)
    weights = torch.randn(5, D_SAE)
    (sae.activate(pre) * weights).sum().backward()
    in_window = ((pre.detach() - theta).abs() < eps / 2).float()
    expected_threshold = (weights * -(theta / eps) * in_window).sum(0)
    assert (sae.activation.threshold.grad - expected_threshold).abs().max() <= ATOL
    assert pre.grad is not None
    assert (pre.grad - weights * (pre.detach() > theta).float()).abs().max() <= ATOL


def test_reconstruction_losses() -> None:
    x = torch.randn(4, 6, D_IN)
    x_hat = x + 0.1
    expected = (0.1**2) * D_IN
    assert abs(float(sae_losses.reconstruction_loss(x_hat, x)) - expected) <= ATOL
    assert abs(float(sae_losses.normalized_mse(x, x))) <= ATOL
    mean = x.reshape(-1, D_IN).mean(0).expand_as(x)
    assert abs(float(sae_losses.normalized_mse(mean, x)) - 1.0) <= ATOL


def test_l1_penalty_weights_by_decoder_norms() -> None:
    latents = torch.tensor([[1.0, -2.0, 0.0], [0.0, 0.0, 3.0]])
    W_dec = torch.tensor([[3.0, 4.0], [0.0, 2.0], [1.0, 0.0]])  # row norms 5, 2, 1
    expected = ((1 * 5 + 2 * 2) + 3 * 1) / 2
    assert abs(float(sae_losses.l1_penalty(latents, W_dec)) - expected) <= ATOL


def test_jumprelu_l0_counts_and_trains_thresholds_only() -> None:
    eps = 0.1
    threshold = torch.tensor([0.5, 0.5], requires_grad=True)
    pre = torch.tensor([[0.47, 0.9], [0.2, 0.53], [0.6, 0.0]], requires_grad=True)
    l0 = sae_losses.jumprelu_l0(pre, threshold, eps)
    assert abs(l0.item() - 3 / 3) <= ATOL  # 0.9, 0.53, 0.6 are above; three rows
    l0.backward()
    # Window |pre - 0.5| < 0.05: latent 0 has 0.47, latent 1 has 0.53.
    expected = torch.tensor([-1 / eps, -1 / eps]) / 3
    assert threshold.grad is not None
    assert (threshold.grad - expected).abs().max() <= ATOL
    assert pre.grad is None or bool((pre.grad == 0).all())


def test_auxk_loss_uses_dead_latents_only() -> None:
    torch.manual_seed(0)
    W_dec = torch.randn(6, 4, requires_grad=True)
    pre = torch.tensor([[5.0, 1.0, 2.0, 3.0, -1.0, 0.5]])
    residual = torch.randn(1, 4, requires_grad=True)
    dead = torch.tensor([False, True, True, True, True, False])
    loss = sae_losses.auxk_loss(pre, residual, W_dec, dead, k_aux=2)
    # The two dead latents of largest pre-activation are 3 (3.0) and 2 (2.0).
    e_hat = 3.0 * W_dec[3] + 2.0 * W_dec[2]
    expected = (residual - e_hat).pow(2).sum() / residual.pow(2).sum()
    assert abs(loss.item() - expected.item()) <= ATOL
    loss.backward()
    assert W_dec.grad is not None and residual.grad is None
    assert bool((W_dec.grad[[0, 1, 4, 5]] == 0).all())
    none_dead = torch.zeros(6, dtype=torch.bool)
    assert sae_losses.auxk_loss(pre, residual, W_dec, none_dead, k_aux=2).item() == 0.0

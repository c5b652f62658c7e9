"""The sparse TopK step computes the dense step's losses and gradients, skipping only zeros."""

from __future__ import annotations

import copy

import pytest
import torch

from neuron_explainer.models.sparse_autoencoder import SaeConfig, SparseAutoencoder
from neuron_explainer.training.sae_config import SaeTrainConfig
from neuron_explainer.training.sae_sparse_step import gather_pre_acts, sparse_decode
from neuron_explainer.training.train_sae import train_step

D_IN, D_SAE, K, BATCH = 12, 48, 5, 40


def _sae(apply_b_dec_to_input: bool) -> SparseAutoencoder:
    torch.manual_seed(0)
    cfg = SaeConfig(
        "topk", d_in=D_IN, d_sae=D_SAE, k=K, dtype="float64",
        apply_b_dec_to_input=apply_b_dec_to_input,
    )  # fmt: skip
    sae = SparseAutoencoder(cfg)
    with torch.no_grad():
        sae.b_dec.normal_()
        sae.b_enc.normal_(std=0.3)
    return sae


@pytest.mark.parametrize("apply_b_dec_to_input", [True, False])
@pytest.mark.parametrize("n_dead", [0, 3, 30])
def test_sparse_step_updates_like_the_dense_step(apply_b_dec_to_input: bool, n_dead: int) -> None:
    cfg = SaeTrainConfig(
        sae=SaeConfig("topk", d_in=D_IN, d_sae=D_SAE, k=K, dtype="float64"),
        site="blocks.0.hook_resid_post",
        batch_size=BATCH,
        buffer_tokens=BATCH,
        warmup_steps=0,
        aux_k=8,
        aux_coefficient=0.5,
        device="cpu",
    )
    dense_sae = _sae(apply_b_dec_to_input)
    sparse_sae = copy.deepcopy(dense_sae)
    dead = torch.zeros(D_SAE, dtype=torch.bool)
    dead[torch.randperm(D_SAE, generator=torch.Generator().manual_seed(1))[:n_dead]] = True
    x = torch.randn(BATCH, D_IN, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    optimizers = [torch.optim.Adam(s.parameters(), lr=1e-2) for s in (dense_sae, sparse_sae)]
    for step in range(3):
        t_dense = train_step(dense_sae, optimizers[0], x, dead, step, cfg, dense=True)
        t_sparse = train_step(sparse_sae, optimizers[1], x, dead, step, cfg)
        torch.testing.assert_close(t_sparse.dense_latents(), t_dense.dense_latents())
        assert torch.equal(t_sparse.fired(), t_dense.fired())
        assert int(t_sparse.n_active()) == int(t_dense.n_active())
        torch.testing.assert_close(t_sparse.x_hat, t_dense.x_hat)
        for (name, p_dense), p_sparse in zip(
            dense_sae.named_parameters(), sparse_sae.parameters(), strict=True
        ):
            torch.testing.assert_close(p_sparse, p_dense, msg=name)


@pytest.mark.parametrize("with_b_dec", [True, False])
def test_gather_and_decode_gradients_match_dense_products(with_b_dec: bool) -> None:
    g = torch.Generator().manual_seed(3)
    x = torch.randn(7, D_IN, dtype=torch.float64, generator=g)
    params = [
        torch.randn(D_IN, D_SAE, dtype=torch.float64, generator=g),  # W_enc
        torch.randn(D_SAE, dtype=torch.float64, generator=g),  # b_enc
        torch.randn(D_IN, dtype=torch.float64, generator=g),  # b_dec
        torch.randn(D_SAE, D_IN, dtype=torch.float64, generator=g),  # W_dec
    ]
    W_enc, b_enc, b_dec, W_dec = (p.requires_grad_() for p in params)
    indices = torch.stack([torch.randperm(D_SAE, generator=g)[:K] for _ in range(7)])
    weights = torch.randn(7, D_IN, dtype=torch.float64, generator=g)
    x_in = x - b_dec if with_b_dec else x

    pre = x_in @ W_enc + b_enc
    dense_vals = pre.gather(-1, indices)
    latents = torch.zeros(7, D_SAE, dtype=torch.float64).scatter(-1, indices, dense_vals)
    dense_out = ((latents @ W_dec) * weights).sum()
    wrt = [W_enc, b_enc, W_dec] + ([b_dec] if with_b_dec else [])
    dense_grads = torch.autograd.grad(dense_out, wrt)

    b_dec_arg = b_dec if with_b_dec else None
    vals = gather_pre_acts(x, W_enc, b_enc, b_dec_arg, indices, dense_vals.detach())
    torch.testing.assert_close(vals, dense_vals)
    sparse_out = (sparse_decode(indices, vals, W_dec) * weights).sum()
    sparse_grads = torch.autograd.grad(sparse_out, wrt)
    for dense_grad, sparse_grad in zip(dense_grads, sparse_grads, strict=True):
        torch.testing.assert_close(sparse_grad, dense_grad)

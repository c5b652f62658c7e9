"""A TopK training step that never multiplies by the full latent matrix, only by the k latents
each token keeps.

The dense step (`train_sae.dense_step`) spends four [batch, d_in] x [d_in, d_sae]-sized matrix
products per step: the encoder, the decoder, and one gradient for each. With k << d_sae, all but
the encoder's forward product touch mostly zeros. Here:

- the pre-activations are computed densely without a graph (the k largest must be found), and
  only the chosen k values per token enter autograd (`gather_pre_acts`), whose backward scatters
  the k gradients per token into W_enc and b_enc (a sparse x dense product) and into b_dec
  (through the input's centring: minus W_enc times b_enc's gradient);
- the decoder is `embedding_bag` over the chosen rows of W_dec, weighted by the latents; its
  backward is sparse too;
- AuxK (dead latents reconstruct the error) goes through the same two operations.

The gradients are those of the dense step (tested to float64 precision): only zeros are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import torch
import torch.nn.functional as F
from jaxtyping import Bool, Float, Int
from torch import Tensor

from neuron_explainer.models.sae_losses import reconstruction_loss
from neuron_explainer.models.sparse_autoencoder import SparseAutoencoder


def gather_pre_acts(
    x: Float[Tensor, "batch d_in"],
    W_enc: Float[Tensor, "d_in d_sae"],
    b_enc: Float[Tensor, " d_sae"],
    b_dec: Float[Tensor, " d_in"] | None,
    indices: Int[Tensor, "batch k"],
    values: Float[Tensor, "batch k"],
) -> Float[Tensor, "batch k"]:
    """((x - b_dec) @ W_enc + b_enc) at `indices` (no b_dec: x @ W_enc + b_enc), whose values the
    caller has computed (`values`), with gradients to W_enc, b_enc and b_dec that touch only the
    chosen latents. x is data: it gets no gradient."""
    # torch leaves Function.apply unannotated.
    out = _GatherPreActs.apply(x, W_enc, b_enc, b_dec, indices, values)  # type: ignore[no-untyped-call]
    return cast(Tensor, out)


class _GatherPreActs(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any,
        x: Tensor,
        W_enc: Tensor,
        b_enc: Tensor,
        b_dec: Tensor | None,
        indices: Tensor,
        values: Tensor,
    ) -> Tensor:
        ctx.save_for_backward(x, W_enc, b_dec, indices)
        return values.detach().clone()

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, W_enc, b_dec, indices = ctx.saved_tensors
        batch, k = indices.shape
        d_sae = W_enc.shape[1]
        flat_idx, flat_grad = indices.reshape(-1), grad.reshape(-1)
        grad_b_enc = grad.new_zeros(d_sae).index_add_(0, flat_idx, flat_grad)
        grad_W_enc = grad_b_dec = None
        if ctx.needs_input_grad[1]:
            x_in = x if b_dec is None else x - b_dec
            rows = torch.arange(batch, device=x.device).repeat_interleave(k)
            by_latent = torch.sparse_coo_tensor(
                torch.stack([flat_idx, rows]), flat_grad, (d_sae, batch), check_invariants=False
            )
            grad_W_enc = torch.sparse.mm(by_latent, x_in).T.contiguous()
        if b_dec is not None and ctx.needs_input_grad[3]:
            # d/d b_dec of sum_bj g_bj (x_b - b_dec) . W_enc[:, i_bj] = -W_enc @ grad_b_enc
            grad_b_dec = -(W_enc @ grad_b_enc)
        return (
            None,
            grad_W_enc,
            grad_b_enc if ctx.needs_input_grad[2] else None,
            grad_b_dec,
            None,
            None,
        )


def sparse_decode(
    indices: Int[Tensor, "batch k"],
    latents: Float[Tensor, "batch k"],
    W_dec: Float[Tensor, "d_sae d_in"],
) -> Float[Tensor, "batch d_in"]:
    """sum_j latents[:, j] * W_dec[indices[:, j]] (no bias)."""
    return F.embedding_bag(indices, W_dec, per_sample_weights=latents, mode="sum")


@dataclass
class TopKStep:
    """The losses (with their sparse graphs), and, without a graph, the pre-activations, the k
    latents kept per token (`indices`, `values`) and the reconstruction."""

    reconstruction: Tensor
    auxk: Tensor
    pre: Tensor
    indices: Tensor
    values: Tensor
    x_hat: Tensor


def topk_forward(
    sae: SparseAutoencoder, x: Float[Tensor, "batch d_in"], dead: Bool[Tensor, " d_sae"], k_aux: int
) -> TopKStep:
    """The step of a TopK autoencoder on inputs x. The losses are those of
    `sae_losses.reconstruction_loss` and `sae_losses.auxk_loss`."""
    assert sae.cfg.k is not None
    with torch.no_grad():
        pre = sae.encode_pre_act(x)
    b_dec = sae.b_dec if sae.cfg.apply_b_dec_to_input else None
    values, indices = pre.topk(sae.cfg.k, dim=-1, sorted=False)
    acts = torch.relu(gather_pre_acts(x, sae.W_enc, sae.b_enc, b_dec, indices, values))
    x_hat = sparse_decode(indices, acts, sae.W_dec) + sae.b_dec
    reconstruction = reconstruction_loss(x_hat, x)

    auxk = x.new_zeros(())
    n_dead = int(dead.sum())
    if n_dead > 0:
        masked = pre.masked_fill(~dead, float("-inf"))
        aux_values, aux_indices = masked.topk(min(k_aux, n_dead), dim=-1, sorted=False)
        aux_acts = torch.relu(
            gather_pre_acts(x, sae.W_enc, sae.b_enc, b_dec, aux_indices, aux_values)
        )
        target = (x - x_hat).detach()
        error = sparse_decode(aux_indices, aux_acts, sae.W_dec) - target
        auxk = error.pow(2).sum() / target.pow(2).sum().clamp_min(1e-12)
    return TopKStep(reconstruction, auxk, pre, indices, acts.detach(), x_hat.detach())

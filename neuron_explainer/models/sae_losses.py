"""Training losses of sparse autoencoders, as pure functions of tensors.

Leading dimensions (`*batch`: batch, or batch and position) are averaged over; the latent or
input dimension is summed over, so each loss reads "per example".

- `reconstruction_loss`, `normalized_mse`: how well x_hat matches x.
- `l1_penalty`: ReLU autoencoders; L1 of the latents weighted by their decoder row norms, so
  shrinking a latent while growing its decoder row does not lower the penalty.
- `auxk_loss`: TopK autoencoders; the dead latents with the largest pre-activations are asked to
  reconstruct the main reconstruction's error (AuxK, Gao et al. 2024).
- `jumprelu_l0`: JumpReLU autoencoders; the number of active latents, with a pseudo-gradient of
  the Heaviside step towards the thresholds (Rajamanoharan et al. 2024).
"""

from __future__ import annotations

from typing import Any, cast

import torch
from jaxtyping import Bool, Float
from torch import Tensor

from neuron_explainer.models.sparse_autoencoder import rectangle


def reconstruction_loss(
    x_hat: Float[Tensor, "*batch d_in"], x: Float[Tensor, "*batch d_in"]
) -> Float[Tensor, ""]:
    """Squared error summed over d_in, averaged over examples."""
    return (x_hat - x).pow(2).sum(-1).mean()


def normalized_mse(
    x_hat: Float[Tensor, "*batch d_in"], x: Float[Tensor, "*batch d_in"]
) -> Float[Tensor, ""]:
    """Fraction of variance unexplained: sum |x_hat - x|^2 / sum |x - mean(x)|^2 (0 is perfect,
    1 is no better than predicting the mean)."""
    flat = x.reshape(-1, x.shape[-1])
    variance = (flat - flat.mean(0)).pow(2).sum()
    return (x_hat - x).pow(2).sum() / variance


def l1_penalty(
    latents: Float[Tensor, "*batch d_sae"], W_dec: Float[Tensor, "d_sae d_in"]
) -> Float[Tensor, ""]:
    """sum_j |latent_j| * |W_dec[j]|, averaged over examples."""
    decoder_norms: Tensor = torch.linalg.vector_norm(W_dec, dim=-1)
    return (latents.abs() * decoder_norms).sum(-1).mean()


def auxk_loss(
    pre_acts: Float[Tensor, "*batch d_sae"],
    residual: Float[Tensor, "*batch d_in"],
    W_dec: Float[Tensor, "d_sae d_in"],
    dead: Bool[Tensor, " d_sae"],
    k_aux: int,
) -> Float[Tensor, ""]:
    """AuxK: reconstruct the error e = x - x_hat with the k_aux dead latents of largest
    pre-activation, e_hat = TopK_aux(ReLU(pre_acts[dead])) @ W_dec (no bias), and return
    |e - e_hat|^2 / |e|^2 summed over the batch (a normalized MSE, scale-free like Gao et al.).

    The error is a constant target: this loss trains the dead latents, not the main path. Zero when
    no latent is dead. Typical choices: k_aux = d_in // 2, weight 1/32."""
    if k_aux <= 0:
        raise ValueError(f"k_aux must be positive, got {k_aux}")
    n_dead = int(dead.sum())
    if n_dead == 0:
        return pre_acts.new_zeros(())
    masked = pre_acts.masked_fill(~dead, float("-inf"))
    values, indices = masked.topk(min(k_aux, n_dead), dim=-1, sorted=False)
    aux_latents = torch.zeros_like(pre_acts).scatter(-1, indices, torch.relu(values))
    target = residual.detach()
    return (aux_latents @ W_dec - target).pow(2).sum() / target.pow(2).sum().clamp_min(1e-12)


def jumprelu_l0(
    pre_acts: Float[Tensor, "*batch d_sae"], threshold: Float[Tensor, " d_sae"], bandwidth: float
) -> Float[Tensor, ""]:
    """Number of latents with pre-activation above threshold, averaged over examples. Its
    gradient reaches the thresholds only (see `step`)."""
    return step(pre_acts, threshold, bandwidth).sum(-1).mean()


def step(
    pre_acts: Float[Tensor, "*batch d_sae"], threshold: Float[Tensor, " d_sae"], bandwidth: float
) -> Float[Tensor, "*batch d_sae"]:
    """Heaviside H(pre - θ) with the pseudo-derivative dH/dθ = -(1/ε) K((pre - θ)/ε) (rectangle K,
    bandwidth ε) and no gradient to the pre-activations, as in Rajamanoharan et al. (2024)."""
    # torch leaves Function.apply unannotated.
    return cast(Tensor, _StepFunction.apply(pre_acts, threshold, bandwidth))  # type: ignore[no-untyped-call]


class _StepFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, pre: Tensor, threshold: Tensor, bandwidth: float) -> Tensor:
        ctx.save_for_backward(pre, threshold)
        ctx.bandwidth = bandwidth
        return (pre > threshold).to(pre.dtype)

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> tuple[None, Tensor, None]:
        pre, threshold = ctx.saved_tensors
        eps = ctx.bandwidth
        pseudo = -(1.0 / eps) * rectangle((pre - threshold) / eps)
        grad_threshold = (grad_out * pseudo).reshape(-1, pre.shape[-1]).sum(0)
        return None, grad_threshold, None

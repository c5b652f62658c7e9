"""Interpretability weight processing, off by default and always explicit.

- fold_ln: fold each LayerNorm's scale and bias into the weights that read from it, and centre
  those reading weights; LayerNorm then only centres and normalises ("LNPre").
- center_writing_weights: remove the mean over d_model of everything that writes to the
  residual stream (embeddings, W_O, b_O, W_out, b_out). Every read goes through a LayerNorm that
  removes the mean anyway, so outputs are unchanged.
- center_unembed: remove the mean over the vocabulary of W_U and b_U (softmax is unchanged).

The output distribution is preserved (tested). Processing unties the embeddings, since the
processed unembedding no longer equals the embedding.
"""

from __future__ import annotations

import torch
from torch import Tensor

from neuron_explainer.models.transformer import Transformer


def process_weights(
    model: Transformer,
    fold_ln: bool = True,
    center_writing_weights: bool = True,
    center_unembed: bool = True,
) -> Transformer:
    """A new model with processed weights; the input model is left as it was."""
    cfg = model.cfg
    if fold_ln and cfg.normalization != "LN":
        raise ValueError("fold_ln needs a model whose LayerNorms still have their scale and bias")
    sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if "W_U_untied" not in sd:
        sd["W_U_untied"] = sd["W_E"].T.clone()
    with torch.no_grad():
        if fold_ln:
            _fold_layer_norms(sd, cfg.n_layers, cfg.attn_only)
        if center_writing_weights:
            _center_writing_weights(sd, cfg.n_layers, cfg.attn_only)
        if center_unembed:
            sd["W_U_untied"] -= sd["W_U_untied"].mean(-1, keepdim=True)
            sd["b_U"] -= sd["b_U"].mean()
    new_cfg = cfg.replace(
        tied_embeddings=False, normalization="LNPre" if fold_ln else cfg.normalization
    )
    processed = Transformer(new_cfg).to(device=model.device, dtype=model.dtype)
    processed.load_state_dict(sd, strict=True)
    processed.tokenizer = model.tokenizer
    processed.train(model.training)
    return processed


def _fold(sd: dict[str, Tensor], ln: str, weight: str, bias: str) -> None:
    """Fold LayerNorm `ln` into a reading weight [d_model, ...] and its bias [...]."""
    w, b = sd.pop(f"{ln}.w"), sd.pop(f"{ln}.b")
    W = sd[weight]
    extra = (1,) * (W.ndim - 1)
    sd[bias] = sd[bias] + torch.einsum("d,d...->...", b, W)
    W = W * w.view(-1, *extra)
    # LNPre's output has zero mean over d_model, so the weights' mean over d_model is unused.
    sd[weight] = W - W.mean(0, keepdim=True)


def _fold_layer_norms(sd: dict[str, Tensor], n_layers: int, attn_only: bool) -> None:
    for layer in range(n_layers):
        p = f"blocks.{layer}."
        _fold(sd, p + "ln1", p + "attn.W_QKV", p + "attn.b_QKV")
        if not attn_only:
            _fold(sd, p + "ln2", p + "mlp.W_in", p + "mlp.b_in")
    _fold(sd, "ln_final", "W_U_untied", "b_U")


def _center_writing_weights(sd: dict[str, Tensor], n_layers: int, attn_only: bool) -> None:
    def center(key: str) -> None:
        sd[key] = sd[key] - sd[key].mean(-1, keepdim=True)

    center("W_E")
    center("W_pos")
    for layer in range(n_layers):
        p = f"blocks.{layer}."
        center(p + "attn.W_O")
        center(p + "attn.b_O")
        if not attn_only:
            center(p + "mlp.W_out")
            center(p + "mlp.b_out")

"""A small random model for tests that need no reference implementation."""

from __future__ import annotations

import torch

from neuron_explainer.models import Transformer, TransformerConfig

TINY_CFG = TransformerConfig(
    n_layers=2, d_model=32, n_heads=4, d_head=8, d_mlp=64, n_ctx=48, d_vocab=97
)


def tiny_model(seed: int = 0, attn_only: bool = False, std: float = 0.3) -> Transformer:
    """Weights drawn wide enough that outputs depend visibly on every input token."""
    torch.manual_seed(seed)
    cfg = TINY_CFG.replace(attn_only=True, d_mlp=0) if attn_only else TINY_CFG
    model = Transformer(cfg).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".w"):
                p.normal_(1.0, 0.1)
            else:
                p.normal_(0.0, std)
    return model

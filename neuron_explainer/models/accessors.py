"""A model's parts by layer, checked: `block(model, L)` and `mlp(model, L)` raise a `ValueError`
that names the missing layer or MLP, where `model.blocks[L]` would give an `IndexError` or None.
They live with the model, so that every package reaches into it the same way."""

from __future__ import annotations

from neuron_explainer.models.transformer import MLP, Block, Transformer


def block(model: Transformer, layer: int | None) -> Block:
    if layer is None or not 0 <= layer < model.cfg.n_layers:
        raise ValueError(f"The model has no layer {layer}")
    b = model.blocks[layer]
    assert isinstance(b, Block)
    return b


def mlp(model: Transformer, layer: int | None) -> MLP:
    m = block(model, layer).mlp
    if m is None:
        raise ValueError(f"Layer {layer} has no MLP")
    return m

"""The bundled toy models: their shapes and how they are trained (`tdb train-model --preset`)."""

from __future__ import annotations

from dataclasses import dataclass

from neuron_explainer.models.config import TransformerConfig

VOCAB_SIZE = 8192  # chosen by measurement: see datasets/corpus/README.md


@dataclass(frozen=True)
class ModelPreset:
    name: str
    description: str
    model: TransformerConfig
    total_tokens: int
    lr: float = 1e-3
    batch_size: int = 16


PRESETS = {
    p.name: p
    for p in (
        ModelPreset(
            "toy-gelu-2l",
            "2 layers with GELU MLPs, d_model 256, d_mlp 1024, 8 heads, context 256, tied "
            "embeddings; the default model",
            TransformerConfig(
                n_layers=2,
                d_model=256,
                n_heads=8,
                d_head=32,
                d_mlp=1024,
                n_ctx=256,
                d_vocab=VOCAB_SIZE,
            ),
            total_tokens=20_000_000,
        ),
        ModelPreset(
            "toy-attn-only-2l",
            "2 attention-only layers, d_model 256, 8 heads, context 256, untied embeddings (a "
            "tied direct path W_E W_E^T would be symmetric, a poor bigram table); the setting "
            "in which induction heads form",
            TransformerConfig(
                n_layers=2,
                d_model=256,
                n_heads=8,
                d_head=32,
                d_mlp=0,
                n_ctx=256,
                d_vocab=VOCAB_SIZE,
                attn_only=True,
                tied_embeddings=False,
            ),
            total_tokens=20_000_000,
        ),
        ModelPreset(
            "toy-gelu-4l",
            "4 layers with GELU MLPs, d_model 512, 8 heads, context 256 (trained on a GPU)",
            TransformerConfig(
                n_layers=4,
                d_model=512,
                n_heads=8,
                d_head=64,
                d_mlp=2048,
                n_ctx=256,
                d_vocab=VOCAB_SIZE,
            ),
            total_tokens=200_000_000,
            lr=6e-4,
            batch_size=64,
        ),
    )
}


def preset(name: str) -> ModelPreset:
    if name not in PRESETS:
        raise KeyError(f"Unknown preset {name!r}; presets: {', '.join(PRESETS)}")
    return PRESETS[name]

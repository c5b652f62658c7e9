"""GPT-2 with hooks, sparse autoencoders, tokenizers, checkpoint loading and the model registry."""

from neuron_explainer.models.config import TransformerConfig
from neuron_explainer.models.hooks import HookPoint
from neuron_explainer.models.sae_io import load_sae, save_sae
from neuron_explainer.models.sae_splice import attach_sae, detach_sae, splice_saes
from neuron_explainer.models.sparse_autoencoder import SaeConfig, SparseAutoencoder
from neuron_explainer.models.transformer import Transformer, pad_batch

__all__ = [
    "HookPoint",
    "SaeConfig",
    "SparseAutoencoder",
    "Transformer",
    "TransformerConfig",
    "attach_sae",
    "detach_sae",
    "load_sae",
    "pad_batch",
    "save_sae",
    "splice_saes",
]

"""GPT-2 with hooks, sparse autoencoders, tokenizers, checkpoint loading and the model registry."""

from neuron_explainer.models.config import TransformerConfig
from neuron_explainer.models.hooks import HookPoint
from neuron_explainer.models.transformer import Transformer, pad_batch

__all__ = ["HookPoint", "Transformer", "TransformerConfig", "pad_batch"]

"""A small byte-level BPE trained in a test, for tests that need a real tokenizer.json."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from neuron_explainer.models.tokenizers import HfTokenizer


def train_tiny_tokenizer(texts: Sequence[str], vocab_size: int, path: Path) -> HfTokenizer:
    from tokenizers import Tokenizer as RustTokenizer, decoders, models, pre_tokenizers, trainers

    tok = RustTokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(list(texts) * 20, trainer=trainer)
    tok.save(str(path))
    return HfTokenizer.from_file(path)

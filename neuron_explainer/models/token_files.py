"""Token files: a corpus split encoded by a model's tokenizer, as one flat little-endian `uint16`
array of token ids with no header (`{split}.u16`; documents joined by the end-of-text id).

Training writes and reads them (`training`), collation reads them (`datasets`): the format lives
here, beside the tokenizers, so that neither imports the other for it."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import numpy.typing as npt

TOKEN_DTYPE = np.dtype("<u2")


def open_tokens(path: str | Path, n_ctx: int, d_vocab: int) -> npt.NDArray[np.uint16]:
    """Memory-map a token file, checking it holds a window and only ids the model knows."""
    size = os.path.getsize(path)
    if size % TOKEN_DTYPE.itemsize:
        raise ValueError(f"{path}: {size} bytes is not a whole number of uint16 tokens")
    if size // TOKEN_DTYPE.itemsize < n_ctx + 1:
        raise ValueError(f"{path}: needs at least n_ctx + 1 = {n_ctx + 1} tokens")
    tokens = np.memmap(path, dtype=TOKEN_DTYPE, mode="r")
    if int(tokens.max()) >= d_vocab:
        raise ValueError(f"{path}: token id {int(tokens.max())} is out of range [0, {d_vocab})")
    return tokens

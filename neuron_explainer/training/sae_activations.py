"""Activations for training sparse autoencoders: sources and the shuffle buffer.

An `ActivationSource` gives chunk `i` of activations as a pure function of `i`.
`ModelActivationSource` reads random windows of a flat uint16 token file (drawn by a generator
seeded with `(seed, i)`) and runs the model only through the site's block; tests plug in
synthetic sources. `ShuffleBuffer` fills its buffer with one chunk, permutes it (seeded) and cuts
it into batches, so batch `s` is a function of `s` alone: a resumed run reads exactly the batches
of an uninterrupted one and no buffer goes into a checkpoint. The buffer is refilled whole, not
half at a time as in SAELens: its windows are drawn over the whole file, so it already mixes many
documents, and the permutation breaks up the runs of tokens from one window.
"""

from __future__ import annotations

import math
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
import torch
from jaxtyping import Float
from torch import Tensor

from neuron_explainer.models.sae_splice import site_width
from neuron_explainer.models.sites import layer_of
from neuron_explainer.models.transformer import Transformer


@runtime_checkable
class ActivationSource(Protocol):
    """Activations [n_tokens, d_in]; the same `index` must always give the same chunk."""

    d_in: int

    def chunk(self, index: int, n_tokens: int) -> Float[Tensor, "token d_in"]: ...


class ModelActivationSource:
    """Activations at `site` on random windows of a token file; the forward stops after the
    site's block. Chunk `i` reads the windows drawn by a generator seeded with `(seed, i)`."""

    def __init__(
        self,
        model: Transformer,
        site: str,
        tokens: npt.NDArray[np.uint16],
        context_size: int | None = None,
        windows_per_forward: int = 16,
        seed: int = 0,
    ) -> None:
        self.model, self.site, self.tokens, self.seed = model, site, tokens, seed
        self.d_in = site_width(model, site)
        self.context_size = context_size or model.cfg.n_ctx
        self.windows_per_forward = windows_per_forward
        if not 0 < self.context_size <= min(model.cfg.n_ctx, len(tokens)):
            raise ValueError(f"context_size {self.context_size} exceeds n_ctx or the token file")

    @torch.no_grad()
    def chunk(self, index: int, n_tokens: int) -> Float[Tensor, "token d_in"]:
        ctx = self.context_size
        rng = np.random.default_rng((self.seed, index))
        starts = rng.integers(0, len(self.tokens) - ctx + 1, size=math.ceil(n_tokens / ctx))
        stop_at = layer_of(self.site) + 1
        parts = []
        for i in range(0, len(starts), self.windows_per_forward):
            group = starts[i : i + self.windows_per_forward]
            ids = np.stack([self.tokens[s : s + ctx] for s in group]).astype(np.int64)
            _, cache = self.model.run_with_cache(
                torch.from_numpy(ids), names_filter=self.site, stop_at_layer=stop_at
            )
            parts.append(cache[self.site].reshape(-1, self.d_in))  # [window * pos, d_in]
        return torch.cat(parts)[:n_tokens]


class ShuffleBuffer:
    """Batch `step` is rows [offset, offset + batch_size) of buffer `step // per_buffer`: chunk
    `step // per_buffer` of the source, permuted by a generator seeded with `(seed, index, 1)`."""

    def __init__(
        self, source: ActivationSource, batch_size: int, buffer_tokens: int, seed: int
    ) -> None:
        self.source, self.batch_size, self.seed = source, batch_size, seed
        self.per_buffer = buffer_tokens // batch_size
        self._index: int | None = None
        self._data: Tensor | None = None

    def buffer(self, index: int) -> Float[Tensor, "token d_in"]:
        if self._index != index or self._data is None:
            self._data = None  # free the old buffer before filling the new one
            n_tokens = self.per_buffer * self.batch_size
            acts = self.source.chunk(index, n_tokens)
            if acts.shape != (n_tokens, self.source.d_in):
                raise ValueError(
                    f"Chunk {index} has shape {tuple(acts.shape)}, not {n_tokens} rows"
                )
            perm = np.random.default_rng((self.seed, index, 1)).permutation(len(acts))
            self._data, self._index = acts[torch.from_numpy(perm).to(acts.device)], index
        return self._data

    def batch(self, step: int) -> Float[Tensor, "batch d_in"]:
        index, offset = divmod(step, self.per_buffer)
        return self.buffer(index)[offset * self.batch_size : (offset + 1) * self.batch_size]

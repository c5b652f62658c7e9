"""What a collation computes: its settings, the groups of components, the histogram's bins.

A group is the components of one family at one activation site (`activations.nodes`):

    family   site (the group's directory in the store)        measures
    neuron   blocks.{L}.mlp.hook_post                         activation
    head     blocks.{L}.attn.hook_pattern                     attention, write_norm
    latent   {splice site}.hook_sae_acts_post                 activation

Histogram bins are log-spaced in |x| and mirrored for negative values, with one bin around zero:
with magnitudes e_j = 2^(log2_min + j / bins_per_octave), j = 0..M, the bins are, from left to
right, (-e_M, -e_(M-1)], ..., (-e_1, -e_0], (-e_0, e_0), [e_0, e_1), ..., [e_(M-1), e_M); the
outermost two also hold everything beyond ±e_M. Each e_j is rounded to 8 bits of mantissa
(relative change below 0.2%), so every float32 with the same top 17 bits (sign, exponent, 8
mantissa bits) falls in the same bin, read from a table indexed by those bits. Every shard uses
the same fixed edges, so histograms merge by addition.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from jaxtyping import Float, Int
from torch import Tensor

from neuron_explainer.activations.families import NODE_FAMILIES
from neuron_explainer.activations.nodes import FamilyName
from neuron_explainer.models.config import TransformerConfig
from neuron_explainer.models.sites import Site

FORMAT_VERSION = 2
MANTISSA_BITS = 8  # bin edges are rounded to this many bits of mantissa
CELL_SHIFT = 23 - MANTISSA_BITS  # float32 bits >> CELL_SHIFT: sign, exponent, top mantissa
N_CELLS = 1 << (32 - CELL_SHIFT)
# The collated families and their measures (`Family.measures`), in the order stores list them.
FAMILY_MEASURES: dict[str, tuple[str, ...]] = {
    name: family.measures for name, family in NODE_FAMILIES.items() if family.collated
}


@dataclass(frozen=True)
class CollationConfig:
    """Sizes of what is kept per component, and how the corpus is cut into work."""

    top_k: int = 20  # top-activating examples
    window_before: int = 32  # tokens shown before an example's token (its query, for heads)
    window_after: int = 8
    n_quantiles: int = 10  # quantile samples: n_quantiles groups of per_quantile examples
    per_quantile: int = 5
    n_random: int = 10  # uniformly random examples
    bins_per_octave: int = 4
    log2_min: int = -20  # |x| below 2^log2_min falls in the zero bin
    log2_max: int = 12
    n_logit_tokens: int = 10  # top and bottom tokens of each logit table
    context_size: int | None = None  # tokens per context; None: the model's n_ctx
    batch_contexts: int = 16  # contexts per forward pass
    shard_contexts: int = 256  # contexts per shard (a whole number of batches)
    seed: int = 0  # seeds the random keys of quantile and random samples

    def __post_init__(self) -> None:
        for name in ("top_k", "n_quantiles", "per_quantile", "n_random", "bins_per_octave"):
            if getattr(self, name) <= 0:
                raise ValueError(f"CollationConfig.{name} must be positive")
        if min(self.window_before, self.window_after, self.n_logit_tokens) < 0:
            raise ValueError("CollationConfig window sizes and n_logit_tokens must be >= 0")
        if self.log2_max <= self.log2_min:
            raise ValueError("CollationConfig.log2_max must exceed log2_min")
        if self.log2_min < -126 or self.log2_max > 127 or self.bins_per_octave > 32:
            raise ValueError(
                "CollationConfig histogram: need -126 <= log2_min, log2_max <= 127 (float32 "
                "exponents) and bins_per_octave <= 32 (edges have 8 bits of mantissa)"
            )
        if self.context_size is not None and self.context_size < 2:
            raise ValueError("CollationConfig.context_size must be at least 2")
        if self.batch_contexts <= 0 or self.shard_contexts % self.batch_contexts:
            raise ValueError(
                "CollationConfig.shard_contexts must be a positive multiple of batch_contexts "
                f"(got {self.shard_contexts} and {self.batch_contexts})"
            )

    @property
    def window(self) -> int:
        return self.window_before + 1 + self.window_after

    @property
    def n_quantile_samples(self) -> int:
        return self.n_quantiles * self.per_quantile

    @property
    def n_magnitude_bins(self) -> int:
        return (self.log2_max - self.log2_min) * self.bins_per_octave

    @property
    def n_bins(self) -> int:
        return 2 * self.n_magnitude_bins + 1

    @property
    def zero_bin(self) -> int:
        return self.n_magnitude_bins

    def magnitude_edges(self) -> npt.NDArray[np.float64]:
        """e_0 .. e_M: 2^(log2_min + j / bins_per_octave), mantissa rounded to 8 bits."""
        j = np.arange(self.n_magnitude_bins + 1)
        octave, step = self.log2_min + j // self.bins_per_octave, j % self.bins_per_octave
        scale = 1 << MANTISSA_BITS
        mantissa = np.round((2.0 ** (step / self.bins_per_octave) - 1) * scale) / scale
        return np.ldexp(1.0 + mantissa, octave)

    def bin_edges(self) -> npt.NDArray[np.float64]:
        """The n_bins + 1 edges, ascending (see the module docstring)."""
        magnitudes = self.magnitude_edges()
        return np.concatenate([-magnitudes[::-1], magnitudes])

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CollationConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"Unknown CollationConfig keys {unknown}")
        return cls(**data)


@functools.lru_cache(maxsize=8)
def bin_table(log2_min: int, log2_max: int, bins_per_octave: int) -> Tensor:
    """The bin of each cell of float32 bit patterns (the top 17 bits, sign-magnitude: cells
    0 .. 2^16 - 1 hold the positive floats, 2^16 .. 2^17 - 1 the negative ones)."""
    cfg = CollationConfig(log2_min=log2_min, log2_max=log2_max, bins_per_octave=bins_per_octave)
    low = (np.arange(N_CELLS // 2, dtype=np.uint32) << CELL_SHIFT).view(np.float32)
    # Every value of a cell lies between the same two edges as the cell's smallest magnitude.
    edges = cfg.magnitude_edges().astype(np.float32)
    j = np.minimum(np.searchsorted(edges, low, side="right") - 1, cfg.n_magnitude_bins - 1)
    j[np.isnan(low)] = cfg.n_magnitude_bins - 1  # NaN (refused later anyway)
    positive = np.where(j < 0, cfg.zero_bin, cfg.zero_bin + 1 + j)
    negative = np.where(j < 0, cfg.zero_bin, cfg.zero_bin - 1 - j)
    return torch.from_numpy(np.concatenate([positive, negative]).astype(np.int32))


def bin_cells(x: Float[Tensor, "*shape"], cfg: CollationConfig) -> Int[Tensor, "*shape"]:
    """The histogram bin of each float32 value, as int32 (0 .. n_bins - 1)."""
    bits = x.float().contiguous().view(torch.int32)
    cells = torch.bitwise_right_shift(bits, CELL_SHIFT).bitwise_and_(N_CELLS - 1)
    table = bin_table(cfg.log2_min, cfg.log2_max, cfg.bins_per_octave).to(x.device)
    return table.index_select(0, cells.view(-1)).view(x.shape)


def bin_index(x: Float[Tensor, "*shape"], cfg: CollationConfig) -> Int[Tensor, "*shape"]:
    """The histogram bin of each value (0 .. n_bins - 1), as int64."""
    return bin_cells(x, cfg).long()


@dataclass(frozen=True)
class Group:
    """The components of one family at one activation site."""

    family: FamilyName
    site: str

    def __post_init__(self) -> None:
        if self.family not in FAMILY_MEASURES:
            raise ValueError(f"Collation has no family {self.family!r}")

    @property
    def key(self) -> str:
        """Its name in shard files and its directory in a store: family/site."""
        return f"{self.family}/{self.site}"

    @property
    def measures(self) -> tuple[str, ...]:
        return FAMILY_MEASURES[self.family]

    @property
    def layer(self) -> int | None:
        return Site.parse(self.site).layer

    @property
    def splice_site(self) -> str:
        """Where a latent group's autoencoder is spliced."""
        return Site.parse(self.site).splice.name

    @classmethod
    def parse(cls, key: str) -> Group:
        family, _, site = key.partition("/")
        if family not in FAMILY_MEASURES or not site:
            raise ValueError(f"Not a group key (family/site): {key!r}")
        return cls(family, site)  # type: ignore[arg-type]


def model_groups(cfg: TransformerConfig, sae_sites: list[str]) -> list[Group]:
    """Every group of a model: layer by layer, the groups of the families with a site per layer
    (neurons, heads), then one per autoencoder."""
    per_layer = [
        (layer, i, Group(family.node_family, site))
        for i, family in enumerate(NODE_FAMILIES.values())
        if family.collated and not family.by_autoencoder
        for layer, site in enumerate(family.layer_sites(cfg))
    ]
    groups = [group for _, _, group in sorted(per_layer, key=lambda g: g[:2])]
    latent = next(f for f in NODE_FAMILIES.values() if f.collated and f.by_autoencoder)
    sites = sorted(sae_sites)
    return groups + [Group(latent.node_family, Site.parse(s).autoencoder().name) for s in sites]

"""Autoencoders that ship with a model: `{model directory}/saes/{site}/` in SAELens's layout
(`cfg.json`, `sae_weights.safetensors`) with a `card.json` of their metrics.

An autoencoder is named by its model and its site, the hook name it reads and is spliced at:

    sae = load_model_sae("toy-gelu-2l", "blocks.0.mlp.hook_post")
    saes = load_model_saes("toy-gelu-2l")  # {site: autoencoder}, every bundled one
    with splice_saes(model, saes): ...
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from neuron_explainer.models import registry
from neuron_explainer.models.sae_io import SAE_CFG_FILENAME, load_sae
from neuron_explainer.models.sparse_autoencoder import SparseAutoencoder

SAES_DIRNAME = "saes"
CARD_FILENAME = "card.json"


@dataclass(frozen=True)
class SaeEntry:
    model: str
    site: str
    path: Path
    architecture: str
    d_in: int
    d_sae: int
    k: int | None
    card: dict[str, Any] = field(default_factory=dict, compare=False)


def sae_entries(model: str | Path) -> list[SaeEntry]:
    """The autoencoders shipped with `model` (a registry name or a model directory), by site."""
    root = registry.model_directory(model) / SAES_DIRNAME
    entries = []
    if root.is_dir():
        for directory in sorted(root.iterdir()):
            cfg_path = directory / SAE_CFG_FILENAME
            if not cfg_path.is_file():
                continue
            raw = json.loads(cfg_path.read_text())
            card_path = directory / CARD_FILENAME
            card = json.loads(card_path.read_text()) if card_path.is_file() else {}
            entries.append(
                SaeEntry(
                    model=str(model),
                    site=directory.name,
                    path=directory,
                    architecture=str(raw.get("architecture", "relu")),
                    d_in=int(raw["d_in"]),
                    d_sae=int(raw["d_sae"]),
                    k=raw.get("k"),
                    card=card,
                )
            )
    return entries


def sae_entry(model: str | Path, site: str) -> SaeEntry:
    entries = sae_entries(model)
    for e in entries:
        if e.site == site:
            return e
    sites = ", ".join(e.site for e in entries) or "none"
    raise KeyError(f"{str(model)!r} ships no autoencoder at {site!r}; it ships: {sites}")


def load_model_sae(
    model: str | Path,
    site: str,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
) -> SparseAutoencoder:
    """The autoencoder shipped with `model` at `site`, in `dtype` (float32 by default, the
    models' dtype, whatever dtype it is stored in)."""
    return load_sae(sae_entry(model, site).path, device=device, dtype=dtype)


def load_model_saes(
    model: str | Path,
    sites: list[str] | None = None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
) -> dict[str, SparseAutoencoder]:
    """{site: autoencoder} for `sites` (default: every autoencoder shipped with `model`)."""
    chosen = sites if sites is not None else [e.site for e in sae_entries(model)]
    return {site: load_model_sae(model, site, device, dtype) for site in chosen}

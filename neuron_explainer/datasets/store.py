"""Writing a collation store: columnar `.npy` arrays per group, written through `blobfile`.

Layout (documented in datasets/FORMAT.md):

    {store}/index.json                              what is where, shapes, dtypes, sha256s
    {store}/strings.json                            display string of every token id
    {store}/token_bytes.json                        bytes of every token id (hex)
    {store}/{family}/{site}/{measure}.{field}.npy   per measure of the group
    {store}/{family}/{site}/logits.{field}.npy      the group's logit tables

`index.json` is written last: a store without one is incomplete.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping
from typing import Any

import blobfile as bf
import numpy as np
import numpy.typing as npt
import torch

from neuron_explainer.activations.families import get_family
from neuron_explainer.datasets.config import (
    FAMILY_MEASURES,
    FORMAT_VERSION,
    CollationConfig,
    Group,
)
from neuron_explainer.datasets.examples import Examples
from neuron_explainer.datasets.logits import logit_table, output_directions
from neuron_explainer.datasets.plan import CollationPlan
from neuron_explainer.datasets.shards import ShardResult, write_bytes
from neuron_explainer.datasets.stats import MeasureStats
from neuron_explainer.models.sae_splice import splice_saes
from neuron_explainer.models.sparse_autoencoder import SparseAutoencoder
from neuron_explainer.models.transformer import Transformer

STORE_FORMAT = "neuron_explainer.collation"
INDEX_FILENAME = "index.json"
STRINGS_FILENAME = "strings.json"
TOKEN_BYTES_FILENAME = "token_bytes.json"


def join(*parts: str) -> str:
    path: str = bf.join(*parts)
    return path


def array_path(store: str, group: Group, name: str) -> str:
    return join(store, group.family, group.site, f"{name}.npy")


def write_store(
    store: str,
    result: ShardResult,
    model: Transformer,
    saes: Mapping[str, SparseAutoencoder],
    tokens: npt.NDArray[np.uint16],
    plan: CollationPlan,
    cfg: CollationConfig,
    model_name: str,
    model_fingerprint: str,
) -> dict[str, Any]:
    """Finalize: write every group's arrays, the token strings, then the index; returns it."""
    groups_index = []
    with splice_saes(model, saes):
        for key, group_result in sorted(result.groups.items(), key=lambda kv: _order(kv[0])):
            group = Group.parse(key)
            arrays: dict[str, npt.NDArray[Any]] = {}
            n_components = 0
            for measure, stats in group_result.measures.items():
                n_components = int(stats.count.shape[0])
                arrays |= _measure_arrays(measure, stats, group, tokens, plan, cfg)
            directions = output_directions(model, group, group_result.sums)
            if directions is not None:
                table = logit_table(model, directions, cfg.n_logit_tokens)
                for name, t in vars(table).items():
                    dtype = np.int32 if "tokens" in name else np.float32
                    arrays[f"logits.{name}"] = t.cpu().numpy().astype(dtype)
            files = {
                name: _write_array(array_path(store, group, name), a) for name, a in arrays.items()
            }
            groups_index.append(
                {
                    "family": group.family,
                    "site": group.site,
                    "layer": group.layer,
                    "n_components": n_components,
                    "measures": list(group_result.measures),
                    "has_logits": directions is not None,
                    "files": files,
                }
            )
    strings = token_bytes = None
    if model.tokenizer is not None:
        vocabulary = range(model.cfg.d_vocab)
        strings = _write_json(store, STRINGS_FILENAME, model.tokenizer.token_strings(vocabulary))
        # The bytes, so that a window's strings can show a character split over tokens whole.
        hex_bytes = [model.tokenizer.decode_bytes([t]).hex() for t in vocabulary]
        token_bytes = _write_json(store, TOKEN_BYTES_FILENAME, hex_bytes)
    index = {
        "format": STORE_FORMAT,
        "version": FORMAT_VERSION,
        "model": {
            "name": model_name,
            "config": model.cfg.to_dict(),
            "fingerprint": model_fingerprint,
            "autoencoders": sorted(saes),
        },
        "corpus": {
            "tokens_path": plan.tokens_path,
            "token_start": plan.token_start,
            "context_size": plan.context_size,
            "n_contexts": result.n_contexts,
            "n_tokens": result.n_tokens,
        },
        "config": cfg.to_dict(),
        "strings": strings,
        "token_bytes": token_bytes,
        "groups": groups_index,
    }
    write_bytes(join(store, INDEX_FILENAME), (json.dumps(index, indent=1) + "\n").encode())
    return index


def _order(key: str) -> tuple[int, int, str]:
    """Groups by layer, then neurons, heads, latents (as `config.model_groups` lists them)."""
    group = Group.parse(key)
    return (
        -1 if group.layer is None else group.layer,
        list(FAMILY_MEASURES).index(group.family),
        group.site,
    )


def _write_json(store: str, name: str, value: list[str]) -> dict[str, str]:
    data = json.dumps(value).encode()
    write_bytes(join(store, name), data)
    return {"file": name, "sha256": hashlib.sha256(data).hexdigest()}


def _write_array(path: str, array: npt.NDArray[Any]) -> dict[str, Any]:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    data = buffer.getvalue()
    write_bytes(path, data)
    return {
        "shape": list(array.shape),
        "dtype": str(array.dtype),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def _measure_arrays(
    measure: str,
    stats: MeasureStats,
    group: Group,
    tokens: npt.NDArray[np.uint16],
    plan: CollationPlan,
    cfg: CollationConfig,
) -> dict[str, npt.NDArray[Any]]:
    out: dict[str, npt.NDArray[Any]] = {
        f"{measure}.count": stats.count.numpy(),
        f"{measure}.nonzero": stats.nonzero.numpy(),
        f"{measure}.moments": stats.moments.numpy(),
        f"{measure}.hist": stats.hist.numpy(),
    }
    # Quantile samples are stored by value (ascending, empty slots last), so that the readers'
    # q-th group of per_quantile holds the q-th quantile of the sample.
    quantile = stats.quantile
    by_value = torch.argsort(quantile.values.masked_fill(quantile.ids < 0, float("inf")), dim=1)
    sets = {"top": stats.top, "quantile": quantile.take(by_value), "random": stats.random}
    for name, examples in sets.items():
        out |= _example_arrays(f"{measure}.{name}", examples, group, tokens, plan, cfg)
    return out


def _example_arrays(
    prefix: str,
    examples: Examples,
    group: Group,
    tokens: npt.NDArray[np.uint16],
    plan: CollationPlan,
    cfg: CollationConfig,
) -> dict[str, npt.NDArray[Any]]:
    ids = examples.ids.numpy()
    empty = ids < 0
    size = plan.context_size
    pairs = get_family(group.family).pairs  # ids of pairs: query * size + (query - key)
    centre = ids // size if pairs else ids.copy()
    centre[empty] = plan.token_start  # any position inside the corpus; masked below
    context = (centre - plan.token_start) // size
    where = centre[..., None] + np.arange(-cfg.window_before, cfg.window_after + 1)
    inside = ((where - plan.token_start) // size == context[..., None]) & ~empty[..., None]
    window_tokens = np.where(
        inside, tokens[np.clip(where, 0, len(tokens) - 1)].astype(np.int64), -1
    )
    out = {
        f"{prefix}.ids": ids,
        f"{prefix}.values": examples.values.numpy().astype(np.float32),
        f"{prefix}.acts": examples.windows.numpy().astype(np.float32),
        f"{prefix}.tokens": window_tokens.astype(np.int32),
    }
    if pairs:
        key = np.where(empty, plan.token_start, centre - ids % size)
        out[f"{prefix}.key_tokens"] = np.where(empty, -1, tokens[key].astype(np.int64)).astype(
            np.int32
        )
    return out

"""The result of collating a shard of the corpus, its associative merge, and its file.

A shard file is one safetensors file (no pickle) holding every tensor of a `ShardResult` under
the name `{family}/{site}|{measure}|{field}` (fields: count, nonzero, moments, hist and
{top,quantile,random}.{keys,ids,values,windows}) or `{family}/{site}|sums|{name}`, with the shard's
token and context counts and its collation config in the file's metadata.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, fields
from pathlib import Path

import blobfile as bf
from safetensors import SafetensorError
from safetensors.torch import load, save
from torch import Tensor

from neuron_explainer.datasets.config import CollationConfig, Group
from neuron_explainer.datasets.examples import Examples
from neuron_explainer.datasets.stats import MeasureStats, merge_stats

SHARD_FORMAT = "neuron_explainer.collation_shard"
EXAMPLE_SETS = ("top", "quantile", "random")
EXAMPLE_FIELDS = ("keys", "ids", "values", "windows")  # windows: [c, n, window], in slot order


class CollationFileError(ValueError):
    """A collation file (shard, store array or index) is missing, corrupt or inconsistent."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path


@dataclass(frozen=True)
class GroupResult:
    measures: dict[str, MeasureStats]
    sums: dict[str, Tensor]


@dataclass(frozen=True)
class ShardResult:
    """Statistics of every group over some whole contexts of the corpus."""

    groups: dict[str, GroupResult]
    n_tokens: int
    n_contexts: int


def merge(a: ShardResult, b: ShardResult, cfg: CollationConfig, into: bool = False) -> ShardResult:
    """The result of collating the contexts of `a` and `b` together (associative). `into`:
    reuse a's tensors for it (the caller gives `a` up)."""
    if a.groups.keys() != b.groups.keys():
        raise ValueError(f"Cannot merge results of different groups: {a.groups} vs {b.groups}")
    groups = {}
    for key, ga in a.groups.items():
        gb = b.groups[key]
        groups[key] = GroupResult(
            {m: merge_stats(s, gb.measures[m], cfg, into) for m, s in ga.measures.items()},
            {name: t + gb.sums[name] for name, t in ga.sums.items()},
        )
    return ShardResult(groups, a.n_tokens + b.n_tokens, a.n_contexts + b.n_contexts)


def to_tensors(result: ShardResult) -> dict[str, Tensor]:
    out: dict[str, Tensor] = {}
    for key, group in result.groups.items():
        for measure, stats in group.measures.items():
            for f in fields(MeasureStats):
                value = getattr(stats, f.name)
                if isinstance(value, Examples):
                    for name in EXAMPLE_FIELDS:
                        out[f"{key}|{measure}|{f.name}.{name}"] = getattr(value, name)
                else:
                    out[f"{key}|{measure}|{f.name}"] = value
        for name, t in group.sums.items():
            out[f"{key}|sums|{name}"] = t
    return {k: v.contiguous() for k, v in out.items()}


def from_tensors(tensors: dict[str, Tensor], n_tokens: int, n_contexts: int) -> ShardResult:
    parts: dict[str, dict[str, dict[str, Tensor]]] = {}
    for name, t in tensors.items():
        key, measure, field = name.split("|")
        parts.setdefault(key, {}).setdefault(measure, {})[field] = t
    groups = {}
    for key, measures in parts.items():
        sums = measures.pop("sums", {})
        stats = {}
        for measure in Group.parse(key).measures:  # in their canonical order
            f = measures[measure]
            sets = {
                s: Examples.dense(*(f[f"{s}.{name}"] for name in EXAMPLE_FIELDS))
                for s in EXAMPLE_SETS
            }
            stats[measure] = MeasureStats(f["count"], f["nonzero"], f["moments"], f["hist"], **sets)
        groups[key] = GroupResult(stats, sums)
    return ShardResult(groups, n_tokens, n_contexts)


def shard_bytes(result: ShardResult, cfg: CollationConfig) -> bytes:
    """A shard file's bytes: a copy of `result` (which may change afterwards) ready to write."""
    metadata = {
        "format": SHARD_FORMAT,
        "n_tokens": str(result.n_tokens),
        "n_contexts": str(result.n_contexts),
        "config": json.dumps(cfg.to_dict(), sort_keys=True),
    }
    return save(to_tensors(result), metadata=metadata)


def save_shard(result: ShardResult, path: str, cfg: CollationConfig) -> None:
    """Write a shard file; a local file appears only once complete (written aside, renamed)."""
    write_bytes(path, shard_bytes(result, cfg))


def is_local(path: str) -> bool:
    """Not a blobfile URL (gs://, az://, https://)."""
    return "://" not in path


def write_bytes(path: str, data: bytes) -> None:
    if is_local(path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        tmp = f"{path}.tmp{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    else:
        with bf.BlobFile(path, "wb") as f:
            f.write(data)


def read_bytes(path: str) -> bytes:
    try:
        with bf.BlobFile(path, "rb") as f:
            data: bytes = f.read()
    except FileNotFoundError:
        raise CollationFileError(path, "file is missing") from None
    return data


def load_shard(path: str, cfg: CollationConfig) -> ShardResult:
    data = read_bytes(path)
    try:
        tensors = load(data)
        # The safetensors header: its length (u64, little-endian), then JSON with __metadata__.
        header_len = int.from_bytes(data[:8], "little")
        metadata = json.loads(data[8 : 8 + header_len]).get("__metadata__", {})
    except (SafetensorError, ValueError, UnicodeDecodeError) as e:
        raise CollationFileError(path, f"not a readable shard file ({e}); delete it") from None
    if metadata.get("format") != SHARD_FORMAT:
        raise CollationFileError(path, "not a collation shard file")
    if json.loads(metadata["config"]) != cfg.to_dict():
        raise CollationFileError(path, "was collated with another configuration")
    try:
        return from_tensors(tensors, int(metadata["n_tokens"]), int(metadata["n_contexts"]))
    except (KeyError, TypeError, ValueError) as e:
        raise CollationFileError(path, f"incomplete shard file ({e}); delete it") from None

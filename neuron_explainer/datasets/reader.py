"""Reading a collation store: one component's record as JSON-ready data, and layer summaries.

    store = open_store("data/collations/toy-gelu-2l")
    store.record("neuron", 0, 17)                  # or read_record(path, "neuron", 0, 17)
    store.summary("head", 1, by="kurtosis", limit=10)

A group's arrays are read on first use, checked against the sha256 in `index.json`, and kept in
memory, so later records of the group are array lookups. Any missing, corrupt or inconsistent
file raises `CollationFileError` naming the file.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import math
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from neuron_explainer.activations.nodes import latent_site, neuron_site, pattern_site
from neuron_explainer.datasets.config import FORMAT_VERSION, CollationConfig, Group
from neuron_explainer.datasets.shards import CollationFileError, read_bytes
from neuron_explainer.datasets.stats import derived_moments
from neuron_explainer.datasets.store import (
    INDEX_FILENAME,
    STORE_FORMAT,
    STRINGS_FILENAME,
    array_path,
    join,
)

SummaryKey = Literal["kurtosis", "density", "max", "mean", "variance", "skew"]
SUMMARY_KEYS: tuple[str, ...] = ("kurtosis", "density", "max", "mean", "variance", "skew")


def _float(x: float) -> float | None:
    """JSON has no NaN or infinity."""
    return float(x) if math.isfinite(x) else None


class CollationStore:
    """A store's index, with its groups' arrays loaded (and verified) on demand."""

    def __init__(self, root: str) -> None:
        self.root = root
        path = join(root, INDEX_FILENAME)
        try:
            index = json.loads(read_bytes(path))
        except CollationFileError:
            raise CollationFileError(
                path, "missing: no complete collation here (build one with `tdb collate`)"
            ) from None
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise CollationFileError(path, f"is not valid JSON ({e})") from None
        if index.get("format") != STORE_FORMAT or index.get("version") != FORMAT_VERSION:
            raise CollationFileError(
                path, f"not a collation store of format version {FORMAT_VERSION}"
            )
        self.index: dict[str, Any] = index
        self.cfg = CollationConfig.from_dict(index["config"])
        self._groups = {(g["family"], g["site"]): g for g in index["groups"]}
        self._arrays: dict[str, npt.NDArray[Any]] = {}
        self._strings: list[str] | None = None

    # ---- files ---------------------------------------------------------------------------------

    def group(self, family: str, layer: int | str) -> tuple[Group, dict[str, Any]]:
        """A group by family and site (for latents also the autoencoder's splice site), or by
        layer for neurons, heads and a layer's only autoencoder."""
        if isinstance(layer, str) and family == "latent" and (family, layer) not in self._groups:
            layer = latent_site(layer)  # blocks.0.mlp.hook_post -> its hook_sae_acts_post
        if isinstance(layer, str) and (family, layer) in self._groups:
            return Group(family, layer), self._groups[family, layer]  # type: ignore[arg-type]
        if isinstance(layer, int) and family in ("neuron", "head"):
            site = neuron_site(layer) if family == "neuron" else pattern_site(layer)
            if (family, site) in self._groups:
                return Group(family, site), self._groups[family, site]  # type: ignore[arg-type]
        if isinstance(layer, int):
            matches = [s for f, s in self._groups if f == family and Group(f, s).layer == layer]
            if len(matches) == 1:
                return self.group(family, matches[0])
        known = ", ".join(f"{f} {s}" for f, s in self._groups)
        raise KeyError(f"No {family} group at {layer!r} in {self.root}; it holds: {known}")

    def array(self, group: Group, name: str) -> npt.NDArray[Any]:
        path = array_path(self.root, group, name)
        if path in self._arrays:
            return self._arrays[path]
        info = self._groups[group.family, group.site]["files"].get(name)
        if info is None:
            raise KeyError(f"The store has no array {name!r} for {group.key}")
        data = read_bytes(path)
        if hashlib.sha256(data).hexdigest() != info["sha256"]:
            raise CollationFileError(path, "is corrupt (its sha256 differs from index.json)")
        try:
            array: npt.NDArray[Any] = np.load(io.BytesIO(data), allow_pickle=False)
        except ValueError as e:
            raise CollationFileError(path, f"is not a readable .npy file ({e})") from None
        if list(array.shape) != info["shape"] or str(array.dtype) != info["dtype"]:
            raise CollationFileError(path, "shape or dtype differs from index.json")
        self._arrays[path] = array
        return array

    def strings(self) -> list[str] | None:
        info = self.index.get("strings")
        if info is None:
            return None
        if self._strings is None:
            path = join(self.root, STRINGS_FILENAME)
            data = read_bytes(path)
            if hashlib.sha256(data).hexdigest() != info["sha256"]:
                raise CollationFileError(path, "is corrupt (its sha256 differs from index.json)")
            self._strings = json.loads(data)
        return self._strings

    # ---- records -------------------------------------------------------------------------------

    def record(self, family: str, layer: int | str, index: int) -> dict[str, Any]:
        """Everything collated about one component, as JSON-ready data."""
        group, info = self.group(family, layer)
        if not 0 <= index < info["n_components"]:
            raise KeyError(f"{group.key} has components 0..{info['n_components'] - 1}, not {index}")
        out: dict[str, Any] = {
            "family": group.family,
            "site": group.site,
            "layer": group.layer,
            "index": index,
            "measures": {m: self._measure(group, m, index) for m in info["measures"]},
        }
        if info["has_logits"]:
            out["logits"] = {
                side: self._token_scores(group, side, index) for side in ("top", "bottom")
            }
        return out

    def _measure(self, group: Group, measure: str, c: int) -> dict[str, Any]:
        a = functools.partial(self.array, group)
        count, nonzero = int(a(f"{measure}.count")[c]), int(a(f"{measure}.nonzero")[c])
        moments = derived_moments(
            a(f"{measure}.count")[c : c + 1], a(f"{measure}.moments")[c : c + 1]
        )
        top = self._examples(group, f"{measure}.top", c)
        quantile = self._examples(group, f"{measure}.quantile", c)
        # Sorted by value: group q holds the samples of ranks [q n / Q, (q + 1) n / Q).
        n_q = self.cfg.n_quantiles
        bounds = [q * len(quantile) // n_q for q in range(n_q + 1)]
        return {
            "stats": {
                "count": count,
                "nonzero": nonzero,
                "density": nonzero / count if count else None,
                "mean": _float(moments.mean[0]),
                "variance": _float(moments.variance[0]),
                "skew": _float(moments.skew[0]),
                "kurtosis": _float(moments.kurtosis[0]),
                "max": top[0]["value"] if top else None,
            },
            "histogram": self._histogram(a(f"{measure}.hist")[c]),
            "top": [e for e in top if e["value"] != 0],  # a zero is no activating example
            "quantiles": [
                {
                    "quantile": q,
                    "low": quantile[bounds[q]]["value"],
                    "high": quantile[bounds[q + 1] - 1]["value"],
                    "examples": quantile[bounds[q] : bounds[q + 1]],
                }
                for q in range(n_q)
                if bounds[q + 1] > bounds[q]
            ],
            "random": self._examples(group, f"{measure}.random", c),
        }

    def _histogram(self, counts: npt.NDArray[np.int64]) -> dict[str, Any]:
        """Non-empty span of the histogram: bin edges (the outermost bins are open) and counts."""
        used = np.flatnonzero(counts)
        if len(used) == 0:
            return {"edges": [], "counts": []}
        lo, hi = int(used[0]), int(used[-1])
        edges = self.cfg.bin_edges()[lo : hi + 2]
        return {"edges": edges.tolist(), "counts": counts[lo : hi + 1].tolist()}

    def _examples(self, group: Group, prefix: str, c: int) -> list[dict[str, Any]]:
        ids = self.array(group, f"{prefix}.ids")[c]
        keep = ids >= 0
        values = self.array(group, f"{prefix}.values")[c][keep].tolist()
        acts = self.array(group, f"{prefix}.acts")[c][keep]
        tokens = self.array(group, f"{prefix}.tokens")[c][keep]
        is_head = group.family == "head"
        key_tokens = self.array(group, f"{prefix}.key_tokens")[c][keep] if is_head else None
        size = int(self.index["corpus"]["context_size"])
        strings = self.strings()
        out = []
        for i, node in enumerate(ids[keep].tolist()):
            inside = tokens[i] >= 0
            first = int(np.argmax(inside))
            ids_here = tokens[i][inside].tolist()
            example: dict[str, Any] = {
                "value": values[i],
                "id": node,
                "position": self.cfg.window_before - first,  # the node's token in the window
                "tokens": ids_here,
                "activations": acts[i][inside].tolist(),
            }
            if strings is not None:
                example["strings"] = [strings[t] for t in ids_here]
            if key_tokens is not None:
                distance = node % size
                example["key_distance"] = distance
                example["key_token"] = int(key_tokens[i])
                if strings is not None:
                    example["key_string"] = strings[int(key_tokens[i])]
            out.append(example)
        return out

    def _token_scores(self, group: Group, side: str, c: int) -> list[dict[str, Any]]:
        tokens = self.array(group, f"logits.{side}_tokens")[c].tolist()
        values = self.array(group, f"logits.{side}_values")[c].tolist()
        strings = self.strings()
        return [
            {"token": t, "string": strings[t] if strings else None, "value": v}
            for t, v in zip(tokens, values, strict=True)
        ]

    # ---- summaries -----------------------------------------------------------------------------

    def summary(
        self,
        family: str,
        layer: int | str,
        by: str = "kurtosis",
        limit: int = 20,
        measure: str | None = None,
        ascending: bool = False,
    ) -> list[dict[str, Any]]:
        """The group's components ranked by a statistic (NaN last), `limit` of them."""
        if by not in SUMMARY_KEYS:
            raise ValueError(f"Cannot rank by {by!r}; choose one of {SUMMARY_KEYS}")
        group, info = self.group(family, layer)
        measure = measure or info["measures"][0]
        if measure not in info["measures"]:
            raise KeyError(f"{group.key} has measures {info['measures']}, not {measure!r}")
        count = self.array(group, f"{measure}.count")
        moments = derived_moments(count, self.array(group, f"{measure}.moments"))
        with np.errstate(divide="ignore", invalid="ignore"):
            density = self.array(group, f"{measure}.nonzero") / count
        top = self.array(group, f"{measure}.top.values")[:, 0].astype(np.float64)
        table = {
            "kurtosis": moments.kurtosis,
            "density": density,
            "max": np.where(np.isfinite(top), top, np.nan),
            "mean": moments.mean,
            "variance": moments.variance,
            "skew": moments.skew,
        }
        key = table[by]
        ranked = np.where(np.isnan(key), np.inf, key if ascending else -key)
        order = np.argsort(ranked, kind="stable")[:limit]
        return [
            {"index": int(i), **{name: _float(column[i]) for name, column in table.items()}}
            for i in order
        ]


@functools.lru_cache(maxsize=16)
def open_store(root: str) -> CollationStore:
    """The store at `root`, cached (`open_store.cache_clear()` after rebuilding one)."""
    return CollationStore(root)


def read_record(root: str, family: str, layer: int | str, index: int) -> dict[str, Any]:
    return open_store(root).record(family, layer, index)


def layer_summary(
    root: str, family: str, layer: int | str, by: str = "kurtosis", limit: int = 20
) -> list[dict[str, Any]]:
    return open_store(root).summary(family, layer, by=by, limit=limit)

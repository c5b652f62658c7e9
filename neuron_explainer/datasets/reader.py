"""Reading a collation store: one component's record and layer summaries, as the typed records
of `records.py` (`as_json` turns one into JSON-ready data).

    store = open_store("data/collations/toy-gelu-2l")
    store.record("neuron", 0, 17)                  # or read_record(path, "neuron", 0, 17)
    store.summary("head", 1, by="kurtosis", limit=10)

`index.json` is checked when the store opens (`store_index.check_index`). A group's arrays are
read on first use, checked against the sha256, shape and dtype in `index.json`, and kept in a
shared `ArrayCache` (least recently used dropped past `DEFAULT_CACHE_BYTES`, 512 MiB), so later
records of the group are array lookups. A store without `index.json` raises `StoreMissingError`;
any missing, unreadable, corrupt or inconsistent file of a store raises `StoreDefectError` (both
`CollationFileError`s) naming the file.

Example windows show text: with the tokens' bytes (`token_bytes.json`) a window's strings are
`text_strings` of its tokens, so a character split over byte-level tokens reads whole on the
token holding its last byte; a store written before that file existed shows each token's own
string from `strings.json` (bytes of no whole character escaped), as do the logit tables,
whose tokens are unrelated.

`open_store` keeps the stores it opened (their indexes, token strings and bytes; the arrays are in
its one array cache), at most `MAX_OPEN_STORES`, and opens a store again once its `index.json`
changed (a store rebuilt while a server runs is served at once). `StoreCache(max_bytes)` is
the same with another array budget.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Literal

import blobfile as bf
import numpy as np
import numpy.typing as npt

from neuron_explainer.activations.families import NODE_FAMILIES, get_family
from neuron_explainer.datasets.array_cache import DEFAULT_CACHE_BYTES, ArrayCache
from neuron_explainer.datasets.config import Group
from neuron_explainer.datasets.records import (
    ComponentRecord,
    Example,
    Histogram,
    LayerSummary,
    LogitTables,
    Measure,
    Quantile,
    Stats,
    SummaryRow,
    TokenValue,
)
from neuron_explainer.datasets.shards import CollationFileError, read_bytes
from neuron_explainer.datasets.stats import derived_moments
from neuron_explainer.datasets.store import (
    INDEX_FILENAME,
    STRINGS_FILENAME,
    TOKEN_BYTES_FILENAME,
    join,
)
from neuron_explainer.datasets.store_errors import (
    IndexDefectError,
    StoreDefectError,
    StoreMissingError,
)
from neuron_explainer.datasets.store_index import check_index
from neuron_explainer.models.sites import Site
from neuron_explainer.models.token_text import text_strings

SummaryKey = Literal["kurtosis", "density", "max", "mean", "variance", "skew"]
SUMMARY_KEYS: tuple[str, ...] = ("kurtosis", "density", "max", "mean", "variance", "skew")
MAX_OPEN_STORES = 16


def _latents_site(family: str, site: str) -> str:
    """For a family named by its autoencoder's site (latents), the site of the latents of the
    autoencoder spliced at `site`; otherwise, or for a name that is no splice site, `site`."""
    known = NODE_FAMILIES.get(family)
    if known is None or not known.by_autoencoder:
        return site
    try:
        return Site.parse(site).autoencoder().name
    except ValueError:
        return site


def _float(x: float) -> float | None:
    """JSON has no NaN or infinity."""
    return float(x) if math.isfinite(x) else None


class CollationStore:
    """A store's index, with its groups' arrays loaded (and verified) on demand into `arrays`
    (a cache of its own unless given one)."""

    def __init__(self, root: str, arrays: ArrayCache | None = None) -> None:
        self.root = root
        index = json_file(root, INDEX_FILENAME)
        self.cfg = check_index(root, index)
        self.index: dict[str, Any] = index
        self._groups = {(g["family"], g["site"]): g for g in index["groups"]}
        self._arrays = arrays if arrays is not None else ArrayCache()
        self._strings: list[str] | None = None
        self._token_bytes: list[bytes] | None = None

    # ---- files ---------------------------------------------------------------------------------

    def group(self, family: str, layer: int | str) -> tuple[Group, dict[str, Any]]:
        """A group by family and site (for latents also the autoencoder's splice site), or by
        layer for neurons, heads and a layer's only autoencoder."""
        if isinstance(layer, str) and (family, layer) not in self._groups:
            layer = _latents_site(family, layer)  # blocks.0.mlp.hook_post -> its latents' site
        if isinstance(layer, str) and (family, layer) in self._groups:
            return Group(family, layer), self._groups[family, layer]  # type: ignore[arg-type]
        if isinstance(layer, int):
            matches = [s for f, s in self._groups if f == family and Group(f, s).layer == layer]
            if len(matches) == 1:
                return self.group(family, matches[0])
        known = ", ".join(f"{f} {s}" for f, s in self._groups)
        name = bf.basename(self.root)
        raise KeyError(f"No {family} group at {layer!r} in the store {name}; it holds: {known}")

    def array(self, group: Group, name: str) -> npt.NDArray[Any]:
        info = self._groups[group.family, group.site]["files"].get(name)
        if info is None:
            raise KeyError(f"The store has no array {name!r} for {group.key}")
        component = f"{group.family}/{group.site}/{name}.npy"
        key = (join(self.root, component), info["sha256"])
        cached = self._arrays.get(key)
        if cached is not None:
            return cached
        data = checked_file(self.root, component, info["sha256"])
        try:
            array: npt.NDArray[Any] = np.load(io.BytesIO(data), allow_pickle=False)
        except Exception as e:  # numpy's parser raises ValueError, EOFError, TokenError, ...
            problem = f"is no readable .npy ({type(e).__name__}: {e})"
            raise StoreDefectError(self.root, component, problem) from None
        if list(array.shape) != info["shape"] or str(array.dtype) != info["dtype"]:
            raise StoreDefectError(
                self.root,
                component,
                f"holds {array.dtype} {list(array.shape)}, index.json says "
                f"{info['dtype']} {info['shape']}",
            )
        self._arrays.put(key, array)
        return array

    def strings(self) -> list[str] | None:
        """The display string of every token id; None for a model without a tokenizer."""
        info = self.index["strings"]
        if info is None:
            return None
        if self._strings is None:
            strings = json_file(self.root, STRINGS_FILENAME, info["sha256"])
            if not isinstance(strings, list) or not all(isinstance(t, str) for t in strings):
                raise StoreDefectError(self.root, STRINGS_FILENAME, "is not a list of strings")
            self._check_vocabulary(STRINGS_FILENAME, len(strings), "token strings")
            self._strings = strings
        return self._strings

    def token_bytes(self) -> list[bytes] | None:
        """The bytes of every token id; None for a model without a tokenizer and for a store
        written before `token_bytes.json` existed."""
        info = self.index.get("token_bytes")
        if info is None:
            return None
        if self._token_bytes is None:
            hex_bytes = json_file(self.root, TOKEN_BYTES_FILENAME, info["sha256"])
            if not isinstance(hex_bytes, list) or not all(isinstance(t, str) for t in hex_bytes):
                raise StoreDefectError(
                    self.root, TOKEN_BYTES_FILENAME, "is not a list of hex strings"
                )
            try:
                token_bytes = [bytes.fromhex(t) for t in hex_bytes]
            except ValueError as e:
                problem = f"is not a list of hex strings ({e})"
                raise StoreDefectError(self.root, TOKEN_BYTES_FILENAME, problem) from None
            self._check_vocabulary(TOKEN_BYTES_FILENAME, len(token_bytes), "tokens' bytes")
            self._token_bytes = token_bytes
        return self._token_bytes

    def _check_vocabulary(self, component: str, n: int, what: str) -> None:
        """A file of one entry per token id holds one for each of the model's tokens."""
        d_vocab = self.index["model"].get("config", {}).get("d_vocab")
        if isinstance(d_vocab, int) and n < d_vocab:
            raise StoreDefectError(
                self.root, component, f"holds {n} {what}, not one for each of {d_vocab} tokens"
            )

    # ---- records -------------------------------------------------------------------------------

    def record(self, family: str, layer: int | str, index: int) -> ComponentRecord:
        """Everything collated about one component."""
        group, info = self.group(family, layer)
        if not 0 <= index < info["n_components"]:
            raise KeyError(f"{group.key} has components 0..{info['n_components'] - 1}, not {index}")
        logits = None
        if info["has_logits"]:
            logits = LogitTables(
                top=self._token_scores(group, "top", index),
                bottom=self._token_scores(group, "bottom", index),
            )
        return ComponentRecord(
            family=group.family,
            site=group.site,
            layer=group.layer,
            index=index,
            measures={m: self._measure(group, m, index) for m in info["measures"]},
            logits=logits,
        )

    def _measure(self, group: Group, measure: str, c: int) -> Measure:
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
        return Measure(
            stats=Stats(
                count=count,
                nonzero=nonzero,
                density=nonzero / count if count else None,
                mean=_float(moments.mean[0]),
                variance=_float(moments.variance[0]),
                skew=_float(moments.skew[0]),
                kurtosis=_float(moments.kurtosis[0]),
                max=top[0].value if top else None,
            ),
            histogram=self._histogram(a(f"{measure}.hist")[c]),
            top=[e for e in top if e.value != 0],  # a zero is no activating example
            quantiles=[
                Quantile(
                    quantile=q,
                    low=quantile[bounds[q]].value,
                    high=quantile[bounds[q + 1] - 1].value,
                    examples=quantile[bounds[q] : bounds[q + 1]],
                )
                for q in range(n_q)
                if bounds[q + 1] > bounds[q]
            ],
            random=self._examples(group, f"{measure}.random", c),
        )

    def _histogram(self, counts: npt.NDArray[np.int64]) -> Histogram:
        """Non-empty span of the histogram: bin edges (the outermost bins are open) and counts."""
        used = np.flatnonzero(counts)
        if len(used) == 0:
            return Histogram(edges=[], counts=[])
        lo, hi = int(used[0]), int(used[-1])
        edges = self.cfg.bin_edges()[lo : hi + 2]
        return Histogram(edges=edges.tolist(), counts=counts[lo : hi + 1].tolist())

    def _examples(self, group: Group, prefix: str, c: int) -> list[Example]:
        ids = self.array(group, f"{prefix}.ids")[c]
        keep = ids >= 0
        values = self.array(group, f"{prefix}.values")[c][keep].tolist()
        acts = self.array(group, f"{prefix}.acts")[c][keep]
        tokens = self.array(group, f"{prefix}.tokens")[c][keep]
        is_head = get_family(group.family).pairs
        key_tokens = self.array(group, f"{prefix}.key_tokens")[c][keep] if is_head else None
        size = int(self.index["corpus"]["context_size"])
        strings = self.strings()
        token_bytes = self.token_bytes()
        out = []
        for i, node in enumerate(ids[keep].tolist()):
            inside = tokens[i] >= 0
            first = int(np.argmax(inside))
            position = self.cfg.window_before - first  # the node's token in the window
            ids_here = tokens[i][inside].tolist()
            window: list[str] | None = None
            if token_bytes is not None:
                window = text_strings([token_bytes[t] for t in ids_here])
            elif strings is not None:
                window = [strings[t] for t in ids_here]
            distance: int | None = None
            key_token: int | None = None
            key_string: str | None = None
            if key_tokens is not None:
                distance = node % size
                key_token = int(key_tokens[i])
                # The key reads as in the window when the window holds it (the same context:
                # cut at its start, never in it), else as its own token.
                if window is not None and position - distance >= 0:
                    key_string = window[position - distance]
                elif strings is not None:
                    key_string = strings[key_token]
            example = Example(
                value=values[i],
                id=node,
                position=position,
                tokens=ids_here,
                activations=acts[i][inside].tolist(),
                strings=window,
                key_distance=distance,
                key_token=key_token,
                key_string=key_string,
            )
            out.append(example)
        return out

    def _token_scores(self, group: Group, side: str, c: int) -> list[TokenValue]:
        tokens = self.array(group, f"logits.{side}_tokens")[c].tolist()
        values = self.array(group, f"logits.{side}_values")[c].tolist()
        strings = self.strings()
        return [
            TokenValue(token=t, string=strings[t] if strings else None, value=v)
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
    ) -> LayerSummary:
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
        rows = [
            SummaryRow(
                index=int(i),
                kurtosis=_float(moments.kurtosis[i]),
                density=_float(density[i]),
                max=_float(table["max"][i]),
                mean=_float(moments.mean[i]),
                variance=_float(moments.variance[i]),
                skew=_float(moments.skew[i]),
            )
            for i in order
        ]
        return LayerSummary(family=group.family, site=group.site, by=by, rows=rows)


class StoreCache:
    """Open stores, at most `max_stores` (the least recently used closed first), sharing one
    array cache of `max_bytes`; a store whose `index.json` changed is opened again.
    `cache(root)` is `cache.open(root)`; `opener` makes the store objects (a server's subclass)."""

    def __init__(
        self,
        max_bytes: int = DEFAULT_CACHE_BYTES,
        max_stores: int = MAX_OPEN_STORES,
        opener: Callable[[str, ArrayCache], CollationStore] = CollationStore,
    ) -> None:
        self.arrays = ArrayCache(max_bytes)
        self.max_stores = max_stores
        self._opener = opener
        self._stores: OrderedDict[str, tuple[tuple[float, int], CollationStore]] = OrderedDict()
        self._lock = threading.Lock()

    def open(self, root: str) -> CollationStore:
        try:
            stat = bf.stat(join(root, INDEX_FILENAME))
            stamp = (float(stat.mtime), int(stat.size))
        except OSError:
            stamp = None  # the store's own checks say what is wrong
        with self._lock:
            held = self._stores.get(root)
            if held is not None and held[0] == stamp:
                self._stores.move_to_end(root)
                return held[1]
        store = self._opener(root, self.arrays)
        if stamp is not None:
            with self._lock:
                self._stores[root] = (stamp, store)
                self._stores.move_to_end(root)
                while len(self._stores) > self.max_stores:
                    self._stores.popitem(last=False)
        return store

    __call__ = open

    def __len__(self) -> int:
        return len(self._stores)

    def cache_clear(self) -> None:
        with self._lock:
            self._stores.clear()
        self.arrays.clear()


open_store = StoreCache()  # open_store(root): the store at `root`, from the process's cache


def read_record(root: str, family: str, layer: int | str, index: int) -> ComponentRecord:
    return open_store(root).record(family, layer, index)


def layer_summary(
    root: str, family: str, layer: int | str, by: str = "kurtosis", limit: int = 20
) -> LayerSummary:
    return open_store(root).summary(family, layer, by=by, limit=limit)


def checked_file(root: str, component: str, sha256: str) -> bytes:
    """A store's file, read and checked against its sha256 in `index.json`."""
    data = _read(root, component)
    if not data:
        raise StoreDefectError(root, component, "is empty")
    if hashlib.sha256(data).hexdigest() != sha256:
        raise StoreDefectError(root, component, "is corrupt (its sha256 differs from index.json)")
    return data


def json_file(root: str, component: str, sha256: str | None = None) -> Any:
    """A store's JSON file (its index, its token strings), checked against `sha256` if given."""
    data = _read(root, component) if sha256 is None else checked_file(root, component, sha256)
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        defect = IndexDefectError if component == INDEX_FILENAME else StoreDefectError
        raise defect(root, component, f"is not valid JSON ({e})") from None


def _read(root: str, component: str) -> bytes:
    try:
        return read_bytes(join(root, component))
    except CollationFileError:
        if component == INDEX_FILENAME:
            raise StoreMissingError(
                join(root, component),
                "missing: no complete collation here (build one with `tdb collate`)",
            ) from None
        raise StoreDefectError(root, component, "file is missing") from None
    except OSError as e:  # a directory, no permission, ...: said without the path
        defect = IndexDefectError if component == INDEX_FILENAME else StoreDefectError
        raise defect(
            root, component, f"cannot be read ({e.strerror or type(e).__name__})"
        ) from None

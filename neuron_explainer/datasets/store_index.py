"""The checks a store's `index.json` passes when the store opens, so that a reader never meets a
missing key or a value of the wrong type halfway through a request.

The index is checked against its schema (keys and types, strictly: `"3"` is no integer), then
for what the reader relies on: every array a group's measures need, each array's first axis of
`n_components`, and a configuration `CollationConfig` accepts. Any failure is an
`IndexDefectError` naming the first offending key.
"""

from __future__ import annotations

from typing import Any, NotRequired

from pydantic import TypeAdapter, ValidationError
from typing_extensions import TypedDict

from neuron_explainer.datasets.config import FAMILY_MEASURES, FORMAT_VERSION, CollationConfig
from neuron_explainer.datasets.shards import EXAMPLE_SETS
from neuron_explainer.datasets.store import INDEX_FILENAME, STORE_FORMAT
from neuron_explainer.datasets.store_errors import IndexDefectError

EXAMPLE_ARRAYS = ("ids", "values", "acts", "tokens")
LOGIT_ARRAYS = tuple(
    f"logits.{side}_{f}" for side in ("top", "bottom") for f in ("tokens", "values")
)


class ArrayInfo(TypedDict):
    shape: list[int]
    dtype: str
    sha256: str


class GroupInfo(TypedDict):
    family: str
    site: str
    layer: int | None
    n_components: int
    measures: list[str]
    has_logits: bool
    files: dict[str, ArrayInfo]


class CorpusInfo(TypedDict):
    token_start: int
    context_size: int
    n_contexts: int
    n_tokens: int


class StringsInfo(TypedDict):
    file: str
    sha256: str


class ModelInfo(TypedDict, total=False):
    name: str
    config: dict[str, Any]


class Index(TypedDict):
    format: str
    version: int
    model: ModelInfo
    corpus: CorpusInfo
    config: dict[str, Any]
    strings: StringsInfo | None
    # Absent in stores written before it (their example windows show per-token strings).
    token_bytes: NotRequired[StringsInfo | None]
    groups: list[GroupInfo]


_INDEX = TypeAdapter(Index)


def check_index(root: str, index: Any) -> CollationConfig:
    """The store's collation config, once `index` (parsed `index.json`) passes every check."""

    def defect(problem: str) -> IndexDefectError:
        return IndexDefectError(root, INDEX_FILENAME, problem)

    if not isinstance(index, dict):
        raise defect(f"holds a JSON {type(index).__name__}, not an object")
    if index.get("format") != STORE_FORMAT or index.get("version") != FORMAT_VERSION:
        raise defect(
            f"is not a collation store of format version {FORMAT_VERSION} (it says "
            f"{index.get('format')!r} version {index.get('version')!r})"
        )
    try:
        _INDEX.validate_python(index, strict=True)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise defect(f"{where}: {first['msg']}") from None
    try:
        cfg = CollationConfig.from_dict(index["config"])
    except (TypeError, ValueError) as e:
        raise defect(f"config: not a collation configuration ({e})") from None
    for i, group in enumerate(index["groups"]):
        where = f"groups.{i} ({group['family']} {group['site']})"
        known = FAMILY_MEASURES.get(group["family"])
        if known is None or not set(group["measures"]) <= set(known):
            raise defect(f"{where}: no family {group['family']!r} with measures {known}")
        missing = [n for n in required_arrays(group) if n not in group["files"]]
        if missing:
            raise defect(f"{where}: lists no array {', '.join(missing)}")
        for name, info in group["files"].items():
            if not info["shape"] or info["shape"][0] != group["n_components"]:
                raise defect(
                    f"{where}: array {name} has shape {info['shape']}, not one row for each of "
                    f"its {group['n_components']} components"
                )
    return cfg


def required_arrays(group: dict[str, Any]) -> list[str]:
    """The arrays the reader reads of a group (FORMAT.md, 'The store')."""
    names = []
    for m in group["measures"]:
        names += [f"{m}.count", f"{m}.nonzero", f"{m}.moments", f"{m}.hist"]
        for s in EXAMPLE_SETS:
            names += [f"{m}.{s}.{field}" for field in EXAMPLE_ARRAYS]
            if group["family"] == "head":
                names.append(f"{m}.{s}.key_tokens")
    if group["has_logits"]:
        names += LOGIT_ARRAYS
    return names

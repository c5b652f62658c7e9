"""The offline training corpus: documents extracted from Debian packages and the Python source.

`datasets/corpus/manifest.json` lists the sources (Debian package, file globs, format, kind,
licence). `build_corpus` extracts every source deterministically (sorted files), drops
duplicate documents (hash of the whitespace-normalised text), assigns each document to a
split by a stable hash of its text, orders each split by a seeded hash (a fixed shuffle that
does not depend on the order sources are read in), and writes

    {data_dir}/corpus/{train,validation,collation}.txt   documents joined by <|endoftext|>
    {data_dir}/corpus/corpus_info.json                    sources, sizes, hashes, counts

Command line: `python -m neuron_explainer.training.corpus --data-dir DIR [--sources A B]
[--max-bytes-per-source N] [--update-manifest]`.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import sys
import sysconfig
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from neuron_explainer.training.corpus_sources import EXTRACTORS, SEPARATOR

DEFAULT_MANIFEST = Path(__file__).resolve().parents[2] / "datasets/corpus/manifest.json"
SPLITS = ("train", "validation", "collation")
KINDS = ("prose", "code")


class CorpusSourceMissingError(FileNotFoundError):
    """A source of the manifest has no files on this machine."""


@dataclass(frozen=True)
class Source:
    name: str
    kind: str
    format: str
    root: Path
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    licence: str
    debian_package: str | None
    options: dict[str, Any] = field(default_factory=dict)

    def install_hint(self) -> str:
        if self.debian_package:
            return f"run `apt-get install -y {self.debian_package}`"
        return "see datasets/corpus/README.md"

    def files(self) -> list[Path]:
        """The source's files, sorted by their path relative to `root`."""
        found: dict[str, Path] = {}
        for pattern in self.include:
            for path in self.root.glob(pattern):
                rel = path.relative_to(self.root).as_posix()
                if path.is_file() and not any(fnmatch.fnmatch(rel, e) for e in self.exclude):
                    found[rel] = path
        return [found[rel] for rel in sorted(found)]


def _expand_root(root: str, manifest_dir: Path) -> Path:
    expanded = root.replace("{stdlib}", sysconfig.get_paths()["stdlib"])
    path = Path(expanded)
    return path if path.is_absolute() else (manifest_dir / path).resolve()


def load_manifest(manifest_path: str | Path | None = None) -> dict[str, Any]:
    path = Path(manifest_path) if manifest_path is not None else DEFAULT_MANIFEST
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return manifest


def manifest_sources(manifest: dict[str, Any], manifest_dir: Path) -> list[Source]:
    sources = []
    for entry in manifest["sources"]:
        if entry["kind"] not in KINDS:
            raise ValueError(f"source {entry['name']!r}: kind must be one of {KINDS}")
        if entry["format"] not in EXTRACTORS:
            raise ValueError(f"source {entry['name']!r}: unknown format {entry['format']!r}")
        sources.append(
            Source(
                name=entry["name"],
                kind=entry["kind"],
                format=entry["format"],
                root=_expand_root(entry["root"], manifest_dir),
                include=tuple(entry["include"]),
                exclude=tuple(entry.get("exclude", ())),
                licence=entry["licence"],
                debian_package=entry.get("debian_package"),
                options=dict(entry.get("options", {})),
            )
        )
    return sources


def normalized_hash(text: str) -> bytes:
    """The deduplication key: SHA-256 of the text with all runs of whitespace made one space."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).digest()


def assign_split(key: bytes, seed: int, fractions: dict[str, float]) -> str:
    """A split from a stable hash of the document, independent of the order of documents."""
    digest = hashlib.blake2b(key, digest_size=8, key=f"split-{seed}".encode()).digest()
    u = int.from_bytes(digest, "little") / 2**64
    threshold = 0.0
    for split in ("validation", "collation"):
        threshold += fractions[split]
        if u < threshold:
            return split
    return "train"


def shuffle_key(key: bytes, seed: int) -> bytes:
    return hashlib.blake2b(key, digest_size=16, key=f"order-{seed}".encode()).digest()


@dataclass
class _Doc:
    order: bytes
    split: str
    kind: str
    text: str


def _select(sources: list[Source], names: Sequence[str] | None) -> list[Source]:
    if names is None:
        return sources
    by_name = {s.name: s for s in sources}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ValueError(f"unknown corpus sources {unknown}; the manifest has {sorted(by_name)}")
    return [by_name[n] for n in names]


def check_sources(sources: Sequence[Source]) -> dict[str, list[Path]]:
    """The files of every source; raises `CorpusSourceMissingError` naming what to install."""
    files: dict[str, list[Path]] = {}
    missing = []
    for source in sources:
        found = source.files() if source.root.is_dir() else []
        if not found:
            patterns = ", ".join(str(source.root / p) for p in source.include)
            missing.append(
                f"source {source.name} missing: no files match {patterns}; {source.install_hint()}"
            )
        files[source.name] = found
    if missing:
        raise CorpusSourceMissingError("\n".join(missing))
    return files


def _iter_source(
    source: Source, files: list[Path], max_bytes: int | None, bar: Any
) -> Iterator[str]:
    extractor = EXTRACTORS[source.format]
    total = 0
    for path in files:
        bar.update(1)
        if max_bytes is not None and total >= max_bytes:
            continue
        for text in extractor(path, source.options):
            if max_bytes is not None and total >= max_bytes:
                break
            total += len(text.encode("utf-8"))
            yield text


def _write_split(path: Path, docs: list[_Doc]) -> dict[str, Any]:
    digest = hashlib.sha256()
    size = 0
    kinds = dict.fromkeys(KINDS, 0)
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for i, doc in enumerate(docs):
            chunk = (SEPARATOR if i else "") + doc.text
            data = chunk.encode("utf-8")
            digest.update(data)
            size += len(data)
            kinds[doc.kind] += len(doc.text.encode("utf-8"))
            f.write(chunk)
    return {
        "documents": len(docs),
        "bytes": size,
        "bytes_by_kind": kinds,
        "sha256": digest.hexdigest(),
    }


def build_corpus(
    data_dir: str | Path,
    manifest_path: str | Path | None = None,
    sources: list[str] | None = None,
    max_bytes_per_source: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Extract, deduplicate, split and write the corpus; returns the summary that is also
    written to `{data_dir}/corpus/corpus_info.json` (plus `build_seconds`)."""
    start = time.perf_counter()
    manifest_path = Path(manifest_path) if manifest_path is not None else DEFAULT_MANIFEST
    manifest = load_manifest(manifest_path)
    selected = _select(manifest_sources(manifest, manifest_path.parent), sources)
    files = check_sources(selected)
    split_cfg = manifest.get("split", {})
    seed = int(split_cfg.get("seed", 0))
    fractions = {s: float(split_cfg.get(s, 0.01)) for s in ("validation", "collation")}

    seen: set[bytes] = set()
    docs: list[_Doc] = []
    source_info: dict[str, Any] = {}
    bar = tqdm(
        total=sum(len(f) for f in files.values()),
        desc="corpus",
        unit="file",
        disable=not progress,
        dynamic_ncols=True,
    )
    for source in selected:
        bar.set_postfix_str(source.name)
        digest = hashlib.sha256()
        info = {"documents": 0, "bytes": 0, "duplicates": 0, "kept_documents": 0, "kept_bytes": 0}
        for text in _iter_source(source, files[source.name], max_bytes_per_source, bar):
            data = text.encode("utf-8")
            digest.update(data + b"\0")
            info["documents"] += 1
            info["bytes"] += len(data)
            key = normalized_hash(text)
            if key in seen:
                info["duplicates"] += 1
                continue
            seen.add(key)
            info["kept_documents"] += 1
            info["kept_bytes"] += len(data)
            docs.append(
                _Doc(shuffle_key(key, seed), assign_split(key, seed, fractions), source.kind, text)
            )
        source_info[source.name] = {
            "debian_package": source.debian_package,
            "kind": source.kind,
            "licence": source.licence,
            "files": len(files[source.name]),
            **info,
            "sha256": digest.hexdigest(),
        }
    bar.close()

    out_dir = Path(data_dir) / "corpus"
    out_dir.mkdir(parents=True, exist_ok=True)
    docs.sort(key=lambda d: d.order)
    splits = {
        split: _write_split(out_dir / f"{split}.txt", [d for d in docs if d.split == split])
        for split in SPLITS
    }
    corpus_hash = hashlib.sha256(
        "".join(f"{s}:{splits[s]['sha256']}\n" for s in SPLITS).encode()
    ).hexdigest()
    kinds = {k: sum(s["bytes_by_kind"][k] for s in splits.values()) for k in KINDS}
    summary: dict[str, Any] = {
        "format_version": 1,
        "separator": SEPARATOR,
        "split": {"seed": seed, **fractions},
        "sources": source_info,
        "splits": splits,
        "bytes_by_kind": kinds,
        "prose_to_code": round(kinds["prose"] / kinds["code"], 3) if kinds["code"] else None,
        "corpus_sha256": corpus_hash,
    }
    (out_dir / "corpus_info.json").write_text(json.dumps(summary, indent=2) + "\n")
    summary["build_seconds"] = round(time.perf_counter() - start, 1)
    return summary


def update_manifest(manifest_path: str | Path, summary: dict[str, Any]) -> None:
    """Record a build's per-source sizes, document counts and hashes in the manifest."""
    path = Path(manifest_path)
    manifest = load_manifest(path)
    for entry in manifest["sources"]:
        info = summary["sources"].get(entry["name"])
        if info is not None:
            entry["measured"] = {
                k: info[k] for k in ("files", "documents", "bytes", "kept_documents", "sha256")
            }
    manifest["measured_corpus"] = {
        "splits": {
            s: {k: v[k] for k in ("documents", "bytes")} for s, v in summary["splits"].items()
        },
        "bytes_by_kind": summary["bytes_by_kind"],
        "corpus_sha256": summary["corpus_sha256"],
    }
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--manifest", default=None)
    parser.add_argument("--sources", nargs="*", default=None)
    parser.add_argument("--max-bytes-per-source", type=int, default=None)
    parser.add_argument("--update-manifest", action="store_true")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    try:
        summary = build_corpus(
            args.data_dir,
            manifest_path=args.manifest,
            sources=args.sources,
            max_bytes_per_source=args.max_bytes_per_source,
            progress=not args.no_progress,
        )
    except CorpusSourceMissingError as e:
        print(e, file=sys.stderr)
        return 2
    if args.update_manifest:
        update_manifest(args.manifest or DEFAULT_MANIFEST, summary)
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The corpus builder on a tiny corpus: fixture prose plus a few standard-library modules."""

from __future__ import annotations

import hashlib
import json
import struct
import sysconfig
import zlib
from pathlib import Path
from typing import Any

import pytest

from neuron_explainer.training import corpus_sources
from neuron_explainer.training.corpus import (
    DEFAULT_MANIFEST,
    SPLITS,
    CorpusSourceMissingError,
    build_corpus,
    load_manifest,
    manifest_sources,
)
from neuron_explainer.training.corpus_sources import SEPARATOR

FIXTURES = Path(__file__).parent / "fixtures" / "prose"


def write_manifest(tmp_path: Path, extra_sources: list[dict[str, Any]] | None = None) -> Path:
    manifest = {
        "format_version": 1,
        "separator": SEPARATOR,
        "split": {"seed": 0, "validation": 0.25, "collation": 0.25},
        "sources": [
            {
                "name": "fixture-html",
                "debian_package": None,
                "root": str(FIXTURES),
                "include": ["*.html"],
                "format": "html",
                "kind": "prose",
                "licence": "CC0-1.0",
                "options": {"html_main": ["role=main"]},
            },
            {
                "name": "fixture-text",
                "debian_package": None,
                "root": str(FIXTURES),
                "include": ["*.txt"],
                "format": "text",
                "kind": "prose",
                "licence": "CC0-1.0",
            },
            {
                "name": "stdlib-json",
                "debian_package": None,
                "root": "{stdlib}",
                "include": ["json/*.py", "textwrap.py", "colorsys.py"],
                "format": "python",
                "kind": "code",
                "licence": "PSF-2.0",
            },
            *(extra_sources or []),
        ],
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    return path


def split_documents(data_dir: Path) -> dict[str, list[str]]:
    out = {}
    for split in SPLITS:
        text = (data_dir / "corpus" / f"{split}.txt").read_text(encoding="utf-8")
        out[split] = text.split(SEPARATOR) if text else []
    return out


def test_build_is_deterministic(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path)
    a = build_corpus(tmp_path / "a", manifest_path=manifest, progress=False)
    b = build_corpus(tmp_path / "b", manifest_path=manifest, progress=False)
    assert a["corpus_sha256"] == b["corpus_sha256"]
    for split in SPLITS:
        assert (tmp_path / "a/corpus" / f"{split}.txt").read_bytes() == (
            tmp_path / "b/corpus" / f"{split}.txt"
        ).read_bytes()
    info = json.loads((tmp_path / "a/corpus/corpus_info.json").read_text())
    assert info["corpus_sha256"] == a["corpus_sha256"]
    assert info["sources"]["stdlib-json"]["kind"] == "code"
    assert a["bytes_by_kind"]["prose"] > 0 and a["bytes_by_kind"]["code"] > 0
    # Reading the sources in another order gives the same corpus (hash-based split and order).
    c = build_corpus(
        tmp_path / "c",
        manifest_path=manifest,
        sources=["stdlib-json", "fixture-text", "fixture-html"],
        progress=False,
    )
    assert c["corpus_sha256"] == a["corpus_sha256"]


def test_duplicates_are_dropped(tmp_path: Path) -> None:
    summary = build_corpus(tmp_path, manifest_path=write_manifest(tmp_path), progress=False)
    html = summary["sources"]["fixture-html"]
    assert html["documents"] == 2 and html["duplicates"] == 1 and html["kept_documents"] == 1
    docs = [d for split in split_documents(tmp_path).values() for d in split]
    normalized = [" ".join(d.split()) for d in docs]
    assert len(normalized) == len(set(normalized))
    assert sum(s["kept_documents"] for s in summary["sources"].values()) == len(docs)
    lighthouse = next(d for d in docs if "lighthouse" in d.lower())
    assert "Site menu" not in lighthouse and "tracking" not in lighthouse
    assert "Copyright notice" not in lighthouse and "¶" not in lighthouse
    assert "Café owners" in lighthouse
    assert "def light_lamp(hour):\n    return hour >= 18" in lighthouse


def test_splits_are_disjoint_and_cover_every_document(tmp_path: Path) -> None:
    summary = build_corpus(tmp_path, manifest_path=write_manifest(tmp_path), progress=False)
    splits = split_documents(tmp_path)
    sets = {name: set(docs) for name, docs in splits.items()}
    assert not sets["train"] & sets["validation"]
    assert not sets["train"] & sets["collation"]
    assert not sets["validation"] & sets["collation"]
    for name in SPLITS:
        assert summary["splits"][name]["documents"] == len(splits[name])
    assert all(SEPARATOR not in d for docs in splits.values() for d in docs)
    # The split of a document depends on its text only: a build of one source agrees.
    only_text = build_corpus(
        tmp_path / "only",
        manifest_path=write_manifest(tmp_path),
        sources=["fixture-text"],
        progress=False,
    )
    assert only_text["sources"]["fixture-text"]["kept_documents"] == 2
    for name, docs in split_documents(tmp_path / "only").items():
        assert set(docs) <= sets[name]


def test_max_bytes_per_source(tmp_path: Path) -> None:
    summary = build_corpus(
        tmp_path, manifest_path=write_manifest(tmp_path), max_bytes_per_source=1, progress=False
    )
    assert all(s["documents"] == 1 for s in summary["sources"].values())


def test_missing_source_names_its_package(tmp_path: Path) -> None:
    missing = {
        "name": "missing-docs",
        "debian_package": "some-doc-package",
        "root": str(tmp_path / "nowhere"),
        "include": ["*.html"],
        "format": "html",
        "kind": "prose",
        "licence": "GPL-2.0-only",
    }
    manifest = write_manifest(tmp_path, [missing])
    with pytest.raises(CorpusSourceMissingError) as error:
        build_corpus(tmp_path / "out", manifest_path=manifest, progress=False)
    assert "source missing-docs missing" in str(error.value)
    assert "run `apt-get install -y some-doc-package`" in str(error.value)
    with pytest.raises(ValueError, match="unknown corpus sources"):
        build_corpus(tmp_path / "out", manifest_path=manifest, sources=["nope"], progress=False)


def test_repository_manifest_is_valid() -> None:
    manifest = load_manifest()
    sources = manifest_sources(manifest, DEFAULT_MANIFEST.parent)
    names = [s.name for s in sources]
    assert len(names) == len(set(names))
    assert {s.kind for s in sources} == {"prose", "code"}
    stdlib = next(s for s in sources if s.name == "python-stdlib")
    assert str(stdlib.root) == sysconfig.get_paths()["stdlib"]
    for source in sources:
        assert source.licence and source.include
        assert source.debian_package or source.name == "python-stdlib"


def test_html_to_text_blocks_and_main() -> None:
    markup = (
        "<html><body><div class='sphinxsidebar'>Contents</div><div id='main'><h2>Title</h2>"
        "<p>One  two\nthree.</p><ul><li>a</li><li>b</li></ul><table><tr><td>x</td><td>y</td>"
        "</tr></table><p>Unclosed <b>bold<p>next</div><p>outside</p></body></html>"
    )
    text = corpus_sources.html_to_text(markup, main=[("id", "main")])
    assert text == "Title\n\nOne two three.\n\na\nb\n\nx y\n\nUnclosed bold\n\nnext"
    assert "outside" in corpus_sources.html_to_text(markup)


def test_pod_and_info() -> None:
    pod = (
        "=head1 NAME\n\nperlfoo - B<bold> and C<< $x->y >> and L<text|perlsyn/x> E<gt>\n\n"
        "    my $code = 1;\n\n=begin html\n\n<b>x</b>\n\n=end html\n\n=cut\n\nsub ignored {}\n"
    )
    assert corpus_sources.pod_to_text(pod) == (
        "NAME\n\nperlfoo - bold and $x->y and text >\n\n    my $code = 1;"
    )
    info = (
        "This is x.info\n\x1f\nFile: x.info,  Node: Top,  Next: Intro\n\nTop\n***\n\nHello, "
        "*note Intro::.\n\n* Menu:\n\n* Intro::\n\x1f\nFile: x.info,  Node: Concept Index\n\nx\n"
    )
    assert corpus_sources.info_to_nodes(info) == ["Top\n\nHello, see Intro."]


def test_sword_module(tmp_path: Path) -> None:
    """A synthetic zText module: two blocks, entries indexed as (block, offset, size)."""
    module = tmp_path / "modules/texts/ztext/tiny"
    module.mkdir(parents=True)
    verses = [[b"In the beginning.", b"<note>skip</note>Light <w>was</w> good."], [b"Amen."]]
    blocks, entries, data = b"", b"", b""
    for block_no, block in enumerate(verses):
        raw = b"".join(block)
        packed = zlib.compress(raw)
        blocks += struct.pack("<3I", len(data), len(packed), len(raw))
        data += packed
        offset = 0
        for verse in block:
            entries += struct.pack("<IIH", block_no, offset, len(verse))
            offset += len(verse)
    entries = struct.pack("<IIH", 0, 0, 0) + entries  # an empty heading entry
    for ext, content in (("bzs", blocks), ("bzv", entries), ("bzz", data)):
        (module / f"nt.{ext}").write_bytes(content)
    conf = tmp_path / "mods.d/tiny.conf"
    conf.parent.mkdir()
    conf.write_text("[Tiny]\nDataPath=./modules/texts/ztext/tiny/\nModDrv=zText\n")
    docs = corpus_sources.extract_sword(conf, {"min_chars": 1})
    assert docs == ["In the beginning. Light was good. Amen."]


def test_clean_text_removes_separator_and_controls() -> None:
    text = corpus_sources.clean_text(f"a\r\nb{SEPARATOR}\x00c  \n\n\n\nd\t")
    assert text == "a\nbc\n\nd"
    assert hashlib.sha256(text.encode()).hexdigest()

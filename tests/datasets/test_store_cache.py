"""The store's bounded caches: arrays by bytes (least recently used dropped), open stores by
count, and a store rebuilt since it was opened is opened again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from neuron_explainer.datasets import CollationStore, StoreCache, run_collation
from neuron_explainer.datasets.array_cache import ArrayCache
from tests.datasets.conftest import CFG

RECORDS = [("neuron", 0, 5), ("neuron", 1, 63), ("head", 1, 2), ("latent", 0, 7), ("neuron", 0, 9)]


@pytest.fixture(scope="module")
def root(model, saes, tokens_path, tmp_path_factory) -> str:
    base = tmp_path_factory.mktemp("cached")
    store = str(base / "store")
    run_collation(model, saes, tokens_path, store, base / "work", CFG, progress=False)
    return store


def test_array_cache_drops_the_least_recently_used_beyond_its_bytes() -> None:
    cache = ArrayCache(max_bytes=3_000)
    arrays = {k: np.full(125, i, dtype=np.int64) for i, k in enumerate("abcd")}  # 1,000 bytes
    for key in "abc":
        cache.put(key, arrays[key])
    assert cache.nbytes == 3_000
    assert cache.get("a") is arrays["a"]  # now the most recently used
    cache.put("d", arrays["d"])
    assert cache.get("b") is None  # the least recently used went
    assert [cache.get(k) is arrays[k] for k in "acd"] == [True, True, True]
    assert cache.nbytes == 3_000 and len(cache) == 3
    cache.put("big", np.zeros(500, dtype=np.int64))  # larger than the budget: not kept
    assert cache.get("big") is None and len(cache) == 3
    with pytest.raises(ValueError, match="max_bytes"):
        ArrayCache(-1)


def test_a_store_over_its_array_budget_evicts_and_reads_the_same_records(root: str) -> None:
    unbounded = CollationStore(root)
    expected = [unbounded.record(*r) for r in RECORDS]
    held = unbounded._arrays.nbytes  # every array the records read
    budget = held // 4
    stores = StoreCache(max_bytes=budget)
    bounded = stores.open(root)
    for _ in range(2):  # the second round reads arrays dropped in the first again
        assert [bounded.record(*r) for r in RECORDS] == expected
        assert 0 < stores.arrays.nbytes <= budget
    assert len(stores.arrays) < len(unbounded._arrays)
    assert bounded.summary("neuron", 0) == unbounded.summary("neuron", 0)


def test_open_stores_are_bounded_by_count(root: str, tmp_path: Path) -> None:
    copies = [shutil.copytree(root, tmp_path / f"copy{i}") for i in range(3)]
    stores = StoreCache(max_stores=2)
    first = stores.open(str(copies[0]))
    assert stores.open(str(copies[0])) is first  # cached
    stores.open(str(copies[1]))
    stores.open(str(copies[2]))
    assert len(stores) == 2
    reopened = stores.open(str(copies[0]))  # closed as the least recently used
    assert reopened is not first
    assert reopened.record("neuron", 0, 5) == first.record("neuron", 0, 5)


def test_a_store_rebuilt_since_it_was_opened_is_opened_again(root: str, tmp_path: Path) -> None:
    copy = shutil.copytree(root, tmp_path / "copy")
    stores = StoreCache()
    before = stores.open(str(copy))
    before.record("neuron", 0, 5)
    index = json.loads((copy / "index.json").read_text())
    index["corpus"]["n_tokens"] += 1  # as a rebuild rewrites it
    (copy / "index.json").write_text(json.dumps(index))
    after = stores.open(str(copy))
    assert after is not before
    assert after.index["corpus"]["n_tokens"] == before.index["corpus"]["n_tokens"] + 1
    assert after.record("neuron", 0, 5) == before.record("neuron", 0, 5)

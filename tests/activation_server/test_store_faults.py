"""A damaged collation store: every defect answers a 503 that names the damaged file and the
command that rebuilds the store, routes that do not need the store keep working, and no answer
shows where the server keeps its files."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from neuron_explainer.activation_server.engine import Engine
from tests.activation_server.conftest import BASE_URL, MODEL, make_app

STORE = Path("data") / "collations" / MODEL  # relative: the data directory as the user gave it
REPAIR = f"tdb collate {MODEL} --data-dir data"
COUNT = "neuron/blocks.0.mlp.hook_post/activation.count.npy"  # read by records and summaries
RECORD = "/api/datasets/records/neuron/0/0"
SUMMARY = "/api/datasets/summaries/neuron/0"
RUN: dict[str, Any] = {"prompt": "name = str(value", "targets": [")"], "distractors": ["]"], "k": 3}
MEAN_RUN = {  # reads the neuron group's count and moments
    **RUN,
    "meanSource": "dataset",
    "ablations": [{"site": "blocks.0.mlp.hook_post", "token": 3, "value": "mean"}],
}


def _edit_index(store: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    index = json.loads((store / "index.json").read_text())
    edit(index)
    (store / "index.json").write_text(json.dumps(index))


def _replace(store: Path, name: str, data: bytes) -> None:
    """Replace a file and its sha256 in the index: a defect the checksum cannot see."""
    (store / name).write_bytes(data)

    def edit(index: dict[str, Any]) -> None:
        sha = hashlib.sha256(data).hexdigest()
        if name in ("strings.json", "token_bytes.json"):
            index[name.removesuffix(".json")]["sha256"] = sha
            return
        family, site, file = name.split("/")
        (group,) = [g for g in index["groups"] if (g["family"], g["site"]) == (family, site)]
        group["files"][file.removesuffix(".npy")]["sha256"] = sha

    _edit_index(store, edit)


def _flip_last_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))


def _drop(*keys: str | int) -> Callable[[dict[str, Any]], None]:
    def edit(index: dict[str, Any]) -> None:
        parent: Any = index
        for key in keys[:-1]:
            parent = parent[key]
        del parent[keys[-1]]

    return edit


def _set_components(value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(index: dict[str, Any]) -> None:
        index["groups"][0]["n_components"] = value

    return edit


# (what is damaged, how, the file the message must name); arrays and strings.json are read on
# use, the index when the store opens.
ARRAY_FAULTS: dict[str, tuple[Callable[[Path], None], str]] = {
    "npy byte flipped": (lambda s: _flip_last_byte(s / COUNT), COUNT),
    "npy missing": (lambda s: (s / COUNT).unlink(), COUNT),
    "npy empty": (lambda s: (s / COUNT).write_bytes(b""), COUNT),
    "npy a directory": (lambda s: ((s / COUNT).unlink(), (s / COUNT).mkdir()), COUNT),
    "npy truncated, index agrees": (
        lambda s: _replace(s, COUNT, (s / COUNT).read_bytes()[:100]),
        COUNT,
    ),
    "npy header garbled, index agrees": (
        lambda s: _replace(s, COUNT, b"\x93NUMPY\x01\x00\x10\x00{'descr': <i8'  \n"),
        COUNT,
    ),
}
STRINGS_FAULTS: dict[str, tuple[Callable[[Path], None], str]] = {
    "strings byte flipped": (lambda s: _flip_last_byte(s / "strings.json"), "strings.json"),
    "strings missing": (lambda s: (s / "strings.json").unlink(), "strings.json"),
    "strings not JSON, index agrees": (
        lambda s: _replace(s, "strings.json", b'["a", "b'),
        "strings.json",
    ),
    "strings not UTF-8, index agrees": (
        lambda s: _replace(s, "strings.json", b'["\xff"]'),
        "strings.json",
    ),
    "strings not a list of strings, index agrees": (
        lambda s: _replace(s, "strings.json", b'{"a": 1}'),
        "strings.json",
    ),
    "strings too few, index agrees": (
        lambda s: _replace(s, "strings.json", b'["a", "b"]'),
        "strings.json",
    ),
    "token bytes missing": (lambda s: (s / "token_bytes.json").unlink(), "token_bytes.json"),
    "token bytes not hex, index agrees": (
        lambda s: _replace(s, "token_bytes.json", b'["zz"]'),
        "token_bytes.json",
    ),
}
INDEX_FAULTS: dict[str, Callable[[Path], None]] = {
    "index not JSON": lambda s: (s / "index.json").write_text("{not json"),
    "index empty": lambda s: (s / "index.json").write_bytes(b""),
    "index not an object": lambda s: (s / "index.json").write_text("[1, 2]"),
    "index without corpus.n_tokens": lambda s: _edit_index(s, _drop("corpus", "n_tokens")),
    "index without groups": lambda s: _edit_index(s, _drop("groups")),
    "index group without files": lambda s: _edit_index(s, _drop("groups", 0, "files")),
    "index group without an array": lambda s: _edit_index(
        s, _drop("groups", 0, "files", "activation.top.ids")
    ),
    "index n_components a string": lambda s: _edit_index(s, _set_components("3")),
    "index n_components off": lambda s: _edit_index(s, _set_components(7)),
    "index config unknown key": lambda s: _edit_index(s, lambda i: i["config"].update(x=1)),
    "index model not an object": lambda s: _edit_index(s, lambda i: i.update(model=3)),
    "index of another format version": lambda s: _edit_index(s, lambda i: i.update(version=1)),
}


@pytest.fixture
def served(
    engine: Engine, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, Path]]:
    """A client of a server given `--data-dir data` (relative), on a copy of the test store."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(data_dir / "collations" / MODEL, STORE)
    with TestClient(make_app(engine, Path("data")), base_url=BASE_URL) as client:
        yield client, tmp_path / STORE


def _fault(client: TestClient, path: str, component: str, *, body: Any = None) -> str:
    response = client.get(path) if body is None else client.post(path, json=body)
    assert response.status_code == 503, response.text
    message: str = response.json()["detail"]
    assert component in message, message
    assert f"`{REPAIR}`" in message, message
    return message


def _shows_no_server_path(client: TestClient, tmp_path: Path, *paths: str) -> None:
    for path in paths:
        text = client.get(path).text
        assert str(tmp_path) not in text and str(tmp_path.resolve()) not in text, text


def _still_serves(client: TestClient, dataset_available: bool) -> dict[str, Any]:
    """The model and the debugger answer; returns the model's dataset info."""
    response = client.get("/api/model")
    assert response.status_code == 200, response.text
    dataset: dict[str, Any] = response.json()["dataset"]
    assert dataset["available"] is dataset_available, dataset
    attribute = client.post("/api/debugger/attribute", json={"runs": [RUN]})
    assert attribute.status_code == 200, attribute.text
    return dataset


@pytest.mark.parametrize("fault", list(ARRAY_FAULTS))
def test_a_damaged_array_answers_503_naming_it_and_the_repair(served, fault: str) -> None:
    client, store = served
    damage, component = ARRAY_FAULTS[fault]
    damage(store)
    _fault(client, RECORD, component)
    _fault(client, SUMMARY, component)
    _fault(client, "/api/debugger/attribute", component, body={"runs": [MEAN_RUN]})
    assert client.get("/api/datasets/records/neuron/1/0").status_code == 200  # other groups
    _still_serves(client, dataset_available=True)  # the index is sound
    _shows_no_server_path(client, store.parents[2], RECORD, SUMMARY, "/api/model")


@pytest.mark.parametrize("fault", list(STRINGS_FAULTS))
def test_a_damaged_strings_file_answers_503_naming_it(served, fault: str) -> None:
    client, store = served
    damage, component = STRINGS_FAULTS[fault]
    damage(store)
    _fault(client, RECORD, component)
    assert client.get(SUMMARY).status_code == 200  # summaries need no token strings
    _still_serves(client, dataset_available=True)
    _shows_no_server_path(client, store.parents[2], RECORD, "/api/model")


@pytest.mark.parametrize("fault", list(INDEX_FAULTS))
def test_a_damaged_index_answers_503_and_the_model_still_answers(served, fault: str) -> None:
    client, store = served
    INDEX_FAULTS[fault](store)
    for path in (RECORD, SUMMARY):
        _fault(client, path, "index.json")
    _fault(client, "/api/debugger/attribute", "index.json", body={"runs": [MEAN_RUN]})
    dataset = _still_serves(client, dataset_available=False)
    assert dataset["collating"] is False
    assert "index.json" in dataset["message"] and f"`{REPAIR}`" in dataset["message"]
    _shows_no_server_path(client, store.parents[2], RECORD, SUMMARY, "/api/model")


def test_a_rebuilt_store_is_served_without_a_restart(served, data_dir: Path) -> None:
    client, store = served
    assert client.get(RECORD).status_code == 200
    (store / "index.json").write_text("{not json")
    _fault(client, RECORD, "index.json")
    shutil.copy(data_dir / "collations" / MODEL / "index.json", store / "index.json")
    assert client.get(RECORD).status_code == 200
    assert client.get("/api/model").json()["dataset"]["available"] is True


def test_a_missing_store_is_404_and_its_answers_show_no_server_path(served) -> None:
    client, store = served
    shutil.rmtree(store)
    response = client.get(RECORD)
    assert response.status_code == 404, response.text
    assert f"`{REPAIR}`" in response.json()["detail"]
    _shows_no_server_path(client, store.parents[2], RECORD, "/api/model")


def test_a_store_outside_the_data_directory_is_refused_without_naming_it(served) -> None:
    client, store = served
    outside = store.parents[2] / "elsewhere"
    shutil.copytree(store, outside)
    (store.parent / "linked").symlink_to(outside)
    response = client.get(RECORD, params={"store": "linked"})
    assert response.status_code == 400, response.text
    message = response.json()["detail"]
    assert "outside the data directory data" in message, message
    assert str(store.parents[2]) not in message and str(outside.resolve()) not in message

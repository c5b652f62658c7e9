"""The default investigations load, and the engine answers each on its bundled model."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from neuron_explainer.activations import attribute
from neuron_explainer.activations.investigations import (
    DEFAULT_SUITE,
    Investigation,
    load_investigations,
)
from neuron_explainer.models import Transformer

SUITE = load_investigations()


@cache
def _model(name: str) -> Transformer:
    return Transformer.from_pretrained(name)


def test_the_suite_covers_every_bundled_model_and_the_three_behaviours() -> None:
    models = {i.model for i in SUITE}
    behaviours = {i.behaviour for i in SUITE}
    assert models == {"toy-gelu-2l", "toy-attn-only-2l", "toy-gelu-4l"}
    assert {"closing_brackets", "prose_induction", "name_copying_ioi"} <= behaviours


@pytest.mark.parametrize("investigation", SUITE, ids=[i.id for i in SUITE])
def test_the_engine_answers_each_investigation(investigation: Investigation) -> None:
    model = _model(investigation.model)
    result = attribute(model, investigation.request(k=5, verify=3))
    assert result.logit_diff.left == pytest.approx(investigation.logit_diff, abs=2e-3)
    assert result.logit_diff.left > 0  # the model prefers the target, as the suite promises
    assert result.nodes and result.verification is not None
    assert len(result.verification.nodes) == 3


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("{", "not valid JSON"),
        ('{"format_version": 9}', "format_version 1"),
        ('{"format_version": 1, "investigations": [{"id": "x"}]}', "investigation 0 is malformed"),
    ],
)
def test_malformed_files_raise_naming_the_file(content: str, match: str, tmp_path: Path) -> None:
    path = tmp_path / "suite.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=match) as info:
        load_investigations(path)
    assert str(path) in str(info.value)


def test_repeated_ids_and_missing_files_raise(tmp_path: Path) -> None:
    doc = json.loads(DEFAULT_SUITE.read_text())
    doc["investigations"].append(doc["investigations"][0])
    path = tmp_path / "suite.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="repeated id"):
        load_investigations(path)
    with pytest.raises(FileNotFoundError, match=r"missing\.json"):
        load_investigations(tmp_path / "missing.json")


def test_the_top_head_on_the_induction_prompt_carries_half_the_logit_difference() -> None:
    """On toy-attn-only-2l's induction prompt ('... in the long green field ... This year the
    long green' -> ' field', not ' light'), the top head node by estimated total effect is an
    attention head whose real ablation removes at least half of the logit difference. Measured:
    layer 0 head 2 attending from the last ' green' to itself (what the layer-1 induction heads
    query with) removes 7.19 of 11.49. On the suite's other prose-induction prompt the same kind
    of node is on top but removes 5.72 of 12.10, so that prompt is not this test's."""
    (investigation,) = [i for i in SUITE if i.id == "toy-attn-only-2l-prose-induction-2"]
    model = _model(investigation.model)
    result = attribute(model, investigation.request(k=5, verify=1, families=["head"]))
    top = max(result.nodes, key=lambda row: row.values.left.total_effect)
    assert top.node.family == "head"
    assert result.verification is not None
    (verified,) = result.verification.nodes
    assert verified.node == top.node
    assert verified.true_effect >= 0.5 * result.logit_diff.left

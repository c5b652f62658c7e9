"""Default "why A and not B" investigations: `datasets/investigations/default.json`.

Each investigation is a prompt, target and distractor tokens and a model name; the suite is built
from the behaviour evaluations in the bundled models' cards (`build_suite`): for each model and
behaviour, the prompts on which the model prefers the target over the distractor by the widest
margin. The debugger offers them as one-click starting points.

File format (JSON): {"format_version": 1, "description": str, "investigations": [{"id": str,
"title": str, "model": str, "behaviour": str, "prompt": str, "targets": [str], "distractors":
[str], "logit_diff": float (measured when the suite was built)}]}.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from neuron_explainer.activations.attribution import AttributionRequest
from neuron_explainer.models import registry

INVESTIGATIONS_DIR = Path(__file__).resolve().parents[2] / "datasets" / "investigations"
DEFAULT_SUITE = INVESTIGATIONS_DIR / "default.json"
FORMAT_VERSION = 1
_ID = re.compile(r"[a-z0-9][a-z0-9-]*")


@dataclass(frozen=True)
class Investigation:
    id: str
    title: str
    model: str
    behaviour: str
    prompt: str
    targets: tuple[str, ...]
    distractors: tuple[str, ...]
    logit_diff: float  # measured when the suite was built

    def request(self, **changes: Any) -> AttributionRequest:
        """The attribution request of this investigation (fields of `AttributionRequest` in
        `changes` override the defaults)."""
        return AttributionRequest(
            prompt=self.prompt,
            targets=list(self.targets),
            distractors=list(self.distractors),
            **changes,
        )


def load_investigations(path: str | Path = DEFAULT_SUITE) -> list[Investigation]:
    """The investigations of a suite file; a malformed file raises naming the file and entry."""
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"No investigations file at {file}")
    try:
        doc = json.loads(file.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{file} is not valid JSON: {e}") from None
    if not isinstance(doc, dict) or doc.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{file} is not an investigations file of format_version {FORMAT_VERSION}")
    out: list[Investigation] = []
    for i, raw in enumerate(doc.get("investigations", [])):
        try:
            item = Investigation(
                id=str(raw["id"]),
                title=str(raw["title"]),
                model=str(raw["model"]),
                behaviour=str(raw["behaviour"]),
                prompt=str(raw["prompt"]),
                targets=tuple(str(t) for t in raw["targets"]),
                distractors=tuple(str(t) for t in raw["distractors"]),
                logit_diff=float(raw["logit_diff"]),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"{file}: investigation {i} is malformed ({e!r})") from None
        if not _ID.fullmatch(item.id) or any(o.id == item.id for o in out):
            raise ValueError(f"{file}: investigation {i} has a bad or repeated id {item.id!r}")
        if not item.prompt or not item.targets or not item.distractors:
            raise ValueError(
                f"{file}: investigation {item.id!r} needs a prompt, targets, distractors"
            )
        out.append(item)
    return out


def build_suite(
    models: Sequence[str], per_behaviour: int = 2, min_logit_diff: float = 1.0
) -> dict[str, Any]:
    """A suite from the behaviour evaluations in the cards of bundled `models`: per model and
    behaviour, up to `per_behaviour` of its most confident prompts whose target beats the
    distractor by at least `min_logit_diff`."""
    investigations = []
    for model in models:
        card = json.loads((registry.resolve(model) / "card.json").read_text())
        for behaviour, result in card["evaluation"]["behaviours"].items():
            chosen = [m for m in result["most_confident"] if m["logit_diff"] >= min_logit_diff]
            for n, m in enumerate(chosen[:per_behaviour]):
                item = Investigation(
                    id=f"{model}-{behaviour.replace('_', '-')}-{n + 1}",
                    title=f"{behaviour.replace('_', ' ')}: {m['target']!r} not {m['distractor']!r}",
                    model=model,
                    behaviour=behaviour,
                    prompt=m["prompt"],
                    targets=(m["target"],),
                    distractors=(m["distractor"],),
                    logit_diff=round(float(m["logit_diff"]), 3),
                )
                investigations.append(asdict(item))
    return {
        "format_version": FORMAT_VERSION,
        "description": (
            "Default investigations: for each bundled model and behaviour of "
            "datasets/evals/behaviours.json, the prompts on which the model prefers the target "
            f"over the distractor by the widest margin (logit difference >= {min_logit_diff}). "
            "Built by neuron_explainer.activations.investigations.build_suite."
        ),
        "investigations": investigations,
    }

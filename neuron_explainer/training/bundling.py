"""Bundling: copy a trained model, or a trained autoencoder, into the package with its card (how
it was trained, on which corpus, how it evaluates), where the registry finds it
(`tdb bundle-model`, `tdb bundle-sae`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any


def bundle_model(
    run_dir: str | Path,
    name: str,
    eval_json: str | Path,
    data_dir: str | Path,
    notes: list[str] | None = None,
) -> Path:
    """Copy a trained model (`run_dir/final`) into the package as `name`, with its card (training,
    corpus, evaluations); returns the directory it was copied to."""
    from neuron_explainer.models.registry import BUNDLED_DIR
    from neuron_explainer.training.presets import preset

    run = Path(run_dir) / "final"
    summary = json.loads((run / "training_summary.json").read_text())
    evaluation = json.loads(Path(eval_json).read_text())
    corpus_info = json.loads((Path(data_dir) / "corpus" / "corpus_info.json").read_text())
    target = BUNDLED_DIR / name
    target.mkdir(parents=True, exist_ok=True)
    for filename in ("config.json", "model.safetensors", "tokenizer.json"):
        shutil.copyfile(run / filename, target / filename)
    training = {k: v for k, v in summary.items() if k != "train_losses"}
    total_tokens = summary["tokens"]
    stage, init_from = training, summary["train_config"].get("init_from")
    while init_from is not None:  # a continued run: record the runs it started from, in turn
        initial = json.loads((Path(init_from) / "training_summary.json").read_text())
        stage["initial_training"] = {k: v for k, v in initial.items() if k != "train_losses"}
        stage, init_from = stage["initial_training"], initial["train_config"].get("init_from")
        total_tokens += initial["tokens"]
    card: dict[str, Any] = {
        "name": name,
        "description": preset(name).description,
        "corpus_sha256": corpus_info["corpus_sha256"],
        "total_training_tokens": total_tokens,
        "training": training,
        "evaluation": evaluation,
        **({"notes": notes} if notes else {}),
    }
    (target / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    return target


def bundle_sae(
    run_dir: str | Path, model: str, dtype: str, eval_json: str | Path | None = None
) -> tuple[str, Path]:
    """Copy a trained autoencoder (`run_dir/final`) beside its model (in `dtype`), with a card of
    its training and, given `eval_json`, its metrics (evaluate the bundled copy: it is what users
    load); returns its site and the directory it was copied to."""
    from neuron_explainer.models.registry import model_directory
    from neuron_explainer.models.sae_io import load_sae, save_sae
    from neuron_explainer.models.sae_registry import CARD_FILENAME, SAES_DIRNAME
    from neuron_explainer.models.sparse_autoencoder import DTYPES

    final = Path(run_dir) / "final"
    if dtype not in DTYPES:
        raise ValueError(f"--dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
    sae = load_sae(final, dtype=DTYPES[dtype])
    site = sae.cfg.hook_name
    if site is None:
        raise ValueError(f"{final} names no hook site (metadata.hook_name in cfg.json)")
    summary = json.loads((final / "training_summary.json").read_text())
    target = model_directory(model) / SAES_DIRNAME / site
    save_sae(sae, target)
    card: dict[str, Any] = {
        "model": model,
        "site": site,
        "stored_dtype": dtype,
        "training": {k: v for k, v in summary.items() if k != "logs"},
    }
    if eval_json:
        card["evaluation"] = json.loads(Path(eval_json).read_text())
    (target / CARD_FILENAME).write_text(json.dumps(card, indent=2) + "\n")
    return site, target

"""Where a collation's files are: the token file of a corpus split, a model's store, and the work
directory of a collation into a store. The command line, the server and the collation jobs all
ask here, so that they agree."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

DEFAULT_DATA_DIR = "data"  # as `training.commands`: tokens in DATA_DIR/tokens/SPLIT.u16
DEFAULT_SPLIT = "collation"
# Tokens shipped in the repository (datasets/collation/README.md), for a clone with no corpus.
BUNDLED_SPLIT = "bundled"
BUNDLED_TOKENS = Path(__file__).resolve().parents[2] / "datasets" / "collation"


def token_file(data_dir: str | Path, split: str, model: Any = None) -> Path:
    """The token file of a split: DATA_DIR/tokens/SPLIT.u16, or for "bundled" the repository's
    own, which only a model with the bundled toy tokenizer may read (`model`, when given)."""
    if split != BUNDLED_SPLIT:
        path = Path(data_dir) / "tokens" / f"{split}.u16"
        if not path.is_file():
            raise FileNotFoundError(
                f"No token file {path}: build and tokenize the corpus (README, 'Training the toy "
                f"models'), or collate the tokens bundled with the repository (--split bundled)"
            )
        return path
    info = json.loads((BUNDLED_TOKENS / "tokens.json").read_text())
    tokenizer = getattr(model, "tokenizer", None)
    text = getattr(tokenizer, "json_text", None)
    if model is not None and (
        text is None or hashlib.sha256(text.encode()).hexdigest() != info["tokenizer_sha256"]
    ):
        raise ValueError(
            f"The bundled tokens ({BUNDLED_TOKENS / 'tokens.u16'}) are ids of the bundled toy "
            "models' tokenizer, not this model's; collate a token file of your own (--split)"
        )
    return BUNDLED_TOKENS / "tokens.u16"


def default_store_dir(data_dir: str | Path, model: str) -> str:
    """Where `tdb collate` puts a model's store: DATA_DIR/collations/MODEL."""
    return str(Path(data_dir) / "collations" / Path(model).name)


def default_work_dir(store: str | Path) -> str:
    """Where a collation into `store` keeps its checkpoint and progress: STORE.work."""
    return f"{store}.work"

"""`tdb` subcommands of activation datasets: collate a corpus split, show records and summaries."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from neuron_explainer.datasets.config import CollationConfig

DEFAULT_DATA_DIR = "data"  # as `training.commands`: tokens in DATA_DIR/tokens/SPLIT.u16
DEFAULT_SPLIT = "collation"
# Tokens shipped in the repository (datasets/collation/README.md), for a clone with no corpus.
BUNDLED_SPLIT = "bundled"
BUNDLED_TOKENS = Path(__file__).resolve().parents[2] / "datasets" / "collation"
PREPARE_TOKENS = 1_048_576  # `tdb prepare`'s budget: 4,096 contexts of 256 tokens


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
    import hashlib

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


def ensure_collation(
    model_name: str,
    data_dir: str | Path = DEFAULT_DATA_DIR,
    split: str = BUNDLED_SPLIT,
    token_budget: int | None = PREPARE_TOKENS,
    store_dir: str | None = None,
    progress: bool = True,
) -> str:
    """The model's store, collated first if it has none (resuming an interrupted collation)."""
    from neuron_explainer.datasets.reader import open_store
    from neuron_explainer.datasets.shards import CollationFileError

    store = store_dir or default_store_dir(data_dir, model_name)
    try:
        open_store(store)
        return store
    except CollationFileError:
        open_store.cache_clear()
    if progress:
        budget = "every token" if token_budget is None else f"{token_budget:,} tokens"
        print(
            f"No activation datasets for {model_name} in {store} yet: collating {budget} of the "
            f"{split} split once (minutes; later starts reuse them)",
            flush=True,
        )
    _collate_model(model_name, data_dir, split, store, token_budget, progress=progress)
    return store


def _collate_model(
    model_name: str,
    data_dir: str | Path,
    split: str,
    store: str,
    token_budget: int | None,
    cfg: CollationConfig | None = None,
    use_saes: bool = True,
    token_start: int = 0,
    work_dir: str | None = None,
    progress: bool = True,
    keep_work: bool = False,
) -> dict[str, Any] | None:
    """Collate into `store`; the work directory (a checkpoint of the shards so far, kept until
    the store is written, for resuming; about 250 MB for the default model) is then removed
    unless `keep_work`."""
    import shutil

    from neuron_explainer.datasets.collate import run_collation
    from neuron_explainer.datasets.config import CollationConfig
    from neuron_explainer.models.loading import load_model
    from neuron_explainer.models.sae_registry import load_model_saes

    model = load_model(model_name)
    saes = load_model_saes(model_name, dtype=model.dtype) if use_saes else {}
    tokens = token_file(data_dir, split, model)
    work = work_dir or default_work_dir(store)
    index = run_collation(
        model,
        saes,
        tokens,
        store,
        work,
        cfg or CollationConfig(),
        token_budget=token_budget,
        token_start=token_start,
        model_name=model_name,
        progress=progress,
    )
    if index is not None and not keep_work:
        shutil.rmtree(work, ignore_errors=True)
    return index


def setup_job(threads: int | None = None) -> None:
    """Threads, denormals flushed, and freed memory kept for reuse: collation allocates and
    frees tensors of tens of MB per batch, which glibc otherwise maps and unmaps each time (page
    faults: about 10% of a collation's time here). The process keeps its peak memory."""
    import ctypes

    import torch

    if threads:
        torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to tune
        return
    m_trim_threshold, m_mmap_max = -1, -4
    libc.mallopt(m_mmap_max, 0)
    libc.mallopt(m_trim_threshold, 2**31 - 1)


def _collate(args: argparse.Namespace) -> int:
    from neuron_explainer.datasets.config import CollationConfig

    setup_job(args.threads)
    given = {k: getattr(args, k) for k in CONFIG_OPTIONS if getattr(args, k) is not None}
    store = args.out or default_store_dir(args.data_dir, args.model)
    index = _collate_model(
        args.model,
        args.data_dir,
        args.split,
        store,
        args.tokens,
        cfg=CollationConfig(**given),
        use_saes=not args.no_saes,
        token_start=args.token_start,
        work_dir=args.work_dir,
        keep_work=args.keep_work,
    )
    if index is not None:
        groups = [f"{g['family']} {g['site']} ({g['n_components']})" for g in index["groups"]]
        print(f"collated {index['corpus']['n_tokens']:,} tokens into {store}: {', '.join(groups)}")
    return 0


def _prepare(args: argparse.Namespace) -> int:
    import os
    import time

    if args.nice > 0 and hasattr(os, "nice"):
        os.nice(args.nice)
    setup_job(args.threads)
    start = time.perf_counter()
    store = ensure_collation(args.model, args.data_dir, args.split, args.tokens)
    print(f"activation datasets of {args.model}: {store} ({time.perf_counter() - start:.0f} s)")
    return 0


def _layer(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def _record(args: argparse.Namespace) -> int:
    from neuron_explainer.datasets.reader import read_record

    record = read_record(args.store, args.family, _layer(args.layer), args.index)
    print(json.dumps(record, indent=1 if args.pretty else None))
    return 0


def _summary(args: argparse.Namespace) -> int:
    from neuron_explainer.datasets.reader import open_store

    rows = open_store(args.store).summary(
        args.family, _layer(args.layer), by=args.by, limit=args.limit, measure=args.measure
    )
    names = ("kurtosis", "density", "max", "mean", "variance", "skew")
    print("index " + " ".join(f"{n:>10s}" for n in names))
    for row in rows:
        cells = ("-" if row[n] is None else f"{row[n]:.4g}" for n in names)
        print(f"{row['index']:5d} " + " ".join(f"{c:>10s}" for c in cells))
    return 0


# Flags of `tdb collate` passed to CollationConfig when given, else its defaults apply.
CONFIG_OPTIONS = (
    "top_k",
    "window_before",
    "window_after",
    "n_quantiles",
    "per_quantile",
    "n_random",
    "context_size",
    "batch_contexts",
    "shard_contexts",
    "seed",
)


def add_commands(sub: Any) -> None:
    """Register the activation-dataset subcommands on `tdb`'s subparsers."""
    p = sub.add_parser("collate", help="collate top examples, samples, histograms of a model")
    p.add_argument("model", nargs="?", default=None, help="registry name or model directory")
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    p.add_argument(
        "--split", default=DEFAULT_SPLIT, help="reads DATA_DIR/tokens/SPLIT.u16; bundled: ours"
    )
    p.add_argument("--tokens", type=int, default=None, help="token budget (default: the split)")
    p.add_argument("--token-start", type=int, default=0, help="first token of the split used")
    p.add_argument("--out", default=None, help="store (default DATA_DIR/collations/MODEL)")
    p.add_argument("--work-dir", default=None, help="checkpoint and progress (default STORE.work)")
    p.add_argument("--keep-work", action="store_true", help="keep the work directory afterwards")
    p.add_argument("--no-saes", action="store_true", help="skip the bundled autoencoders")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: all)")
    for option in CONFIG_OPTIONS:
        p.add_argument("--" + option.replace("_", "-"), type=int, default=None)
    p.set_defaults(handler=_collate)

    p = sub.add_parser("prepare", help="collate a model's datasets unless they exist (first run)")
    p.add_argument("model", nargs="?", default="toy-gelu-2l", help="registry name or directory")
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    p.add_argument("--split", default=BUNDLED_SPLIT, help="bundled (default) or DATA_DIR split")
    p.add_argument("--tokens", type=int, default=PREPARE_TOKENS, help="token budget")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: all)")
    p.add_argument("--nice", type=int, default=0, help="lower this run's priority (background)")
    p.set_defaults(handler=_prepare)

    p = sub.add_parser("collation-record", help="print one component's collated record (JSON)")
    p.add_argument("store")
    p.add_argument("family", help="neuron, head or latent")
    p.add_argument("layer", help="layer number, or the group's site")
    p.add_argument("index", type=int)
    p.add_argument("--pretty", action="store_true")
    p.set_defaults(handler=_record)

    p = sub.add_parser("collation-summary", help="a layer's components ranked by a statistic")
    p.add_argument("store")
    p.add_argument("family", help="neuron, head or latent")
    p.add_argument("layer", help="layer number, or the group's site")
    p.add_argument("--by", default="kurtosis", help="kurtosis, density, max, mean, variance, skew")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--measure", default=None, help="heads: attention (default) or write_norm")
    p.set_defaults(handler=_summary)

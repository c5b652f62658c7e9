"""`tdb` subcommands of activation datasets: collate a corpus split, show records and summaries."""

from __future__ import annotations

import argparse
import json
from typing import Any

from neuron_explainer.datasets.jobs import PREPARE_TOKENS
from neuron_explainer.datasets.locations import BUNDLED_SPLIT, DEFAULT_DATA_DIR, DEFAULT_SPLIT


def _collate(args: argparse.Namespace) -> int:
    from neuron_explainer.datasets.config import CollationConfig
    from neuron_explainer.datasets.jobs import collate_model, setup_job
    from neuron_explainer.datasets.locations import default_store_dir

    setup_job(args.threads)
    given = {k: getattr(args, k) for k in CONFIG_OPTIONS if getattr(args, k) is not None}
    store = args.out or default_store_dir(args.data_dir, args.model)
    index = collate_model(
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

    from neuron_explainer.datasets.jobs import ensure_collation, setup_job

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
    from neuron_explainer.datasets.records import as_json

    record = read_record(args.store, args.family, _layer(args.layer), args.index)
    print(json.dumps(as_json(record), indent=1 if args.pretty else None))
    return 0


def _summary(args: argparse.Namespace) -> int:
    from neuron_explainer.datasets.reader import open_store

    summary = open_store(args.store).summary(
        args.family, _layer(args.layer), by=args.by, limit=args.limit, measure=args.measure
    )
    names = ("kurtosis", "density", "max", "mean", "variance", "skew")
    print("index " + " ".join(f"{n:>10s}" for n in names))
    for row in summary.rows:
        values = (getattr(row, n) for n in names)
        cells = ("-" if v is None else f"{v:.4g}" for v in values)
        print(f"{row.index:5d} " + " ".join(f"{c:>10s}" for c in cells))
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

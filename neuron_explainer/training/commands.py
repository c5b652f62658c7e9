"""`tdb` subcommands of the model pipeline: corpus, tokenizer, training, evaluation, bundling."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

DEFAULT_DATA_DIR = "data"
SPLITS = ("train", "validation", "collation")


def _build_corpus(args: argparse.Namespace) -> int:
    from neuron_explainer.training.corpus import DEFAULT_MANIFEST, build_corpus, update_manifest

    summary = build_corpus(
        args.data_dir,
        manifest_path=args.manifest,
        sources=args.sources,
        max_bytes_per_source=args.max_bytes_per_source,
    )
    if args.update_manifest:
        update_manifest(args.manifest or DEFAULT_MANIFEST, summary)
    print(json.dumps({k: summary[k] for k in ("bytes_by_kind", "prose_to_code", "corpus_sha256")}))
    return 0


def _train_tokenizer(args: argparse.Namespace) -> int:
    from neuron_explainer.training.tokenizer_training import tokenize_split, train_tokenizer

    data = Path(args.data_dir)
    corpus = data / "corpus"
    if not (corpus / "train.txt").is_file():
        raise FileNotFoundError(f"No corpus in {corpus}: run `tdb build-corpus` first")
    tokenizer_path = data / "tokenizer" / "tokenizer.json"
    tokenizer_path.parent.mkdir(parents=True, exist_ok=True)
    train_tokenizer(corpus / "train.txt", args.vocab_size, out_path=tokenizer_path)
    (data / "tokens").mkdir(exist_ok=True)
    for split in SPLITS:
        n = tokenize_split(
            tokenizer_path, corpus / f"{split}.txt", data / "tokens" / f"{split}.u16"
        )
        print(f"{split}: {n:,} tokens")
    return 0


def _train_model(args: argparse.Namespace) -> int:
    from neuron_explainer.models.config import TransformerConfig
    from neuron_explainer.training.presets import preset
    from neuron_explainer.training.train_model import TrainConfig, train_model

    chosen = preset(args.preset)
    data = Path(args.data_dir)
    model_cfg = chosen.model
    if args.model_config:
        model_cfg = TransformerConfig.from_json(Path(args.model_config).read_text())
    cfg = TrainConfig(
        model=model_cfg,
        batch_size=args.batch_size or chosen.batch_size,
        lr=args.lr or chosen.lr,
        total_tokens=args.total_tokens or chosen.total_tokens,
        seed=args.seed,
        num_threads=args.threads,
        repeat_fraction=args.repeat_fraction,
        init_from=args.init_from,
        **({"eval_interval": args.eval_interval} if args.eval_interval else {}),
        **({"warmup_steps": args.warmup_steps} if args.warmup_steps is not None else {}),
    )
    out = Path(args.out or data / "runs" / chosen.name)
    summary = train_model(
        cfg,
        data / "tokens" / "train.u16",
        data / "tokens" / "validation.u16",
        out,
        tokenizer_path=data / "tokenizer" / "tokenizer.json",
        resume=not args.no_resume,
        stop_at_step=args.stop_at_step,
    )
    print(json.dumps({k: v for k, v in summary.items() if k not in ("evals", "train_losses")}))
    return 0


def _eval_model(args: argparse.Namespace) -> int:
    from neuron_explainer.training.eval_model import format_report, run_eval

    result = run_eval(args.model, args.data_dir, out_json=args.out)
    print(format_report(result))
    return 0


def _bundle_model(args: argparse.Namespace) -> int:
    from neuron_explainer.training.bundling import bundle_model

    target = bundle_model(args.run_dir, args.name, args.eval_json, args.data_dir, args.note)
    print(f"bundled {args.name} into {target}")
    return 0


def _bundle_sae(args: argparse.Namespace) -> int:
    from neuron_explainer.training.bundling import bundle_sae

    site, target = bundle_sae(args.run_dir, args.model, args.dtype, args.eval_json)
    print(f"bundled the autoencoder at {site} into {target}")
    return 0


# Flags of `tdb train-sae` passed to SaeTrainConfig when given, else its defaults apply.
SAE_TRAIN_OPTIONS = (
    "batch_size",
    "lr",
    "warmup_steps",
    "l1_coefficient",
    "l0_coefficient",
    "aux_k",
    "buffer_tokens",
    "context_size",
    "dead_window_tokens",
    "checkpoint_interval",
)


def _train_sae(args: argparse.Namespace) -> int:
    from neuron_explainer.models.sparse_autoencoder import SaeConfig
    from neuron_explainer.training.sae_config import SaeTrainConfig
    from neuron_explainer.training.train_sae import train_sae

    sae = SaeConfig(
        architecture=args.architecture,
        d_in=args.d_in or _site_width(args.model, args.site),
        d_sae=args.d_sae,
        k=args.k,
        normalize_activations=args.normalize_activations,
        **({"jumprelu_bandwidth": args.jumprelu_bandwidth} if args.jumprelu_bandwidth else {}),
    )
    given = {k: getattr(args, k) for k in SAE_TRAIN_OPTIONS if getattr(args, k) is not None}
    cfg = SaeTrainConfig(
        sae=sae,
        site=args.site,
        total_tokens=args.total_tokens,
        seed=args.seed,
        device=args.device,
        num_threads=args.threads,
        **given,
    )
    data = Path(args.data_dir)
    default_out = data / "saes" / f"{Path(args.model).name}-{args.site}-{args.architecture}"
    summary = train_sae(
        cfg,
        args.model,
        data / "tokens" / f"{args.split}.u16",
        Path(args.out or default_out),
        resume=not args.no_resume,
        stop_at_step=args.stop_at_step,
    )
    print(json.dumps({k: v for k, v in summary.items() if k != "logs"}))
    return 0


def _site_width(model_name: str, site: str) -> int:
    from neuron_explainer.models.loading import load_model
    from neuron_explainer.models.sae_splice import site_width

    return site_width(load_model(model_name), site)


def _eval_sae(args: argparse.Namespace) -> int:
    from neuron_explainer.models.loading import load_model
    from neuron_explainer.models.sae_io import load_sae
    from neuron_explainer.training.sae_metrics import evaluate_sae
    from neuron_explainer.training.train_model import pick_device

    model = load_model(args.model, device=pick_device(args.device))
    sae = load_sae(args.sae_dir, device=model.device, dtype=model.dtype)
    site = args.site or sae.cfg.hook_name
    if site is None:
        raise ValueError(f"{args.sae_dir} names no hook site; pass --site")
    result = evaluate_sae(
        model,
        sae,
        site,
        Path(args.data_dir) / "tokens" / f"{args.split}.u16",
        args.tokens,
        ce_tokens=args.ce_tokens,
        context_size=args.context_size,
    )
    text = json.dumps(result, indent=2)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n")
    shown = ("l0", "mse", "explained_variance", "ce_loss_score", "kl_div_score", "dead_fraction")
    print(json.dumps({k: result[k] for k in ("site", "n_tokens", *shown, "dense_fraction")}))
    return 0


def add_commands(sub: Any) -> None:
    """Register the pipeline's subcommands on `tdb`'s subparsers."""
    p = sub.add_parser("build-corpus", help="assemble the offline training corpus")
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    p.add_argument("--manifest", default=None, help="manifest JSON (default: the project's)")
    p.add_argument("--sources", nargs="*", default=None, help="only these manifest sources")
    p.add_argument("--max-bytes-per-source", type=int, default=None)
    p.add_argument("--update-manifest", action="store_true", help="record sizes and hashes")
    p.set_defaults(handler=_build_corpus)

    p = sub.add_parser("train-tokenizer", help="train the BPE and write the token files")
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    p.add_argument("--vocab-size", type=int, default=8192)
    p.set_defaults(handler=_train_tokenizer)

    p = sub.add_parser("train-model", help="train a toy model from a preset")
    p.add_argument("--preset", default="toy-gelu-2l")
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    p.add_argument("--out", default=None, help="run directory (default DATA_DIR/runs/PRESET)")
    p.add_argument("--model-config", default=None, help="TransformerConfig JSON (overrides)")
    p.add_argument("--total-tokens", type=int, default=None)
    p.add_argument("--eval-interval", type=int, default=None, help="steps between val losses")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: all)")
    p.add_argument("--warmup-steps", type=int, default=None)
    p.add_argument(
        "--repeat-fraction", type=float, default=0.0, help="windows of repeated text (induction)"
    )
    p.add_argument("--init-from", default=None, help="model directory whose weights start the run")
    p.add_argument("--stop-at-step", type=int, default=None, help="checkpoint and stop there")
    p.add_argument("--no-resume", action="store_true", help="ignore an existing checkpoint")
    p.set_defaults(handler=_train_model)

    p = sub.add_parser("eval-model", help="evaluate a model: losses, induction, behaviours")
    p.add_argument("model", help="registry name or model directory")
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    p.add_argument("--out", default=None, help="write the results as JSON here")
    p.set_defaults(handler=_eval_model)

    p = sub.add_parser("bundle-model", help="copy a trained model and its card into the package")
    p.add_argument("run_dir")
    p.add_argument("name")
    p.add_argument("--eval-json", required=True)
    p.add_argument("--note", action="append", default=[], help="a line for the card (repeatable)")
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    p.set_defaults(handler=_bundle_model)

    p = sub.add_parser("bundle-sae", help="copy a trained autoencoder beside its model")
    p.add_argument("run_dir", help="train-sae run directory (holds final/)")
    p.add_argument("model", help="registry name or model directory")
    p.add_argument("--eval-json", default=None, help="output of tdb eval-sae --out")
    p.add_argument("--dtype", default="float32", help="stored dtype, e.g. float16 to halve size")
    p.set_defaults(handler=_bundle_sae)

    p = sub.add_parser("train-sae", help="train a sparse autoencoder on a model's activations")
    p.add_argument("--model", default=None, help="registry name or model directory")
    p.add_argument("--site", required=True, help="hook name, e.g. blocks.0.mlp.hook_post")
    p.add_argument("--architecture", default="topk", help="relu, topk or jumprelu")
    p.add_argument("--d-sae", type=int, required=True)
    p.add_argument("--d-in", type=int, default=None, help="default: the site's width")
    p.add_argument("--k", type=int, default=None, help="latents kept per token (topk)")
    p.add_argument("--normalize-activations", default="none", help="none, expected_average_only_in")
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    p.add_argument("--split", default="train", help="reads DATA_DIR/tokens/SPLIT.u16")
    p.add_argument("--total-tokens", type=int, required=True)
    p.add_argument("--out", default=None, help="run directory (default DATA_DIR/saes/...)")
    p.add_argument("--batch-size", type=int, default=None, help="tokens per step")
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--warmup-steps", type=int, default=None)
    p.add_argument("--l1-coefficient", type=float, default=None, help="relu")
    p.add_argument("--l0-coefficient", type=float, default=None, help="jumprelu")
    p.add_argument("--jumprelu-bandwidth", type=float, default=None, help="jumprelu")
    p.add_argument("--aux-k", type=int, default=None, help="topk: dead latents in AuxK")
    p.add_argument("--buffer-tokens", type=int, default=None, help="shuffle buffer size")
    p.add_argument("--context-size", type=int, default=None, help="default: the model's n_ctx")
    p.add_argument("--dead-window-tokens", type=int, default=None)
    p.add_argument("--checkpoint-interval", type=int, default=None, help="steps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: all)")
    p.add_argument("--stop-at-step", type=int, default=None, help="checkpoint and stop there")
    p.add_argument("--no-resume", action="store_true", help="ignore an existing checkpoint")
    p.set_defaults(handler=_train_sae)

    p = sub.add_parser("eval-sae", help="metrics of a sparse autoencoder: L0, variance, CE, KL")
    p.add_argument("sae_dir", help="autoencoder directory (cfg.json + sae_weights.safetensors)")
    p.add_argument("--model", default=None, help="registry name or model directory")
    p.add_argument("--site", default=None, help="default: the hook name in the SAE's cfg.json")
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    p.add_argument("--split", default="validation", help="reads DATA_DIR/tokens/SPLIT.u16")
    p.add_argument("--tokens", type=int, default=1_048_576, help="tokens for every metric")
    p.add_argument("--ce-tokens", type=int, default=None, help="tokens for CE/KL (default all)")
    p.add_argument("--context-size", type=int, default=None, help="default: the model's n_ctx")
    p.add_argument("--device", default="auto")
    p.add_argument("--out", default=None, help="write the results as JSON here")
    p.set_defaults(handler=_eval_sae)

"""`tdb`: the command line of the Transformer Debugger."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

Handler = Callable[[argparse.Namespace], int]


def _models(args: argparse.Namespace) -> int:
    from neuron_explainer.models import registry
    from neuron_explainer.models.sae_registry import sae_entries

    rows = []
    for entry in registry.all_entries():
        available, where = registry.availability(entry)
        default = " (default)" if entry.name == registry.DEFAULT_MODEL else ""
        status = "available" if available else "missing"
        rows.append((entry.name + default, entry.source, status, entry.description, where))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row, entry in zip(rows, registry.all_entries(), strict=True):
        print("  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True)), row[4])
        if row[2] == "available":
            for sae in sae_entries(entry.name):
                k = f", k {sae.k}" if sae.k else ""
                print(f"    autoencoder {sae.site}: {sae.architecture}, {sae.d_sae} latents{k}")
    return 0


def _sample(args: argparse.Namespace) -> int:
    import torch

    from neuron_explainer.models import Transformer

    model = Transformer.from_pretrained(args.model)
    if model.tokenizer is None:
        print(f"error: {args.model} has no tokenizer to encode the prompt", file=sys.stderr)
        return 2
    prompt_ids = model.tokenizer.encode(args.prompt)
    out = model.generate(
        torch.tensor([prompt_ids]),
        max_new_tokens=args.max_new_tokens,
        temperature=args.temperature,
        top_p=args.top_p,
        seed=args.seed,
    )
    completion = model.tokenizer.decode(out[0, len(prompt_ids) :].tolist())
    print(f"[{args.model}] {args.prompt}\x1b[1m{completion}\x1b[0m")
    return 0


def _hooks(args: argparse.Namespace) -> int:
    from neuron_explainer.models import Transformer

    model = Transformer.from_pretrained(args.model)
    _, cache = model.run_with_cache([0, 0, 0, 0])
    for name, tensor in cache.items():
        print(f"{name:42s} {list(tensor.shape)}")
    return 0


def _investigate(args: argparse.Namespace) -> int:
    """Run the default investigations (or one) with verification by real ablation."""
    import json

    from neuron_explainer.activations import attribute
    from neuron_explainer.activations.investigations import DEFAULT_SUITE, load_investigations
    from neuron_explainer.models import Transformer

    path = args.suite or DEFAULT_SUITE
    suite = [i for i in load_investigations(path) if args.id in (None, i.id)]
    if not suite:
        raise ValueError(f"No investigation {args.id!r} in {path}")
    models: dict[str, Transformer] = {}
    for inv in suite:
        model = models.setdefault(inv.model, Transformer.from_pretrained(inv.model))
        result = attribute(model, inv.request(k=args.k, verify=args.verify))
        effects = [(row.values.left.total_effect, row) for row in result.nodes if row.values.left]
        top_effect, top = max(effects, key=lambda pair: pair[0])
        verification = result.verification
        row = {
            "id": inv.id,
            "logit_diff": round(result.logit_diff.left, 4),
            "top_node": top.node.id,
            "top_total_effect": round(top_effect, 4),
            "verified_nodes": 0 if verification is None else len(verification.nodes),
            "pearson": None if verification is None else verification.pearson,
        }
        print(json.dumps(row))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tdb", description="Transformer Debugger")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("models", help="list registry models, their source and availability")
    p.set_defaults(handler=_models)

    p = sub.add_parser("sample", help="print a completion of a prompt")
    p.add_argument("model", nargs="?", default=None, help="registry name or model directory")
    p.add_argument("--prompt", default="The", help="text to continue")
    p.add_argument("--max-new-tokens", type=int, default=40)
    p.add_argument("--temperature", type=float, default=0.0, help="0 is greedy decoding")
    p.add_argument("--top-p", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(handler=_sample)

    p = sub.add_parser("hooks", help="list a model's hook names and shapes (on a 4-token input)")
    p.add_argument("model", nargs="?", default=None, help="registry name or model directory")
    p.set_defaults(handler=_hooks)

    p = sub.add_parser("investigate", help="run the default investigations with verification")
    p.add_argument("--id", default=None, help="only this investigation")
    p.add_argument("--suite", default=None, help="investigations JSON (default: the project's)")
    p.add_argument("--k", type=int, default=10, help="top and bottom k per metric")
    p.add_argument("--verify", type=int, default=20, help="nodes verified by real ablation")
    p.set_defaults(handler=_investigate)

    from neuron_explainer.activation_server.commands import add_commands as add_server_commands
    from neuron_explainer.datasets.commands import add_commands as add_dataset_commands
    from neuron_explainer.training.commands import add_commands

    add_commands(sub)
    add_dataset_commands(sub)
    add_server_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "model", "") is None:
        from neuron_explainer.models.registry import DEFAULT_MODEL

        args.model = DEFAULT_MODEL
    handler: Handler = args.handler
    import torch

    # An entry point's choice, which the library leaves to it: every command runs with denormal
    # floats flushed to zero (a setting of this thread, inherited by threads it starts), as
    # attribution, training and collation are many times slower on the CPU without it (softmax
    # gradients over a vocabulary are full of denormals). The server's model thread sets it too.
    torch.set_flush_denormal(True)
    try:
        return handler(args)
    except (FileNotFoundError, KeyError, ValueError) as e:
        message = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

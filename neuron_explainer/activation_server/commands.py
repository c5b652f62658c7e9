"""`tdb serve` (the API and UI on uvicorn) and `tdb openapi` (the API's schema, no model)."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path
from typing import Any

DEFAULT_PORT = 8000
TOKEN_ENV = "TDB_TOKEN"


def parse_saes(model: str, value: str | None) -> tuple[str, ...] | None:
    """None (every bundled autoencoder), `none`, or comma-separated sites the model ships."""
    if value is None:
        return None
    if value.strip().lower() == "none":
        return ()
    from neuron_explainer.models.sae_registry import sae_entries

    shipped = [e.site for e in sae_entries(model)]
    sites = tuple(s.strip() for s in value.split(",") if s.strip())
    unknown = [s for s in sites if s not in shipped]
    if unknown:
        raise ValueError(
            f"{model} ships no autoencoder at {', '.join(unknown)}; it ships: "
            f"{', '.join(shipped) or 'none'} (or pass --saes none)"
        )
    return sites


def served_models(given: list[str] | None) -> tuple[str, ...]:
    """The models of `--model` (repeatable), the first the default; without any, the default
    model. Each may also be a comma-separated list; a model given twice is served once."""
    from neuron_explainer.models.registry import DEFAULT_MODEL

    names = [n.strip() for value in given or () for n in value.split(",") if n.strip()]
    return tuple(dict.fromkeys(names)) or (DEFAULT_MODEL,)


def read_token_file(path: str) -> str:
    """The token in the file at `path`, surrounding whitespace stripped."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"--token-file {path}: no such file; write the token into it") from None
    except IsADirectoryError:
        raise ValueError(
            f"--token-file {path} is a directory; give the file that holds the token"
        ) from None
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise ValueError(
            f"--token-file {path} cannot be read ({reason}); make it a text file you can read "
            "that holds the token"
        ) from None
    token = text.strip()
    if not token:
        raise ValueError(f"--token-file {path} is empty; write the token into it")
    return token


def token_source(args: argparse.Namespace) -> str | None:
    """Where the token comes from: --token, else --token-file, else $TDB_TOKEN (None: nowhere)."""
    if args.token is not None and args.token_file is not None:
        raise ValueError("Give the token with --token or with --token-file, not both")
    if args.token is not None:
        return "--token"
    if args.token_file is not None:
        return "--token-file"
    return TOKEN_ENV if TOKEN_ENV in os.environ else None


def token_from_args(args: argparse.Namespace) -> str | None:
    """The token given to `tdb serve` (see `token_source`). --token shows in `ps` to other users
    of the machine; the file and the environment variable do not."""
    from neuron_explainer.activation_server.settings import check_token

    source = token_source(args)
    if source == "--token":
        return check_token(args.token, source)
    if source == "--token-file":
        return check_token(read_token_file(args.token_file), f"--token-file {args.token_file}")
    if source == TOKEN_ENV:
        return check_token(os.environ[TOKEN_ENV].strip(), f"${TOKEN_ENV}")
    return None


def settings_from_args(args: argparse.Namespace) -> tuple[Any, bool]:
    """The server's settings, and whether its token was generated here (to be printed)."""
    from neuron_explainer.activation_server.hosts import check_host
    from neuron_explainer.activation_server.settings import Settings, is_loopback
    from neuron_explainer.models import registry

    models = served_models(args.models)
    for model in models:
        registry.entry(model)  # model names come from the registry only
    check_host(args.host, "--host")
    for host in args.allowed_host or ():
        check_host(host, "--allowed-host")
    token, generated = token_from_args(args), False
    if token is None and not is_loopback(args.host):
        token, generated = secrets.token_urlsafe(24), True
    settings = Settings(
        models=models,
        saes=parse_saes(models[0], args.saes),
        max_model_bytes=args.max_model_bytes,
        host=args.host,
        port=args.port,
        data_dir=Path(args.data_dir),
        token=token,
        cors_origins=tuple(args.cors_origin or ()),
        allowed_hosts=tuple(args.allowed_host or ()),
        max_pending=args.max_pending,
        max_job_cost=args.max_job_cost,
        preload=True,
    )
    return settings, generated


def _serve(args: argparse.Namespace) -> int:
    import logging

    import uvicorn

    from neuron_explainer.activation_server.main import create_app
    from neuron_explainer.activation_server.preparation import (
        start_preparations,
        stop_preparation,
    )

    settings, generated = settings_from_args(args)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = create_app(settings)
    served = settings.model
    if len(settings.models) > 1:
        served = f"{', '.join(settings.models)} (default {settings.model}; ?model=NAME picks one)"
    print(f"tdb: serving {served} at {settings.origin} (API docs: /api/docs)", flush=True)
    if settings.token:
        shown = settings.token if generated else f"the one from {token_source(args)}"
        print(
            f"tdb: every /api request needs the token ({shown}) as 'Authorization: Bearer "
            "TOKEN' or 'X-TDB-Token: TOKEN'",
            flush=True,
        )
    preparation = start_preparations(settings) if args.prepare else None
    if preparation is not None:
        app.state.preparations = preparation.preparations  # the dataset routes report them
        print(
            f"tdb: collating the activation datasets of {', '.join(preparation.preparations)} "
            "in the background, one model after another (restarted if it fails, resumes if "
            "stopped): the debugger works now, component pages once it finishes",
            flush=True,
        )
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level=args.log_level)
    finally:
        stop_preparation(preparation)
    return 0


def _openapi(args: argparse.Namespace) -> int:
    import orjson

    from neuron_explainer.activation_server.main import openapi_document

    data = orjson.dumps(openapi_document(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    if args.out is None:
        sys.stdout.write(data.decode() + "\n")
    else:
        Path(args.out).write_bytes(data + b"\n")
        print(f"wrote {args.out}")
    return 0


def add_commands(sub: Any) -> None:
    """Register `serve` and `openapi` on `tdb`'s subparsers."""
    from neuron_explainer.activation_server.settings import (
        DEFAULT_JOB_COST as COST_BUDGET,
        DEFAULT_MODEL_BYTES,
    )
    from neuron_explainer.models.registry import DEFAULT_MODEL

    p = sub.add_parser("serve", help="serve the debugger's API (/api) and UI (/)")
    p.add_argument(
        "--model",
        dest="models",  # not `model`: `cli.main` fills a missing `model` with the default
        action="append",
        default=None,
        help=f"registry name (see `tdb models`; default {DEFAULT_MODEL}). Repeat it to serve "
        "several models: the first is the default, the others are chosen with ?model=NAME (the "
        "UI's model switcher)",
    )
    p.add_argument(
        "--saes",
        default=None,
        help="autoencoder sites to splice into the (first) model, comma-separated, or `none` "
        "(default: every bundled one; other models splice every bundled one)",
    )
    p.add_argument(
        "--max-model-bytes",
        type=int,
        default=DEFAULT_MODEL_BYTES,
        help="bytes of model and autoencoder parameters kept loaded across served models "
        f"(default {DEFAULT_MODEL_BYTES / 2**30:.0f} GiB); beyond it the least recently used "
        "other models are unloaded. A larger model still loads, alone",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="IP address or host name to bind (no port); off loopback a token is needed",
    )
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument("--data-dir", default="data", help="collations in DATA_DIR/collations/")
    p.add_argument(
        "--token",
        default=None,
        help=f"required on /api. Taken from --token, else --token-file, else ${TOKEN_ENV}; off "
        "loopback with none of them, one is generated and printed. --token shows in `ps` to other "
        f"users: prefer --token-file or ${TOKEN_ENV}",
    )
    p.add_argument(
        "--token-file",
        default=None,
        metavar="PATH",
        help="read the token from this file (surrounding whitespace stripped)",
    )
    p.add_argument("--cors-origin", action="append", help="another allowed origin (repeatable)")
    p.add_argument(
        "--allowed-host",
        action="append",
        help="another Host name or IP address, without port (repeatable)",
    )
    p.add_argument("--max-pending", type=int, default=16, help="model jobs queued before 503")
    p.add_argument(
        "--max-job-cost",
        type=float,
        default=COST_BUDGET,
        help="refuse model jobs estimated over this many cost units (about ms of work on 2 CPU "
        f"cores; default {COST_BUDGET:,.0f}): raise it on a faster machine",
    )
    p.add_argument("--log-level", default="info")
    p.add_argument(
        "--prepare",
        action="store_true",
        help="collate the activation datasets of each served model that has none in the "
        "background, one model after another",
    )
    p.set_defaults(handler=_serve)

    p = sub.add_parser("openapi", help="write the API's OpenAPI document (loads no model)")
    p.add_argument("--out", default=None, help="file (default: stdout)")
    p.set_defaults(handler=_openapi)

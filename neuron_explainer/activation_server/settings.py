"""The server's settings, in one place: what it serves, where it listens, who may call it, and
the bounds of its work queue and of its memory.

A server serves one model or several (`models`, the default first). `model` names the model a
request works on: the default in the server's settings, another one in the copy that
`for_model(name)` gives for a request that asks for it (`?model=NAME`), so code that reads
`settings.model` (stores, investigations, the preparation) works unchanged for every model.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from neuron_explainer.activation_server.hosts import check_host
from neuron_explainer.datasets.array_cache import DEFAULT_CACHE_BYTES
from neuron_explainer.models.registry import DEFAULT_MODEL

UI_DIR = Path(__file__).resolve().parents[2] / "neuron_viewer" / "dist"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
# Parameters (model and autoencoders) kept loaded across served models; beyond it the least
# recently used other models are unloaded. A model larger than it still loads, alone.
DEFAULT_MODEL_BYTES = 4 * 2**30
# Model jobs estimated over this many cost units (about ms on 2 CPU cores, see `costs`) are refused.
DEFAULT_JOB_COST = 10_000.0


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_token(token: str, source: str) -> str:
    """`token` when it can travel in a header as sent (`Authorization: Bearer TOKEN`)."""
    if not token:
        raise ValueError(f"The token from {source} is empty; give a non-empty token")
    if not (token.isascii() and token.isprintable()) or " " in token:
        raise ValueError(
            f"The token from {source} must be printable ASCII without spaces (it travels in a "
            "header); use e.g. `python -c 'import secrets; print(secrets.token_urlsafe())'`"
        )
    return token


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    model: str = DEFAULT_MODEL  # a registry name: the model this (copy of the) settings serves
    models: tuple[str, ...] = ()  # every served model, the default first; () : just `model`
    # Autoencoder sites to splice into the default model; None: all bundled ones. Other served
    # models splice all their bundled ones (`engine_saes`).
    saes: tuple[str, ...] | None = None
    max_model_bytes: int = Field(default=DEFAULT_MODEL_BYTES, ge=0)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    data_dir: Path = Path("data")  # collations live in DATA_DIR/collations/STORE
    # Collated arrays kept in memory, across stores (least recently used dropped beyond it).
    store_cache_bytes: int = Field(default=DEFAULT_CACHE_BYTES, ge=0)
    token: str | None = None  # required on every /api request when set
    cors_origins: tuple[str, ...] = ()  # besides the served UI's own origin
    allowed_hosts: tuple[str, ...] = ()  # Host headers besides localhost, 127.0.0.1, the host
    max_pending: int = Field(default=16, ge=1)  # model jobs running or waiting; more get 503
    # A model job's estimated cost (`costs`, units of about a millisecond of model work on a
    # 2-core CPU) above which it is refused with 400 before it is queued.
    max_job_cost: float = Field(default=DEFAULT_JOB_COST, gt=0)
    retry_after_s: int = Field(default=2, ge=1)
    max_body_bytes: int = Field(default=1_000_000, ge=1)
    ui_dir: Path | None = UI_DIR  # served at / when it exists
    preload: bool = False  # load the model when the app starts, not on first use

    @model_validator(mode="before")
    @classmethod
    def _served(cls, data: Any) -> Any:
        """`models` defaults to `(model,)`, `model` to the first of `models`."""
        if not isinstance(data, dict):
            return data
        models = tuple(data.get("models") or ())
        model = data.get("model") or (models[0] if models else DEFAULT_MODEL)
        models = tuple(dict.fromkeys(models or (model,)))
        if model not in models:
            raise ValueError(f"model {model!r} is not one of the served models {models}")
        return {**data, "model": model, "models": models}

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        return check_host(value, "host")

    @field_validator("allowed_hosts")
    @classmethod
    def _allowed_hosts(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(check_host(value, "allowed host") for value in values)

    @field_validator("token")
    @classmethod
    def _token(cls, value: str | None) -> str | None:
        return None if value is None else check_token(value, "the settings")

    @property
    def default_model(self) -> str:
        return self.models[0]

    @property
    def engine_saes(self) -> tuple[str, ...] | None:
        """The autoencoder sites to splice into `model` (None: every bundled one)."""
        return self.saes if self.model == self.default_model else None

    def for_model(self, name: str) -> Settings:
        """These settings for a request on the served model `name` (KeyError if not served)."""
        if name not in self.models:
            raise KeyError(name)
        return self if name == self.model else self.model_copy(update={"model": name})

    @property
    def requires_token(self) -> bool:
        """Off loopback a token is mandatory; on loopback it is checked when one is given."""
        return not is_loopback(self.host)

    @property
    def origin(self) -> str:
        return f"http://{_url_host(self.host)}:{self.port}"

    def origins(self) -> list[str]:
        """Origins allowed by CORS: the UI's own (both loopback spellings), then the extras."""
        own = [self.origin]
        if is_loopback(self.host):
            own += [f"http://{_url_host(h)}:{self.port}" for h in LOOPBACK_NAMES]
        return list(dict.fromkeys([*own, *self.cors_origins]))

    def hosts(self) -> set[str]:
        """Host header values (without port) the server answers to; others are refused, so a
        page on another domain that resolves to this machine cannot read the API."""
        return {h.strip("[]").lower() for h in (*LOOPBACK_NAMES, self.host, *self.allowed_hosts)}

    def collations_dir(self) -> Path:
        return self.data_dir / "collations"

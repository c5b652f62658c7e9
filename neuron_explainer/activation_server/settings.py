"""The server's settings, in one place: what it serves, where it listens, who may call it, and
the bounds of its work queue."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from neuron_explainer.activation_server.costs import COST_BUDGET
from neuron_explainer.activation_server.hosts import check_host
from neuron_explainer.datasets.array_cache import DEFAULT_CACHE_BYTES
from neuron_explainer.models.registry import DEFAULT_MODEL

UI_DIR = Path(__file__).resolve().parents[2] / "neuron_viewer" / "dist"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


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

    model: str = DEFAULT_MODEL  # a registry name
    saes: tuple[str, ...] | None = None  # autoencoder sites to splice; None: all bundled ones
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
    max_job_cost: float = Field(default=COST_BUDGET, gt=0)
    retry_after_s: int = Field(default=2, ge=1)
    max_body_bytes: int = Field(default=1_000_000, ge=1)
    ui_dir: Path | None = UI_DIR  # served at / when it exists
    preload: bool = False  # load the model when the app starts, not on first use

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

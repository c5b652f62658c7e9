"""The server's settings, in one place: what it serves, where it listens, who may call it, and
the bounds of its work queue."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

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


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    model: str = DEFAULT_MODEL  # a registry name
    saes: tuple[str, ...] | None = None  # autoencoder sites to splice; None: all bundled ones
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    data_dir: Path = Path("data")  # collations live in DATA_DIR/collations/STORE
    token: str | None = None  # required on every /api request when set
    cors_origins: tuple[str, ...] = ()  # besides the served UI's own origin
    allowed_hosts: tuple[str, ...] = ()  # Host headers besides localhost, 127.0.0.1, the host
    max_pending: int = Field(default=16, ge=1)  # model jobs running or waiting; more get 503
    retry_after_s: int = Field(default=2, ge=1)
    max_body_bytes: int = Field(default=1_000_000, ge=1)
    ui_dir: Path | None = UI_DIR  # served at / when it exists
    preload: bool = False  # load the model when the app starts, not on first use

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

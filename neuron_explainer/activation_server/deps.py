"""Dependencies of the routes, as `Annotated` aliases.

Collation stores are read only from DATA_DIR/collations/STORE: the store name is a plain name
(no separators), and the resolved path (symbolic links followed) must still lie inside the data
directory.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Query, Request

from neuron_explainer.activation_server.errors import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    UnavailableError,
)
from neuron_explainer.activation_server.runtime import Engine, Runtime
from neuron_explainer.activation_server.settings import Settings
from neuron_explainer.activations.investigations import Investigation, load_investigations
from neuron_explainer.datasets import CollationFileError, CollationStore, open_store
from neuron_explainer.datasets.commands import default_work_dir
from neuron_explainer.datasets.progress import read_progress

STORE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_settings(runtime: RuntimeDep) -> Settings:
    return runtime.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_engine(runtime: RuntimeDep) -> Engine:
    """The loaded model (loading it in the worker on first use)."""
    return await runtime.engine()


EngineDep = Annotated[Engine, Depends(get_engine)]


def store_path(settings: Settings, name: str) -> Path:
    """DATA_DIR/collations/NAME, refused when it resolves outside the data directory."""
    root = settings.data_dir.resolve()
    path = (settings.collations_dir() / name).resolve()
    if not path.is_relative_to(root):
        raise BadRequestError(f"Collation store {name!r} is outside the data directory {root}")
    return path


def build_hint(settings: Settings, name: str) -> str:
    out = f" --out {settings.collations_dir() / name}" if name != settings.model else ""
    return f"tdb collate {settings.model} --data-dir {settings.data_dir}{out}"


def get_store(
    settings: SettingsDep,
    store: Annotated[
        str | None,
        Query(max_length=100, pattern=STORE_NAME, description="default: the served model's"),
    ] = None,
) -> CollationStore:
    """The collation store named `store` (default: the served model's), checked to belong to
    the served model."""
    name = store or Path(settings.model).name
    path = store_path(settings, name)
    try:
        opened = open_store(str(path))
    except CollationFileError:
        progress = read_progress(default_work_dir(path))  # of `tdb collate` / `tdb prepare`
        if progress is not None and progress.is_running():
            raise UnavailableError(
                f"The activation datasets in {name!r} are being collated: "
                f"{progress.describe()}. Component pages work once it finishes.",
                headers={"Retry-After": "15"},
            ) from None
        resume = " (resumes the interrupted collation)" if progress is not None else ""
        raise NotFoundError(
            f"No collation store {name!r} in {settings.collations_dir()}; build it with "
            f"`{build_hint(settings, name)}`{resume}"
        ) from None
    collated_for = opened.index.get("model", {}).get("name")
    if collated_for and collated_for != settings.model:
        raise ConflictError(
            f"Store {name!r} was collated for {collated_for!r}, but the server serves "
            f"{settings.model!r}; choose a store of {settings.model!r}"
        )
    return opened


StoreDep = Annotated[CollationStore, Depends(get_store)]


@functools.lru_cache(maxsize=1)
def default_investigations() -> tuple[Investigation, ...]:
    return tuple(load_investigations())

"""Dependencies of the routes, as `Annotated` aliases.

The model of a request is chosen here, in one place: `get_runtime` reads the optional `model`
query parameter (default: the server's default model) and answers 404 for a model the server
does not serve. Everything else hangs off the runtime: its settings (`settings.model` is the
request's model), its engine, its store, its preparation.

Collation stores are read only from DATA_DIR/collations/STORE: the store name is a plain name
(no separators), and the resolved path (symbolic links followed) must still lie inside the data
directory. Answers name the data directory as the user gave it (`--data-dir`), never the
resolved path: that goes to the server's log.

A store is read through `ServedStore`: a damaged file (`StoreDefectError`) becomes a 503
(`StoreFaultError`) that names the file relative to the store and the command that rebuilds it,
wherever the read happens (a dataset route, a debugger job reading collated means). Open stores
and their arrays are cached per data directory: at most `MAX_OPEN_STORES` stores, arrays up to
`Settings.store_cache_bytes` (512 MiB by default), least recently used dropped first.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import blobfile as bf
import numpy.typing as npt
from fastapi import Depends, Query, Request

from neuron_explainer.activation_server.engine import Engine
from neuron_explainer.activation_server.errors import (
    ApiError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    UnavailableError,
)
from neuron_explainer.activation_server.pool import ModelPool
from neuron_explainer.activation_server.preparation import Preparation
from neuron_explainer.activation_server.runtime import Runtime
from neuron_explainer.activation_server.settings import Settings
from neuron_explainer.activations.investigations import Investigation, load_investigations
from neuron_explainer.datasets import (
    CollationStore,
    StoreCache,
    StoreDefectError,
    StoreMissingError,
)
from neuron_explainer.datasets.array_cache import ArrayCache
from neuron_explainer.datasets.config import Group
from neuron_explainer.datasets.locations import default_work_dir
from neuron_explainer.datasets.progress import read_progress
from neuron_explainer.datasets.reader import MAX_OPEN_STORES

log = logging.getLogger(__name__)
STORE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


MODEL_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


def get_pool(request: Request) -> ModelPool:
    pool: ModelPool = request.app.state.pool
    return pool


PoolDep = Annotated[ModelPool, Depends(get_pool)]


def get_runtime(
    pool: PoolDep,
    model: Annotated[
        str | None,
        Query(
            max_length=100,
            pattern=MODEL_NAME,
            description="a served model (see /api/models); default: the server's default model",
        ),
    ] = None,
) -> Runtime:
    """The runtime of the request's model."""
    return pool.runtime(model)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_settings(runtime: RuntimeDep) -> Settings:
    return runtime.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_engine(runtime: RuntimeDep) -> Engine:
    """The loaded model (loading it in the worker on first use)."""
    return await runtime.engine()


EngineDep = Annotated[Engine, Depends(get_engine)]


class StoreFaultError(ApiError):
    """The store cannot be served until someone repairs it (a damaged file, or a collation that
    failed): retrying will not help, the message says what to run."""

    status_code = 503


def get_preparation(request: Request, settings: SettingsDep) -> Preparation | None:
    """The collation child of the request's model, when `tdb serve --prepare` started one
    (`app.state.preparations`: by model name)."""
    preparations: Mapping[str, Preparation] = getattr(request.app.state, "preparations", {})
    return preparations.get(settings.model)


PreparationDep = Annotated[Preparation | None, Depends(get_preparation)]


def store_path(settings: Settings, name: str) -> Path:
    """DATA_DIR/collations/NAME, refused when it resolves outside the data directory."""
    root = settings.data_dir.resolve()
    path = (settings.collations_dir() / name).resolve()
    if not path.is_relative_to(root):
        log.warning("Collation store %r resolves to %s, outside %s", name, path, root)
        raise BadRequestError(
            f"Collation store {name!r} is outside the data directory {settings.data_dir} "
            "(a link out of it?); give the name of a store in "
            f"{settings.collations_dir()}"
        )
    return path


def build_hint(settings: Settings, name: str) -> str:
    """The command that builds the store `name` (a served model's own store: that model's)."""
    model = name if name in settings.models else settings.model
    out = f" --out {settings.collations_dir() / name}" if name != model else ""
    return f"tdb collate {model} --data-dir {settings.data_dir}{out}"


def store_fault(settings: Settings, error: StoreDefectError) -> StoreFaultError:
    """The answer to a damaged store: the file relative to the store, the repair command."""
    name = bf.basename(error.root)
    log.error("Collation store %s is damaged: %s", error.path, error.problem)
    return StoreFaultError(
        f"The collation store {name!r} in {settings.collations_dir()} is damaged: "
        f"{error.relative_message}. Rebuild it with `{build_hint(settings, name)}`"
    )


class ServedStore(CollationStore):
    """A store as the server reads it: its defects are `StoreFaultError`s, which no job mistakes
    for bad input (a `StoreDefectError` is a `ValueError`) and which show no server path."""

    def __init__(self, root: str, arrays: ArrayCache, settings: Settings) -> None:
        self.settings = settings
        with self._reported():
            super().__init__(root, arrays)

    def array(self, group: Group, name: str) -> npt.NDArray[Any]:
        with self._reported():
            return super().array(group, name)

    def strings(self) -> list[str] | None:
        with self._reported():
            return super().strings()

    def token_bytes(self) -> list[bytes] | None:
        with self._reported():
            return super().token_bytes()

    @contextmanager
    def _reported(self) -> Iterator[None]:
        try:
            yield
        except StoreDefectError as e:
            raise store_fault(self.settings, e) from None


def served_stores(settings: Settings) -> StoreCache:
    """The open stores of a server (of its settings: its data directory and array budget),
    shared by its served models."""
    return _served_stores(settings.for_model(settings.default_model))


@functools.lru_cache(maxsize=4)
def _served_stores(settings: Settings) -> StoreCache:
    opener = functools.partial(ServedStore, settings=settings)
    return StoreCache(settings.store_cache_bytes, MAX_OPEN_STORES, opener=opener)


def get_store(
    settings: Settings, store: str | None = None, preparation: Preparation | None = None
) -> CollationStore:
    """The collation store named `store` (default: the served model's), checked to belong to
    the served model. `preparation`: the child collating the served model's store, if any."""
    name = store or Path(settings.model).name
    path = store_path(settings, name)
    try:
        opened = served_stores(settings).open(str(path))
    except StoreMissingError:
        if name != Path(settings.model).name:
            preparation = None  # it collates the served model's store only
        raise _missing(settings, name, path, preparation) from None
    collated_for = opened.index["model"].get("name")
    if collated_for and collated_for != settings.model:
        raise ConflictError(
            f"Store {name!r} was collated for {collated_for!r}, but the server serves "
            f"{settings.model!r}; choose a store of {settings.model!r}"
        )
    return opened


def _missing(
    settings: Settings, name: str, path: Path, preparation: Preparation | None
) -> ApiError:
    """Why a store without an index is not there: being collated (503 with the progress), its
    collation stopped or failed (the supervisor's account), or never built (404)."""
    later = "Component pages work once it finishes."
    progress = read_progress(default_work_dir(path))  # of `tdb collate` / `tdb prepare`
    if progress is not None and progress.is_running():
        return UnavailableError(
            f"The activation datasets in {name!r} are being collated: "
            f"{progress.describe()}. {later}",
            headers={"Retry-After": "15"},
        )
    state = preparation.state() if preparation is not None else None
    if state is not None and state.phase == "running":  # no progress of this run yet
        return UnavailableError(
            f"The activation datasets in {name!r} are being collated: starting. {later}",
            headers={"Retry-After": "15"},
        )
    if state is not None and state.phase == "queued":
        return UnavailableError(
            f"The activation datasets in {name!r} are not ready: {state.describe()}. {later}",
            headers={"Retry-After": "60"},
        )
    if state is not None and state.phase == "restarting":
        return UnavailableError(
            f"The activation datasets in {name!r} are not ready: {state.describe()}. {later}",
            headers={"Retry-After": str(state.seconds_to_restart())},
        )
    if state is not None and state.phase == "failed":
        return StoreFaultError(
            f"The activation datasets in {name!r} are missing: {state.describe()}"
        )
    resume = " (resumes the interrupted collation)" if progress is not None else ""
    return NotFoundError(
        f"No collation store {name!r} in {settings.collations_dir()}; build it with "
        f"`{build_hint(settings, name)}`{resume}"
    )


def _store(
    settings: SettingsDep,
    preparation: PreparationDep,
    store: Annotated[
        str | None,
        Query(max_length=100, pattern=STORE_NAME, description="default: the served model's"),
    ] = None,
) -> CollationStore:
    return get_store(settings, store, preparation)


StoreDep = Annotated[CollationStore, Depends(_store)]


@functools.lru_cache(maxsize=1)
def default_investigations() -> tuple[Investigation, ...]:
    return tuple(load_investigations())

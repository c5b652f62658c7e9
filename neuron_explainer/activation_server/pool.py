"""The served models of one server: a `Runtime` per model, all sharing one `ModelWorker`, their
engines loaded on first use within a memory budget.

Model work stays serialized (one queue, one `max_pending` for the server) whatever the number of
models: the machine's cores are shared, and loading and unloading happen in the same worker
thread as the jobs, so no job ever runs on an engine being unloaded.

The budget (`Settings.max_model_bytes`) bounds the bytes of loaded parameters, models and their
autoencoders together. Before an engine loads, the least recently used *other* engines are
unloaded until its expected size fits (its size when last loaded, else its checkpoint's size on
disk); once loaded, its measured size is checked again the same way. A model larger than the
whole budget still loads, alone: the default model is never refused. Each unload is logged.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping

from neuron_explainer.activation_server.engine import Engine, load_engine
from neuron_explainer.activation_server.errors import NotFoundError
from neuron_explainer.activation_server.runtime import Runtime
from neuron_explainer.activation_server.settings import Settings
from neuron_explainer.activation_server.worker import ModelWorker

log = logging.getLogger(__name__)
MIB = 2**20
CHECKPOINT_SUFFIXES = (".safetensors", ".bin")


class ModelPool:
    """One `Runtime` per served model (`settings.models`), created up front (they hold no
    model until used); `engines` are already loaded ones (tests and benchmarks)."""

    def __init__(self, settings: Settings, engines: Mapping[str, Engine] | None = None) -> None:
        engines = dict(engines or {})
        unknown = [name for name in engines if name not in settings.models]
        if unknown:
            raise ValueError(
                f"Engines for {unknown} given, but the server serves {settings.models}"
            )
        self.settings = settings
        self.worker = ModelWorker(settings.max_pending)
        self._runtimes = {
            name: Runtime(settings.for_model(name), engines.get(name), self.worker, self)
            for name in settings.models
        }
        # Loaded engines, least recently used first, with their measured bytes.
        self._loaded: OrderedDict[str, int] = OrderedDict(
            (name, engine.n_bytes) for name, engine in engines.items()
        )
        self._sizes: dict[str, int] = dict(self._loaded)  # bytes when last loaded
        self._lock = threading.Lock()  # `touch` runs on the event loop, the rest in the worker

    @property
    def default(self) -> Runtime:
        return self._runtimes[self.settings.default_model]

    @property
    def names(self) -> tuple[str, ...]:
        return self.settings.models

    def runtime(self, name: str | None = None) -> Runtime:
        """The runtime of the served model `name` (None: the default); 404 for another name."""
        if name is None:
            return self.default
        try:
            return self._runtimes[name]
        except KeyError:
            raise NotFoundError(
                f"This server does not serve the model {name!r}; it serves "
                f"{', '.join(self.names)} (restart `tdb serve` with `--model {name}` to add it)"
            ) from None

    def loaded(self) -> list[str]:
        """The served models with a loaded engine, least recently used first."""
        with self._lock:
            return list(self._loaded)

    def touch(self, name: str) -> None:
        """Mark `name` as used now (it is unloaded last)."""
        with self._lock:
            if name in self._loaded:
                self._loaded.move_to_end(name)

    def acquire(self, runtime: Runtime) -> Engine:
        """`runtime`'s engine, loaded within the budget if it is not (worker thread only: no
        job runs while engines are unloaded)."""
        name = runtime.name
        engine = runtime._engine
        if engine is not None:
            self.touch(name)
            return engine
        self._make_room(name, self._sizes.get(name) or checkpoint_bytes(name))
        engine = load_engine(runtime.settings)
        runtime._set_engine(engine)
        n_bytes = engine.n_bytes
        with self._lock:
            self._sizes[name] = self._loaded[name] = n_bytes
            self._loaded.move_to_end(name)
        log.info("Loaded %s (%.0f MiB of parameters)", name, n_bytes / MIB)
        self._make_room(name, n_bytes)  # measured, not estimated
        budget = self.settings.max_model_bytes
        if n_bytes > budget:
            log.warning(
                "%s (%.0f MiB) is larger than the whole --max-model-bytes (%.0f MiB): it is "
                "loaded alone",
                name,
                n_bytes / MIB,
                budget / MIB,
            )
        return engine

    def _make_room(self, name: str, n_bytes: int) -> None:
        """Unload the least recently used other engines until `n_bytes` for `name` fit."""
        budget = self.settings.max_model_bytes
        while True:
            with self._lock:
                others = [(held, size) for held, size in self._loaded.items() if held != name]
                if not others or sum(size for _, size in others) + n_bytes <= budget:
                    return
                victim, size = others[0]
                del self._loaded[victim]
            self._runtimes[victim]._set_engine(None)
            log.info(
                "Unloaded %s (%.0f MiB, the least recently used) to make room for %s within "
                "--max-model-bytes (%.0f MiB)",
                victim,
                size / MIB,
                name,
                budget / MIB,
            )


def checkpoint_bytes(name: str) -> int:
    """The size on disk of a registry model's weights (0 when they cannot be found): what its
    engine is expected to take before it was ever loaded."""
    from neuron_explainer.models import registry

    try:
        directory = registry.model_directory(name)
        files = [p for p in directory.iterdir() if p.suffix in CHECKPOINT_SUFFIXES]
        return sum(p.stat().st_size for p in files)
    except (KeyError, OSError):
        return 0

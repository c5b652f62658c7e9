"""The served model, loaded on first use in the worker thread, and request-scoped model work.

Every job runs with the autoencoders spliced in and leaves the model as it found it: no hook
attached and nothing spliced, also when the job fails. The engine's own context managers remove
what they attach; `_check_clean` makes sure of it after every job (and repairs, loudly, should
anything be left), since a stray hook would silently change every later answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Concatenate, ParamSpec, TypeVar

from neuron_explainer.activation_server.settings import Settings
from neuron_explainer.activation_server.worker import ModelWorker
from neuron_explainer.models import SparseAutoencoder, Transformer, splice_saes
from neuron_explainer.models.sae_splice import detach_sae, spliced_saes

P = ParamSpec("P")
T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Engine:
    """The loaded model and the autoencoders spliced into it for each job."""

    name: str
    model: Transformer
    saes: dict[str, SparseAutoencoder]

    @contextmanager
    def session(self) -> Iterator[Transformer]:
        try:
            with splice_saes(self.model, self.saes):
                yield self.model
        finally:
            _check_clean(self.model)


def load_engine(settings: Settings) -> Engine:
    from neuron_explainer.models.loading import load_model
    from neuron_explainer.models.sae_registry import load_model_saes

    model = load_model(settings.model)
    sites = None if settings.saes is None else list(settings.saes)
    saes = load_model_saes(settings.model, sites, device=model.device, dtype=model.dtype)
    return Engine(settings.model, model, saes)


def hooks_left(model: Transformer) -> list[str]:
    """Hook sites with a hook attached, and sites with a splice."""
    points = model.hook_points.resolve(lambda _: True)
    return [p.name for p in points if p.fwd_fns or p.bwd_fns] + list(spliced_saes(model))


def _check_clean(model: Transformer) -> None:
    left = hooks_left(model)
    if not left:
        return
    log.error("A job left hooks or splices at %s; removing them", left)
    for site in spliced_saes(model):
        detach_sae(model, site)
    for point in model.hook_points.resolve(lambda _: True):
        point.fwd_fns.clear()
        point.bwd_fns.clear()


class Runtime:
    """The settings, the worker and the engine (loaded lazily, in the worker) of one app."""

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self.worker = ModelWorker(settings.max_pending)
        self._engine = engine

    @property
    def loaded(self) -> bool:
        return self._engine is not None

    def _load(self) -> Engine:
        if self._engine is None:  # only the worker thread assigns it
            self._engine = load_engine(self.settings)
        return self._engine

    async def engine(self) -> Engine:
        if self._engine is not None:
            return self._engine
        return await self.worker.run(self._load)

    async def run(
        self, fn: Callable[Concatenate[Engine, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `fn(engine, ...)` in the worker, with the autoencoders spliced in."""

        def job() -> T:
            engine = self._load()
            with engine.session():
                return fn(engine, *args, **kwargs)

        return await self.worker.run(job)

"""The loaded model of a server and its autoencoders (`Engine`), and the check that a job left
it clean.

Every job runs with the autoencoders spliced in and leaves the model as it found it: no hook
attached and nothing spliced, also when the job fails. The engine's own context managers remove
what they attach; `_check_clean` makes sure of it after every job (and repairs, loudly, should
anything be left), since a stray hook would silently change every later answer.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from neuron_explainer.activation_server.settings import Settings
from neuron_explainer.models import SparseAutoencoder, Transformer, splice_saes
from neuron_explainer.models.sae_splice import detach_sae, spliced_saes

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

    @property
    def n_bytes(self) -> int:
        """Bytes of the loaded parameters and buffers: the model's and the autoencoders'."""
        modules = [self.model, *self.saes.values()]
        tensors = {id(t): t for m in modules for t in (*m.parameters(), *m.buffers())}
        return sum(t.numel() * t.element_size() for t in tensors.values())


def load_engine(settings: Settings) -> Engine:
    from neuron_explainer.models.loading import load_model
    from neuron_explainer.models.sae_registry import load_model_saes

    model = load_model(settings.model)
    sites = None if settings.engine_saes is None else list(settings.engine_saes)
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

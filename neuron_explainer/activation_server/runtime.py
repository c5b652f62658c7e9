"""The served model, loaded on first use in the worker thread, and request-scoped model work.

Every job runs with the autoencoders spliced in and leaves the model as it found it: no hook
attached and nothing spliced, also when the job fails. The engine's own context managers remove
what they attach; `_check_clean` makes sure of it after every job (and repairs, loudly, should
anything be left), since a stray hook would silently change every later answer.

`Runtime.run` is the way of every model route: it estimates the job's cost (`costs`) and refuses
it over the budget before it is queued, then runs it for its client, cancelled when the client
goes away (`ModelWorker.run_for`). The job checks its cancel flag at every forward pass and every
block (a forward hook at `hook_embed` and each `blocks.{L}.hook_resid_pre`), so the attribution
engine, verification and sampling stop within one block's forward work (or one backward pass)
without threading a flag through them; the hook is removed before `_check_clean` looks.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Concatenate, ParamSpec, TypeVar

from torch import Tensor

from neuron_explainer.activation_server.costs import Estimate, check_budget
from neuron_explainer.activation_server.errors import ApiError, UnavailableError
from neuron_explainer.activation_server.settings import Settings
from neuron_explainer.activation_server.worker import (
    Client,
    ClientGoneError,
    JobCancelledError,
    ModelWorker,
)
from neuron_explainer.models import SparseAutoencoder, Transformer, splice_saes
from neuron_explainer.models.hooks import HookPoint, HookSpec
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
        self,
        client: Client | None,
        cost: Callable[[Engine], Estimate],
        fn: Callable[Concatenate[Engine, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run `fn(engine, ...)` in the worker, with the autoencoders spliced in, for `client`:
        refused (`costs.OverBudgetError`) when `cost(engine)` is over the budget, cancelled when
        the client goes away."""
        engine = await self.engine()
        # Tokenizing long prompts takes a while: off the event loop, beside the worker.
        estimate = await asyncio.to_thread(cost, engine)
        what = f"{getattr(fn, '__name__', 'model')} job"
        if estimate.units > self.settings.max_job_cost:
            log.info("Refused a %s of estimated cost %.0f: %s", what, estimate.units, estimate.what)
        check_budget(estimate, self.settings.max_job_cost)

        def job(cancel: threading.Event) -> T:
            began = time.monotonic()
            try:
                with engine.session() as model, model.hooks(checkpoints(model, cancel)):
                    return fn(engine, *args, **kwargs)
            except JobCancelledError:
                log.info("Stopped the %s %.1f s in: cancelled", what, _since(began))
                raise

        try:
            return await self.worker.run_for(client, job, what)
        except ClientGoneError as e:
            raise ClientClosedError(str(e)) from None
        except JobCancelledError:
            raise UnavailableError(
                "The server is stopping; retry once it is back", headers={"Retry-After": "5"}
            ) from None


class ClientClosedError(ApiError):
    """The client went away; nobody reads the answer (nginx's 499 "client closed request")."""

    status_code = 499


def checkpoints(model: Transformer, cancel: threading.Event) -> list[HookSpec]:
    """Forward hooks that raise `JobCancelledError` once `cancel` is set: at the embedding and
    before every block, so every forward pass (and sampling step) of the job is a checkpoint."""

    def check(x: Tensor, hook: HookPoint) -> None:
        if cancel.is_set():
            raise JobCancelledError(f"Cancelled at {hook.name}")

    sites = [
        "hook_embed",
        *(f"blocks.{layer}.hook_resid_pre" for layer in range(model.cfg.n_layers)),
    ]
    return [(site, check) for site in sites]


def _since(began: float) -> float:
    return time.monotonic() - began

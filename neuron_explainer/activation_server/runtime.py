"""A served model, loaded on first use in the worker thread, and request-scoped model work.

A `Runtime` serves one model; a server holds one per served model in its `pool.ModelPool`, all
sharing one `ModelWorker`, which loads (and, within the memory budget, unloads) their engines.

Every job runs in its engine's `session` (`engine.Engine`): the autoencoders spliced in, and
the model left as it was found.

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
from collections.abc import Callable
from typing import Concatenate, ParamSpec, Protocol, TypeVar, runtime_checkable

from torch import Tensor

from neuron_explainer.activation_server.costs import Estimate, check_budget
from neuron_explainer.activation_server.engine import Engine, load_engine
from neuron_explainer.activation_server.errors import ApiError, UnavailableError
from neuron_explainer.activation_server.settings import Settings
from neuron_explainer.activation_server.worker import (
    Client,
    ClientGoneError,
    JobCancelledError,
    ModelWorker,
)
from neuron_explainer.models import Transformer
from neuron_explainer.models.hooks import HookPoint, HookSpec
from neuron_explainer.models.sites import act_name

P = ParamSpec("P")
T = TypeVar("T")
log = logging.getLogger(__name__)


@runtime_checkable
class EngineLoader(Protocol):
    """What loads and unloads the engines of several runtimes (`pool.ModelPool`)."""

    def acquire(self, runtime: Runtime) -> Engine:
        """`runtime`'s engine, loaded if it is not (in the worker thread)."""
        ...

    def touch(self, name: str) -> None:
        """Mark the model `name` as used now."""
        ...


class Runtime:
    """The settings (`settings.model` is its model), the worker and the engine (loaded lazily,
    in the worker) of one served model. In a pool, the pool loads and unloads the engine."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine | None = None,
        worker: ModelWorker | None = None,
        pool: EngineLoader | None = None,
    ) -> None:
        self.settings = settings
        self.worker = worker or ModelWorker(settings.max_pending)
        self._engine = engine
        self._pool = pool

    @property
    def name(self) -> str:
        return self.settings.model

    @property
    def loaded(self) -> bool:
        return self._engine is not None

    def _load(self) -> Engine:
        """The engine, loaded if it is not (worker thread only: it alone assigns `_engine`)."""
        if self._pool is not None:
            return self._pool.acquire(self)
        if self._engine is None:
            self._engine = load_engine(self.settings)
        return self._engine

    def _set_engine(self, engine: Engine | None) -> None:
        """Load or unload (the pool's, in the worker thread)."""
        self._engine = engine

    async def engine(self) -> Engine:
        if self._engine is not None:
            if self._pool is not None:
                self._pool.touch(self.name)
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
        estimated_on = await self.engine()
        # Tokenizing long prompts takes a while: off the event loop, beside the worker.
        estimate = await asyncio.to_thread(cost, estimated_on)
        what = f"{getattr(fn, '__name__', 'model')} job"
        if estimate.units > self.settings.max_job_cost:
            log.info("Refused a %s of estimated cost %.0f: %s", what, estimate.units, estimate.what)
        check_budget(estimate, self.settings.max_job_cost)

        def job(cancel: threading.Event) -> T:
            began = time.monotonic()
            # The engine again, in the worker: loading another model may have unloaded it.
            engine = self._load()
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
        act_name("embed"),
        *(act_name("resid_pre", layer) for layer in range(model.cfg.n_layers)),
    ]
    return [(site, check) for site in sites]


def _since(began: float) -> float:
    return time.monotonic() - began

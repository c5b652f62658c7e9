from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from neuron_explainer.activation_server.deps import StoreDep
from neuron_explainer.activation_server.errors import STORE_RESPONSES, NotFoundError, message_of
from neuron_explainer.activation_server.schemas import (
    MAX_ID,
    ComponentRecord,
    LayerSummary,
)
from neuron_explainer.datasets import CollationStore

router = APIRouter(
    prefix="/datasets",
    tags=["datasets"],
    responses=STORE_RESPONSES,
)
Family = Annotated[Literal["neuron", "head", "latent"], Path()]
Layer = Annotated[
    str,
    Path(
        max_length=200,
        pattern=r"^[A-Za-z0-9_.]+$",
        description="a layer number, or the group's site (latents: the autoencoder's latent site)",
    ),
]


def _layer(store: CollationStore, family: str, layer: str) -> int | str:
    key: int | str = int(layer) if layer.isdigit() else layer
    try:
        store.group(family, key)
    except KeyError:
        held = [g["site"] for g in store.index["groups"] if g["family"] == family]
        raise NotFoundError(
            f"The store has no {family} group at {layer!r}; its {family} groups: "
            f"{', '.join(held) or 'none'} (give a layer number or one of these sites)"
        ) from None
    return key


@router.get("/records/{family}/{layer}/{index}")
def read_record(
    store: StoreDep,
    family: Family,
    layer: Layer,
    index: Annotated[int, Path(ge=0, le=MAX_ID)],
) -> ComponentRecord:
    """Everything collated about one component: examples, quantiles, histogram, logits."""
    key = _layer(store, family, layer)
    try:
        record = store.record(family, key, index)
    except KeyError as e:
        raise NotFoundError(message_of(e)) from None
    return ComponentRecord.model_validate(record)


@router.get("/summaries/{family}/{layer}")
def read_summary(
    store: StoreDep,
    family: Family,
    layer: Layer,
    by: Literal["kurtosis", "density", "max", "mean", "variance", "skew"] = "kurtosis",
    limit: Annotated[int, Query(ge=1, le=10_000)] = 20,
    measure: Annotated[Literal["activation", "attention", "write_norm"] | None, Query()] = None,
    ascending: bool = False,
) -> LayerSummary:
    """A layer's components ranked by a statistic of their collated activations."""
    key = _layer(store, family, layer)
    try:
        summary = store.summary(
            family, key, by=by, limit=limit, measure=measure, ascending=ascending
        )
    except KeyError as e:
        raise NotFoundError(message_of(e)) from None
    return LayerSummary.model_validate(summary)

from pathlib import Path

from fastapi import APIRouter

from neuron_explainer.activation_server.deps import (
    EngineDep,
    PreparationDep,
    SettingsDep,
    get_store,
)
from neuron_explainer.activation_server.errors import ApiError, BadRequestError, UnavailableError
from neuron_explainer.activation_server.preparation import Preparation
from neuron_explainer.activation_server.schemas import (
    Autoencoder,
    CollationGroup,
    DatasetInfo,
    Limits,
    ModelConfig,
    ModelInfo,
    TokenizeRequest,
    TokenizeResponse,
)
from neuron_explainer.activation_server.settings import Settings
from neuron_explainer.activations.vocab import token_strings
from neuron_explainer.models import registry
from neuron_explainer.models.sites import Site

router = APIRouter(prefix="/model", tags=["model"])


@router.get("")
def read_model(engine: EngineDep, settings: SettingsDep, preparation: PreparationDep) -> ModelInfo:
    """The served model: its configuration, autoencoders, collated dataset and limits."""
    entry = registry.entry(engine.name)
    cfg = engine.model.cfg
    return ModelInfo(
        name=engine.name,
        description=entry.description,
        source=entry.source,
        config=ModelConfig.model_validate(cfg),
        has_tokenizer=engine.model.tokenizer is not None,
        autoencoders=[
            Autoencoder(
                site=site,
                latent_site=Site.parse(site).autoencoder().name,
                architecture=sae.cfg.architecture,
                d_in=sae.cfg.d_in,
                d_sae=sae.cfg.d_sae,
                k=sae.cfg.k,
            )
            for site, sae in engine.saes.items()
        ],
        dataset=dataset_info(settings, preparation),
        limits=Limits(max_prompt_tokens=cfg.n_ctx),
    )


def dataset_info(settings: Settings, preparation: Preparation | None = None) -> DatasetInfo:
    """The served model's store, or why it is not available (being collated, its collation
    stopped, damaged, never built): the model's page answers whatever state the store is in."""
    name = Path(settings.model).name
    try:
        store = get_store(settings, None, preparation)
    except ApiError as e:
        collating = isinstance(e, UnavailableError)
        return DatasetInfo(store=name, available=False, message=e.message, collating=collating)
    groups = [
        CollationGroup(
            family=g["family"], site=g["site"], layer=g["layer"], n_components=g["n_components"]
        )
        for g in store.index["groups"]
    ]
    n_tokens = store.index["corpus"]["n_tokens"]
    return DatasetInfo(store=name, available=True, n_tokens=n_tokens, groups=groups)


@router.post("/tokenize")
async def tokenize(body: TokenizeRequest, engine: EngineDep) -> TokenizeResponse:
    """Token ids and display strings of a text."""
    tokenizer = engine.model.tokenizer
    if tokenizer is None:
        raise BadRequestError("This model has no tokenizer; work with token ids")
    ids = tokenizer.encode(body.text)
    return TokenizeResponse(ids=ids, strings=token_strings(engine.model, ids))

from typing import Annotated

from fastapi import APIRouter, Query

from neuron_explainer.activation_server.deps import SettingsDep, default_investigations
from neuron_explainer.activation_server.schemas import Investigation, InvestigationsResponse

router = APIRouter(prefix="/investigations", tags=["investigations"])


@router.get("")
def list_investigations(
    settings: SettingsDep,
    all_models: Annotated[bool, Query(alias="allModels")] = False,
) -> InvestigationsResponse:
    """The default investigations of the served model (or of every model)."""
    return InvestigationsResponse(
        investigations=[
            Investigation.model_validate(i)
            for i in default_investigations()
            if all_models or i.model == settings.model
        ]
    )

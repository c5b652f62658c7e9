from __future__ import annotations

import pytest

from neuron_explainer.models import TransformerConfig
from tests.models.tiny import TINY_CFG


def test_json_round_trip() -> None:
    for cfg in (TINY_CFG, TINY_CFG.replace(attn_only=True, d_mlp=0, tied_embeddings=False)):
        assert TransformerConfig.from_json(cfg.to_json()) == cfg
    assert TINY_CFG.d_attn == TINY_CFG.n_heads * TINY_CFG.d_head


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (dict(n_layers=0), "n_layers must be a positive int"),
        (dict(d_model=True), "d_model must be a positive int"),
        (dict(d_mlp=0), "d_mlp must be positive unless attn_only"),
        (dict(act_fn="swish"), "Unknown act_fn"),
        (dict(ln_eps=0.0), "ln_eps must be positive"),
        (dict(normalization="RMS"), "Unknown normalization"),
    ],
)
def test_invalid_values_raise(changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TINY_CFG.replace(**changes)


def test_unknown_keys_raise() -> None:
    data = TINY_CFG.to_dict() | {"n_layer": 3}
    with pytest.raises(ValueError, match=r"Unknown TransformerConfig keys \['n_layer'\]"):
        TransformerConfig.from_dict(data)
    with pytest.raises(ValueError, match="must be an object"):
        TransformerConfig.from_json("[1, 2]")

"""The shape of a GPT-2-architecture transformer, as a small dataclass with a JSON round trip."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

ACT_FNS = ("gelu_new", "gelu", "relu")
NORMALIZATIONS = ("LN", "LNPre")


@dataclass(frozen=True)
class TransformerConfig:
    n_layers: int
    d_model: int
    n_heads: int
    d_head: int
    d_mlp: int
    n_ctx: int
    d_vocab: int
    act_fn: str = "gelu_new"
    ln_eps: float = 1e-5
    attn_only: bool = False
    tied_embeddings: bool = True
    # "LNPre" is LayerNorm without its affine part, used once the affine part has been folded into
    # the weights that read from it (see weight_processing.fold_layer_norm).
    normalization: str = "LN"

    def __post_init__(self) -> None:
        for name in ("n_layers", "d_model", "n_heads", "d_head", "n_ctx", "d_vocab"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"TransformerConfig.{name} must be a positive int, got {value!r}")
        if not isinstance(self.d_mlp, int) or self.d_mlp < 0:
            raise ValueError(
                f"TransformerConfig.d_mlp must be a non-negative int, got {self.d_mlp!r}"
            )
        if not self.attn_only and self.d_mlp == 0:
            raise ValueError("TransformerConfig.d_mlp must be positive unless attn_only=True")
        if self.act_fn not in ACT_FNS:
            raise ValueError(f"Unknown act_fn {self.act_fn!r}; expected one of {ACT_FNS}")
        if self.normalization not in NORMALIZATIONS:
            raise ValueError(
                f"Unknown normalization {self.normalization!r}; expected one of {NORMALIZATIONS}"
            )
        if not self.ln_eps > 0:
            raise ValueError(f"TransformerConfig.ln_eps must be positive, got {self.ln_eps!r}")

    @property
    def d_attn(self) -> int:
        """Width of all heads together (n_heads * d_head)."""
        return self.n_heads * self.d_head

    def replace(self, **changes: Any) -> TransformerConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TransformerConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"Unknown TransformerConfig keys {unknown}; known keys: {sorted(known)}"
            )
        return cls(**data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TransformerConfig:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("A TransformerConfig JSON document must be an object")
        return cls.from_dict(data)

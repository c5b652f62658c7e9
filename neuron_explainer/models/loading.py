"""Checkpoint loading and saving.

Accepted inputs: a registry name, a directory in Hugging Face GPT-2 layout (config.json plus
model.safetensors, possibly sharded, or pytorch_model.bin read with `weights_only=True`), or our
own layout written by `save_model`. Nothing is ever unpickled.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import Tensor

from neuron_explainer.models import registry
from neuron_explainer.models.config import TransformerConfig
from neuron_explainer.models.tokenizers import HfTokenizer, Tokenizer, gpt2_tokenizer
from neuron_explainer.models.transformer import Transformer

OUR_FORMAT = "neuron_explainer.transformer"
GPT2_VOCAB_SIZE = 50257
HF_ACTIVATIONS = {
    "gelu_new": "gelu_new",
    "gelu_pytorch_tanh": "gelu_new",
    "gelu": "gelu",
    "relu": "relu",
}


def load_model(
    name_or_path: str | Path,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    allow_download: bool = False,
    fold_ln: bool = False,
    center_writing_weights: bool = False,
    center_unembed: bool = False,
) -> Transformer:
    """Load a model by registry name or directory. Weight processing is off unless asked for."""
    directory = registry.model_directory(name_or_path, allow_download)
    config_path = directory / "config.json"
    if not config_path.is_file():
        raise FileNotFoundError(f"No config.json in {directory}: not a model directory")
    raw = json.loads(config_path.read_text())
    if raw.get("format") == OUR_FORMAT:
        cfg = TransformerConfig.from_dict(raw["config"])
        state = _read_weights(directory)
    else:
        cfg = config_from_hf(raw)
        state = state_dict_from_hf(_read_weights(directory), cfg)
    model = Transformer(cfg)
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as e:  # shape mismatches
        raise ValueError(f"Checkpoint {directory} does not match its config: {e}") from None
    if missing or unexpected:
        raise ValueError(
            f"Checkpoint {directory} does not match its config: missing {sorted(missing)}, "
            f"unexpected {sorted(unexpected)}"
        )
    model.to(device=device, dtype=dtype).eval()
    model.tokenizer = _find_tokenizer(directory, cfg)
    if fold_ln or center_writing_weights or center_unembed:
        from neuron_explainer.models.weight_processing import process_weights

        model = process_weights(
            model,
            fold_ln=fold_ln,
            center_writing_weights=center_writing_weights,
            center_unembed=center_unembed,
        )
    return model


def save_model(
    model: Transformer, directory: str | Path, card: Mapping[str, Any] | None = None
) -> None:
    """Write config.json, model.safetensors, the tokenizer (when it is a tokenizer.json) and an
    optional card.json."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    doc = {"format": OUR_FORMAT, "version": 1, "config": model.cfg.to_dict()}
    (out / "config.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(out / "model.safetensors"))
    if isinstance(model.tokenizer, HfTokenizer):
        (out / "tokenizer.json").write_text(model.tokenizer.json_text)
    if card is not None:
        (out / "card.json").write_text(json.dumps(dict(card), indent=2) + "\n")


def _find_tokenizer(directory: Path, cfg: TransformerConfig) -> Tokenizer | None:
    if (directory / "tokenizer.json").is_file():
        return HfTokenizer.from_file(directory / "tokenizer.json")
    if cfg.d_vocab == GPT2_VOCAB_SIZE:
        return gpt2_tokenizer()
    return None


def _read_weights(directory: Path) -> dict[str, Tensor]:
    """All tensors of a checkpoint directory: safetensors (single or sharded) first, then .bin."""
    for single, index in (
        ("model.safetensors", "model.safetensors.index.json"),
        ("pytorch_model.bin", "pytorch_model.bin.index.json"),
    ):
        if (directory / single).is_file():
            return _read_file(directory / single)
        if (directory / index).is_file():
            weight_map = json.loads((directory / index).read_text())["weight_map"]
            state: dict[str, Tensor] = {}
            for shard in sorted(set(weight_map.values())):
                shard_path = (directory / shard).resolve()
                if directory.resolve() not in shard_path.parents:
                    raise ValueError(f"Shard {shard!r} in {index} points outside {directory}")
                state.update(_read_file(shard_path))
            return state
    raise FileNotFoundError(
        f"No weights in {directory}: expected model.safetensors, model.safetensors.index.json, "
        "pytorch_model.bin or pytorch_model.bin.index.json"
    )


def _read_file(path: Path) -> dict[str, Tensor]:
    if path.suffix == ".safetensors":
        return load_file(str(path))
    # weights_only=True refuses arbitrary pickled objects: only tensors and plain containers load.
    loaded = torch.load(str(path), map_location="cpu", weights_only=True)
    if not isinstance(loaded, dict):
        raise ValueError(f"{path} does not hold a state dict")
    return {str(k): v for k, v in loaded.items() if isinstance(v, Tensor)}


def config_from_hf(raw: Mapping[str, Any]) -> TransformerConfig:
    """Our config from a Hugging Face GPT-2 config.json."""
    if raw.get("model_type", "gpt2") != "gpt2":
        raise ValueError(
            f"Only GPT-2-family checkpoints load here, got model_type {raw['model_type']!r}"
        )
    for flag in ("scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn"):
        if raw.get(flag):
            raise ValueError(f"GPT-2 option {flag}=True is not supported")
    if raw.get("scale_attn_weights", True) is not True:
        raise ValueError("GPT-2 option scale_attn_weights=False is not supported")
    act = raw.get("activation_function", "gelu_new")
    if act not in HF_ACTIVATIONS:
        raise ValueError(
            f"Unsupported activation_function {act!r}; supported: {sorted(HF_ACTIVATIONS)}"
        )
    d_model, n_heads = int(raw["n_embd"]), int(raw["n_head"])
    if d_model % n_heads:
        raise ValueError(f"n_embd={d_model} is not divisible by n_head={n_heads}")
    return TransformerConfig(
        n_layers=int(raw["n_layer"]),
        d_model=d_model,
        n_heads=n_heads,
        d_head=d_model // n_heads,
        d_mlp=int(raw.get("n_inner") or 4 * d_model),
        n_ctx=int(raw.get("n_positions", raw.get("n_ctx", 1024))),
        d_vocab=int(raw["vocab_size"]),
        act_fn=HF_ACTIVATIONS[act],
        ln_eps=float(raw.get("layer_norm_epsilon", 1e-5)),
        tied_embeddings=bool(raw.get("tie_word_embeddings", True)),
    )


def state_dict_from_hf(hf: Mapping[str, Tensor], cfg: TransformerConfig) -> dict[str, Tensor]:
    """Rename and reshape Hugging Face GPT-2 tensors into this model's parameters."""
    sd = {k.removeprefix("transformer."): v for k, v in hf.items()}
    d, h, dh = cfg.d_model, cfg.n_heads, cfg.d_head

    def take(key: str, *shape: int) -> Tensor:
        if key not in sd:
            raise ValueError(f"Hugging Face checkpoint lacks tensor {key!r}")
        tensor = sd[key]
        if tensor.numel() != math.prod(shape):
            raise ValueError(
                f"Checkpoint does not match its config: {key} has shape {tuple(tensor.shape)}, "
                f"expected {math.prod(shape)} elements as {shape}"
            )
        return tensor.reshape(shape)

    V, n_pos, m = cfg.d_vocab, cfg.n_ctx, cfg.d_mlp
    out = {
        "W_E": take("wte.weight", V, d),
        "W_pos": take("wpe.weight", n_pos, d),
        "ln_final.w": take("ln_f.weight", d),
        "ln_final.b": take("ln_f.bias", d),
        "b_U": torch.zeros(V, dtype=sd["wte.weight"].dtype),
    }
    if not cfg.tied_embeddings:
        out["W_U_untied"] = take("lm_head.weight", V, d).T.contiguous()
    for layer in range(cfg.n_layers):
        hf_p, p = f"h.{layer}.", f"blocks.{layer}."
        out[p + "ln1.w"] = take(hf_p + "ln_1.weight", d)
        out[p + "ln1.b"] = take(hf_p + "ln_1.bias", d)
        # Conv1D weights are [in, out]; c_attn's output is q | k | v, each split into heads.
        out[p + "attn.W_QKV"] = take(hf_p + "attn.c_attn.weight", d, 3, h, dh)
        out[p + "attn.b_QKV"] = take(hf_p + "attn.c_attn.bias", 3, h, dh)
        out[p + "attn.W_O"] = take(hf_p + "attn.c_proj.weight", h, dh, d)
        out[p + "attn.b_O"] = take(hf_p + "attn.c_proj.bias", d)
        out[p + "ln2.w"] = take(hf_p + "ln_2.weight", d)
        out[p + "ln2.b"] = take(hf_p + "ln_2.bias", d)
        out[p + "mlp.W_in"] = take(hf_p + "mlp.c_fc.weight", d, m)
        out[p + "mlp.b_in"] = take(hf_p + "mlp.c_fc.bias", m)
        out[p + "mlp.W_out"] = take(hf_p + "mlp.c_proj.weight", m, d)
        out[p + "mlp.b_out"] = take(hf_p + "mlp.c_proj.bias", d)
    return {k: v.contiguous() for k, v in out.items()}

"""Sparse autoencoders on disk in SAELens's layout: `cfg.json` + `sae_weights.safetensors`.

Tensors: W_enc [d_in, d_sae], b_enc [d_sae], W_dec [d_sae, d_in], b_dec [d_in], and threshold
[d_sae] for JumpReLU. `cfg.json` is written as SAELens 6 writes it (architecture, sizes, dtype,
`metadata` with model and hook names), plus the flat keys of SAELens's older layout
(`hook_name`, `activation_fn`, `activation_fn_kwargs`, ...) for tools that read those. Reading
accepts both layouts. Nothing is unpickled.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from neuron_explainer.models.sparse_autoencoder import (
    DTYPES,
    SaeConfig,
    SparseAutoencoder,
    get_architecture,
)

SAE_CFG_FILENAME = "cfg.json"
SAE_WEIGHTS_FILENAME = "sae_weights.safetensors"
# Our architecture names and SAELens's ("standard" is its L1-trained ReLU autoencoder).
TO_SAELENS_ARCHITECTURE = {"relu": "standard", "topk": "topk", "jumprelu": "jumprelu"}
FROM_SAELENS_ARCHITECTURE = {v: k for k, v in TO_SAELENS_ARCHITECTURE.items()}
# The SAELens release whose cfg.json layout we write; SAELens reads a file without a version as
# its older flat layout.
SAELENS_LAYOUT_VERSION = "6.0.0"
# Activation parameters (JumpReLU's threshold) sit at the top level of SAELens's state dict.
_ACTIVATION_PREFIX = "activation."


def save_sae(sae: SparseAutoencoder, directory: str | Path) -> Path:
    """Write `cfg.json` and `sae_weights.safetensors` into `directory` (created if needed)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    state = {
        name.removeprefix(_ACTIVATION_PREFIX): t.detach().contiguous().cpu()
        for name, t in sae.state_dict().items()
    }
    save_file(state, str(out / SAE_WEIGHTS_FILENAME))
    doc = config_to_saelens(sae.cfg)
    (out / SAE_CFG_FILENAME).write_text(json.dumps(doc, indent=2) + "\n")
    return out


def load_sae(
    directory: str | Path,
    device: str | torch.device = "cpu",
    dtype: torch.dtype | None = None,
    norm_scaling_factor: float | None = None,
) -> SparseAutoencoder:
    """Read an autoencoder written by `save_sae` or by SAELens, onto `device` (not the device
    named in the file, which is where it was trained) in `dtype` (by default the file's).

    `norm_scaling_factor`: for files whose `normalize_activations` is "expected_average_only_in",
    the factor the inputs were multiplied by in training; it is folded into the weights so the
    autoencoder reads raw activations (as SAELens does for its pretrained releases)."""
    path = Path(directory)
    cfg_path, weights_path = path / SAE_CFG_FILENAME, path / SAE_WEIGHTS_FILENAME
    for p in (cfg_path, weights_path):
        if not p.is_file():
            raise FileNotFoundError(f"No {p.name} in {path}: not a sparse autoencoder directory")
    raw = json.loads(cfg_path.read_text())
    if not isinstance(raw, dict):
        raise ValueError(f"{cfg_path} must hold a JSON object")
    cfg = config_from_saelens(raw).replace(device=str(device))
    if dtype is not None:
        cfg = cfg.replace(dtype=dtype_name(dtype))
    state = load_file(str(weights_path))
    _drop_unit_scaling_factor(state, cfg_path)
    sae = SparseAutoencoder(cfg)
    ours = {
        name if name in sae.state_dict() else _ACTIVATION_PREFIX + name: t
        for name, t in state.items()
    }
    try:
        sae.load_state_dict(ours)
    except RuntimeError as e:  # missing, unexpected or misshapen tensors
        raise ValueError(f"{weights_path} does not match {cfg_path}: {e}") from None
    if cfg.normalize_activations == "expected_average_only_in":
        if norm_scaling_factor is None:
            warnings.warn(
                f"{cfg_path} says normalize_activations='expected_average_only_in'; without "
                "norm_scaling_factor the autoencoder reads activations unscaled",
                stacklevel=2,
            )
        else:
            fold_norm_scaling_factor(sae, norm_scaling_factor)
    return sae


def dtype_name(dtype: torch.dtype) -> str:
    for name, value in DTYPES.items():
        if value == dtype:
            return name
    raise ValueError(f"Unsupported dtype {dtype}; expected one of {list(DTYPES.values())}")


@torch.no_grad()
def fold_norm_scaling_factor(sae: SparseAutoencoder, factor: float) -> None:
    """Make an autoencoder trained on `factor * x` read x and write x: W_enc *= factor,
    W_dec /= factor, b_dec /= factor."""
    sae.W_enc.mul_(factor)
    sae.W_dec.div_(factor)
    sae.b_dec.div_(factor)
    sae.cfg = sae.cfg.replace(normalize_activations="none")


def config_to_saelens(cfg: SaeConfig) -> dict[str, Any]:
    """cfg.json as SAELens writes it, plus the flat keys of its older layout."""
    meta = {"model_name": cfg.model_name, "hook_name": cfg.hook_name, "hook_layer": cfg.hook_layer}
    architecture = get_architecture(cfg.architecture)
    doc: dict[str, Any] = {
        "architecture": TO_SAELENS_ARCHITECTURE[cfg.architecture],
        "d_in": cfg.d_in,
        "d_sae": cfg.d_sae,
        "dtype": cfg.dtype,
        "device": cfg.device,
        "apply_b_dec_to_input": cfg.apply_b_dec_to_input,
        "normalize_activations": cfg.normalize_activations,
        "reshape_activations": "none",
        "metadata": {
            "sae_lens_version": SAELENS_LAYOUT_VERSION,
            "sae_lens_training_version": SAELENS_LAYOUT_VERSION,
            **meta,
        },
        **meta,
        "activation_fn": architecture.saelens_activation_fn,
        "activation_fn_kwargs": {"k": cfg.k} if cfg.k is not None else {},
    }
    return doc | architecture.saelens_fields(cfg)


def config_from_saelens(raw: dict[str, Any]) -> SaeConfig:
    """An `SaeConfig` from SAELens's cfg.json (6.x layout, or the older flat one)."""
    meta: dict[str, Any] = raw.get("metadata") or {}

    def get(key: str, *old_names: str) -> Any:
        for name in (key, *old_names):
            if meta.get(name) is not None:
                return meta[name]
            if raw.get(name) is not None:
                return raw[name]
        return None

    activation_fn = get("activation_fn", "activation_fn_str")
    activation_kwargs = raw.get("activation_fn_kwargs") or {}
    architecture = raw.get("architecture") or "standard"
    if architecture == "standard" and activation_fn == "topk":  # SAELens before 6.0
        architecture = "topk"
    if architecture not in FROM_SAELENS_ARCHITECTURE:
        raise ValueError(
            f"Unsupported SAELens architecture {architecture!r}; "
            f"supported: {sorted(FROM_SAELENS_ARCHITECTURE)}"
        )
    unsupported = {
        "reshape_activations": (raw.get("reshape_activations") or "none") != "none",
        "rescale_acts_by_decoder_norm": bool(raw.get("rescale_acts_by_decoder_norm")),
        "finetuning_scaling_factor": bool(raw.get("finetuning_scaling_factor")),
    }
    for key, present in unsupported.items():
        if present:
            raise ValueError(f"Unsupported SAELens option {key}={raw[key]!r}")
    normalize = raw.get("normalize_activations")
    if isinstance(normalize, bool):  # SAELens before 6.0
        normalize = "expected_average_only_in" if normalize else "none"
    hook_name = get("hook_name", "hook_point")
    hook_layer = get("hook_layer")
    if hook_layer is None and hook_name is not None:
        match = re.match(r"blocks\.(\d+)\.", hook_name)
        hook_layer = int(match.group(1)) if match else None
    ours = FROM_SAELENS_ARCHITECTURE[architecture]
    return SaeConfig(
        architecture=ours,
        d_in=raw["d_in"],
        d_sae=raw["d_sae"],
        k=(raw.get("k") or activation_kwargs.get("k")) if ours == "topk" else None,
        apply_b_dec_to_input=raw.get("apply_b_dec_to_input", True),
        normalize_activations=normalize or "none",
        hook_name=hook_name,
        hook_layer=hook_layer,
        model_name=get("model_name"),
        dtype=str(raw.get("dtype") or "float32").removeprefix("torch."),
        device=str(raw.get("device") or "cpu"),
    )


def _drop_unit_scaling_factor(state: dict[str, torch.Tensor], cfg_path: Path) -> None:
    """Older SAELens files may carry a `scaling_factor` of ones, which changes nothing."""
    factor = state.pop("scaling_factor", None)
    if factor is not None and not bool((factor == 1).all()):
        raise ValueError(f"Unsupported SAELens finetuning scaling factor in {cfg_path.parent}")

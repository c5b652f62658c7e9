from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file, save_file

from neuron_explainer.models.sae_io import load_sae, save_sae
from neuron_explainer.models.sparse_autoencoder import ARCHITECTURES, SaeConfig, SparseAutoencoder

ATOL = 1e-6
# Two implementations sum in different orders: float32 rounding on values of order 1.
INTEROP_ATOL = 1e-5
D_IN, D_SAE, K = 8, 24, 3
SAELENS_NAMES = {"relu": "standard", "topk": "topk", "jumprelu": "jumprelu"}


def make_sae(architecture: str, **kwargs: Any) -> SparseAutoencoder:
    torch.manual_seed(0)
    cfg = SaeConfig(
        architecture,
        D_IN,
        D_SAE,
        k=K if architecture == "topk" else None,
        hook_name="blocks.1.hook_resid_pre",
        hook_layer=1,
        model_name="toy",
        **kwargs,
    )
    sae = SparseAutoencoder(cfg)
    with torch.no_grad():
        for p in sae.parameters():
            p.add_(torch.rand_like(p) * 0.1)
    return sae


def assert_same_weights(a: SparseAutoencoder, b: SparseAutoencoder) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for name in sa:
        assert (sa[name] - sb[name]).abs().max() <= ATOL, name


@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
def test_round_trip_in_saelens_layout(architecture: str, tmp_path: Path) -> None:
    sae = make_sae(architecture)
    save_sae(sae, tmp_path)
    tensors = load_file(str(tmp_path / "sae_weights.safetensors"))
    expected = {"W_enc": (D_IN, D_SAE), "b_enc": (D_SAE,), "W_dec": (D_SAE, D_IN), "b_dec": (D_IN,)}
    if architecture == "jumprelu":
        expected["threshold"] = (D_SAE,)
    assert {n: tuple(t.shape) for n, t in tensors.items()} == expected
    cfg = json.loads((tmp_path / "cfg.json").read_text())
    assert cfg["architecture"] == SAELENS_NAMES[architecture]
    assert (cfg["d_in"], cfg["d_sae"], cfg["dtype"]) == (D_IN, D_SAE, "float32")
    assert cfg["metadata"]["hook_name"] == "blocks.1.hook_resid_pre"
    assert cfg["metadata"]["model_name"] == "toy"
    if architecture == "topk":
        assert cfg["k"] == K and cfg["activation_fn_kwargs"] == {"k": K}
    loaded = load_sae(tmp_path)
    assert loaded.cfg == sae.cfg
    assert_same_weights(loaded, sae)
    x = torch.randn(5, D_IN)
    assert (loaded(x)[1] - sae(x)[1]).abs().max() <= ATOL


def test_load_overrides_dtype(tmp_path: Path) -> None:
    save_sae(make_sae("relu"), tmp_path)
    sae = load_sae(tmp_path, dtype=torch.float64)
    assert sae.dtype == torch.float64 and sae.cfg.dtype == "float64"


def write_saelens_dir(
    directory: Path, cfg: dict[str, Any], tensors: dict[str, torch.Tensor]
) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "cfg.json").write_text(json.dumps(cfg))
    save_file(tensors, str(directory / "sae_weights.safetensors"))


def saelens_tensors(with_threshold: bool = False) -> dict[str, torch.Tensor]:
    tensors = {
        "W_enc": torch.randn(D_IN, D_SAE),
        "b_enc": torch.randn(D_SAE),
        "W_dec": torch.randn(D_SAE, D_IN),
        "b_dec": torch.randn(D_IN),
    }
    if with_threshold:
        tensors["threshold"] = torch.rand(D_SAE)
    return tensors


def test_loads_pre_6_flat_layout(tmp_path: Path) -> None:
    """SAELens before 6.0: flat keys, TopK as activation_fn with kwargs, a unit scaling factor."""
    cfg = {
        "d_in": D_IN,
        "d_sae": D_SAE,
        "activation_fn_str": "topk",
        "activation_fn_kwargs": {"k": K},
        "hook_point": "blocks.3.hook_mlp_out",
        "model_name": "gpt2",
        "normalize_activations": False,
        "dtype": "torch.float32",
        "device": "cuda",
    }
    tensors = saelens_tensors() | {"scaling_factor": torch.ones(D_SAE)}
    write_saelens_dir(tmp_path, cfg, tensors)
    sae = load_sae(tmp_path)
    assert sae.cfg.architecture == "topk" and sae.cfg.k == K
    assert (sae.cfg.hook_name, sae.cfg.hook_layer, sae.cfg.model_name) == (
        "blocks.3.hook_mlp_out",
        3,
        "gpt2",
    )
    assert sae.cfg.device == "cpu" and sae.device == torch.device("cpu")
    assert (sae.W_enc - tensors["W_enc"]).abs().max() <= ATOL


def test_folds_norm_scaling_factor(tmp_path: Path) -> None:
    cfg = {"architecture": "standard", "d_in": D_IN, "d_sae": D_SAE, "dtype": "float32"}
    write_saelens_dir(
        tmp_path, cfg | {"normalize_activations": "expected_average_only_in"}, saelens_tensors()
    )
    with pytest.warns(UserWarning, match="norm_scaling_factor"):
        raw = load_sae(tmp_path)
    factor = 3.0
    folded = load_sae(tmp_path, norm_scaling_factor=factor)
    assert folded.cfg.normalize_activations == "none"
    x = torch.randn(6, D_IN)
    # The folded autoencoder on x does what the raw one does on factor * x, rescaled back.
    assert (folded.encode(x) - raw.encode(factor * x)).abs().max() <= 1e-4
    assert (folded(x)[1] - raw(factor * x)[1] / factor).abs().max() <= 1e-4


@pytest.mark.parametrize(
    ("cfg_changes", "match"),
    [
        ({"architecture": "gated"}, "gated"),
        ({"reshape_activations": "hook_z"}, "reshape_activations"),
        ({"normalize_activations": "layer_norm"}, "normalize_activations"),
    ],
)
def test_unsupported_saelens_files_raise(
    tmp_path: Path, cfg_changes: dict[str, Any], match: str
) -> None:
    cfg = {"architecture": "standard", "d_in": D_IN, "d_sae": D_SAE, "dtype": "float32"}
    write_saelens_dir(tmp_path, cfg | cfg_changes, saelens_tensors())
    with pytest.raises(ValueError, match=match):
        load_sae(tmp_path)


def test_mismatched_or_missing_files_raise(tmp_path: Path) -> None:
    cfg = {"architecture": "jumprelu", "d_in": D_IN, "d_sae": D_SAE, "dtype": "float32"}
    write_saelens_dir(tmp_path / "a", cfg, saelens_tensors(with_threshold=False))
    with pytest.raises(ValueError, match="threshold"):
        load_sae(tmp_path / "a")
    write_saelens_dir(tmp_path / "b", cfg | {"d_sae": D_SAE + 1}, saelens_tensors(True))
    with pytest.raises(ValueError, match="does not match"):
        load_sae(tmp_path / "b")
    with pytest.raises(FileNotFoundError):
        load_sae(tmp_path / "missing")


# ---- interoperability with SAELens itself, when installed --------------------------------------


@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
def test_saelens_loads_ours_and_we_load_theirs(architecture: str, tmp_path: Path) -> None:
    sae_lens = pytest.importorskip("sae_lens")
    ours = make_sae(architecture)
    save_sae(ours, tmp_path / "ours")
    theirs = sae_lens.SAE.load_from_disk(str(tmp_path / "ours"))
    assert theirs.cfg.architecture() == SAELENS_NAMES[architecture]
    assert theirs.cfg.metadata.hook_name == "blocks.1.hook_resid_pre"
    x = torch.randn(7, D_IN)
    with torch.no_grad():
        assert (theirs.encode(x) - ours.encode(x)).abs().max() <= INTEROP_ATOL
        assert (theirs.decode(ours.encode(x)) - ours(x)[1]).abs().max() <= INTEROP_ATOL

    with torch.no_grad():  # and back: a file SAELens writes, with its own random weights
        for p in theirs.parameters():
            p.copy_(torch.randn_like(p).abs() * 0.1 if p.ndim == 1 else torch.randn_like(p))
    theirs.save_model(str(tmp_path / "theirs"))
    loaded = load_sae(tmp_path / "theirs")
    assert loaded.cfg.architecture == architecture and loaded.cfg.k == ours.cfg.k
    with torch.no_grad():
        assert (loaded.encode(x) - theirs.encode(x)).abs().max() <= INTEROP_ATOL
        assert (loaded(x)[1] - theirs.decode(theirs.encode(x))).abs().max() <= INTEROP_ATOL

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from neuron_explainer.models import Transformer, registry
from neuron_explainer.models.loading import load_model
from neuron_explainer.models.tokenizers import TiktokenGpt2Tokenizer
from tests.models.conftest import TINY, make_hf_model, save_hf
from tests.models.tiny import tiny_model

ATOL = 1e-5


def _same_outputs(a: Transformer, b: Transformer) -> bool:
    tokens = torch.randint(0, a.cfg.d_vocab, (2, 10), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        return bool((a(tokens) - b(tokens)).abs().max() <= ATOL)


def test_own_layout_round_trip(tmp_path: Path) -> None:
    for attn_only in (False, True):
        model = tiny_model(attn_only=attn_only)
        directory = tmp_path / f"m{attn_only}"
        model.save_pretrained(str(directory))
        loaded = Transformer.from_pretrained(str(directory))
        assert loaded.cfg == model.cfg
        assert _same_outputs(model, loaded)
        assert json.loads((directory / "config.json").read_text())["format"]


@pytest.mark.parametrize("variant", ["sharded_safetensors", "bin", "sharded_bin"])
def test_hf_layout_variants(tmp_path: Path, tiny_hf, variant: str) -> None:
    hf_model, single_dir = tiny_hf
    kwargs: dict[str, object] = {"max_shard_size": "50KB"}
    if variant == "bin":
        kwargs = {"safe_serialization": False}
    elif variant == "sharded_bin":
        kwargs = {"safe_serialization": False, "max_shard_size": "50KB"}
    try:
        directory = save_hf(hf_model, tmp_path / variant, **kwargs)
    except (TypeError, ValueError) as e:  # newer transformers write safetensors only
        pytest.skip(f"this transformers cannot write {variant}: {e}")
        raise
    files = {p.name for p in directory.iterdir()}
    if variant == "sharded_safetensors":
        assert "model.safetensors.index.json" in files
    reference = Transformer.from_pretrained(str(single_dir))
    assert _same_outputs(reference, Transformer.from_pretrained(str(directory)))


def test_bin_checkpoint_written_by_torch_save(tmp_path: Path, tiny_hf) -> None:
    hf_model, single_dir = tiny_hf
    (tmp_path / "config.json").write_text((single_dir / "config.json").read_text())
    torch.save(hf_model.state_dict(), tmp_path / "pytorch_model.bin")
    reference = Transformer.from_pretrained(str(single_dir))
    assert _same_outputs(reference, Transformer.from_pretrained(str(tmp_path)))


class _Payload:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (print, ("pickle executed",))


def test_pickled_objects_are_refused(tmp_path: Path, tiny_hf) -> None:
    _, single_dir = tiny_hf
    (tmp_path / "config.json").write_text((single_dir / "config.json").read_text())
    torch.save({"wte.weight": _Payload()}, tmp_path / "pytorch_model.bin")
    with pytest.raises(Exception, match=r"(?i)weights.only|unpickl|unsupported"):
        Transformer.from_pretrained(str(tmp_path))


def test_gpt2_vocab_gets_the_gpt2_tokenizer(tiny_hf, tmp_path: Path) -> None:
    _, single_dir = tiny_hf
    assert Transformer.from_pretrained(str(single_dir)).tokenizer is None  # vocab 211, no file
    hf_model = make_hf_model(dict(TINY, vocab_size=50257))
    loaded = Transformer.from_pretrained(str(save_hf(hf_model, tmp_path)))
    assert isinstance(loaded.tokenizer, TiktokenGpt2Tokenizer)


def test_registry_name_missing_says_where_weights_are_expected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(
        FileNotFoundError, match=r"models--openai-community--gpt2.*Nothing is downloaded"
    ):
        load_model("gpt2")


def test_registry_name_found_in_local_hf_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_hf
) -> None:
    hf_model, _ = tiny_hf
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    repo = tmp_path / "hub" / "models--distilbert--distilgpt2"
    save_hf(hf_model, repo / "snapshots" / "abc123")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc123")
    model = load_model("distilgpt2")
    assert model.cfg.n_layers == TINY["n_layer"]
    listed = {e.name: registry.availability(e) for e in registry.all_entries()}
    assert listed["distilgpt2"][0] is True
    assert listed["gpt2-xl"][0] is False


def test_unknown_name_and_bad_directories(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="Did you mean gpt2-large"):
        load_model("gpt2-lrage")
    with pytest.raises(FileNotFoundError, match=r"No config\.json"):
        load_model(str(tmp_path))
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama"}))
    with pytest.raises(ValueError, match="Only GPT-2-family"):
        load_model(str(tmp_path))


def test_missing_weights_and_mismatched_shapes(tmp_path: Path, tiny_hf) -> None:
    _, single_dir = tiny_hf
    raw = json.loads((single_dir / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps(raw))
    with pytest.raises(FileNotFoundError, match="No weights"):
        load_model(str(tmp_path))
    (tmp_path / "model.safetensors").write_bytes((single_dir / "model.safetensors").read_bytes())
    raw["n_embd"] = 128
    (tmp_path / "config.json").write_text(json.dumps(raw))
    with pytest.raises(ValueError, match="does not match its config"):
        load_model(str(tmp_path))


def test_shard_index_cannot_escape_the_directory(tmp_path: Path, tiny_hf) -> None:
    _, single_dir = tiny_hf
    (tmp_path / "config.json").write_text((single_dir / "config.json").read_text())
    index = {"weight_map": {"wte.weight": "../elsewhere.safetensors"}}
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps(index))
    with pytest.raises(ValueError, match="outside"):
        load_model(str(tmp_path))


def test_bundled_default_model_missing_is_explained(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(registry, "BUNDLED_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match="not in this build"):
        load_model(registry.DEFAULT_MODEL)

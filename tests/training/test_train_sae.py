"""Autoencoder training: recovers known sparse features, resumes to the same weights, keeps decoder
rows at unit norm, tracks dead latents, folds the input scaling, and runs end to end through tdb."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from neuron_explainer.cli import main
from neuron_explainer.models.sae_io import load_sae
from neuron_explainer.models.sae_registry import load_model_sae, load_model_saes, sae_entries
from neuron_explainer.models.sparse_autoencoder import ARCHITECTURES, SaeConfig, SparseAutoencoder
from neuron_explainer.training.sae_activations import ShuffleBuffer
from neuron_explainer.training.sae_checkpoints import DeadLatentTracker
from neuron_explainer.training.sae_config import SaeTrainConfig, geometric_median
from neuron_explainer.training.train_sae import (
    SPARSITY_LOSSES,
    lr_at,
    normalize_decoder_rows,
    remove_parallel_gradient,
    sparsity_scale,
    train_sae_on_source,
)
from tests.models.tiny import tiny_model

D_IN, N_FEATURES = 32, 64
BATCH = 512
RECOVERY_COSINE = 0.9  # a true feature counts as found when some decoder row is this close
RECOVERED_FRACTION = 0.9
UNIT_NORM_TOL = 1e-5
PICKLE_MAGICS = (b"\x80", b"PK")  # pickle protocol >= 2, and torch.save's zip archive


class SparseFeatures:
    """Tokens that are sparse non-negative combinations of fixed unit directions: each of
    `N_FEATURES` directions in `D_IN` dimensions is active with probability 3 / N_FEATURES
    (about 3 per token), with a magnitude uniform in [0.5, 1.5)."""

    def __init__(self, seed: int = 0, scale: float = 1.0) -> None:
        g = torch.Generator().manual_seed(seed)
        self.features = F.normalize(torch.randn(N_FEATURES, D_IN, generator=g), dim=-1)
        self.d_in, self.seed, self.scale = D_IN, seed, scale

    def chunk(self, index: int, n_tokens: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + index)
        active = torch.rand(n_tokens, N_FEATURES, generator=g) < 3 / N_FEATURES
        magnitudes = torch.rand(n_tokens, N_FEATURES, generator=g) + 0.5
        return self.scale * (active * magnitudes) @ self.features


def synthetic_cfg(architecture: str, steps: int, **changes: Any) -> SaeTrainConfig:
    sae = SaeConfig(architecture, d_in=D_IN, d_sae=128, k=4 if architecture == "topk" else None)
    cfg = SaeTrainConfig(
        sae=sae,
        site="blocks.0.hook_resid_post",
        total_tokens=steps * BATCH,
        batch_size=BATCH,
        lr=3e-3,
        warmup_steps=20,
        l1_coefficient=0.3,
        l0_coefficient=0.05,
        buffer_tokens=16 * BATCH,
        dead_window_tokens=50 * BATCH,
        checkpoint_interval=1000,
        device="cpu",
        num_threads=1,  # tiny matrices gain nothing from threads, which contend on shared CPUs
    )
    return dataclasses.replace(cfg, **changes)


def recovered_fraction(sae: SparseAutoencoder, features: torch.Tensor) -> float:
    cosines = F.normalize(sae.W_dec, dim=-1) @ features.T  # [d_sae, n_features]
    return float((cosines.max(0).values >= RECOVERY_COSINE).float().mean())


@pytest.mark.parametrize(("architecture", "steps"), [("topk", 400), ("relu", 600)])
def test_training_recovers_the_true_features(architecture: str, steps: int, tmp_path: Path) -> None:
    source = SparseFeatures()
    summary = train_sae_on_source(
        synthetic_cfg(architecture, steps), source, tmp_path, False, False
    )
    assert summary["finished"] and summary["final_explained_variance"] > 0.8
    sae = load_sae(tmp_path / "final")
    assert recovered_fraction(sae, source.features) >= RECOVERED_FRACTION
    norms = sae.W_dec.norm(dim=-1)
    assert torch.allclose(norms, torch.ones_like(norms), atol=UNIT_NORM_TOL)


@pytest.mark.parametrize("architecture", ["topk", "relu", "jumprelu"])
def test_resume_equals_uninterrupted(architecture: str, tmp_path: Path) -> None:
    # Input scaling, a geometric-median b_dec, several buffers, checkpoints off the stopping
    # step, and (for TopK) dead latents, with a dead window of one batch, for AuxK to work on.
    sae_cfg = SaeConfig(
        architecture,
        d_in=D_IN,
        d_sae=256,
        k=4 if architecture == "topk" else None,
        normalize_activations="expected_average_only_in",
    )
    cfg = synthetic_cfg(architecture, 40, sae=sae_cfg, buffer_tokens=6 * BATCH)
    cfg = dataclasses.replace(cfg, checkpoint_interval=7, dead_window_tokens=BATCH)
    source = SparseFeatures(scale=10.0)
    whole = train_sae_on_source(cfg, source, tmp_path / "whole", resume=False, progress=False)
    first = train_sae_on_source(cfg, source, tmp_path / "split", False, False, stop_at_step=17)
    assert not first["finished"] and not (tmp_path / "split" / "final").exists()
    split = train_sae_on_source(cfg, source, tmp_path / "split", resume=True, progress=False)
    assert whole["finished"] and split["finished"] and split["steps"] == 40
    assert split["norm_scaling_factor"] == whole["norm_scaling_factor"]
    for name in ("final/sae_weights.safetensors", "checkpoint/dead.safetensors"):
        a, b = load_file(tmp_path / "whole" / name), load_file(tmp_path / "split" / name)
        assert a.keys() == b.keys()
        for key in a:
            assert torch.equal(a[key], b[key]), (name, key)
    for path in (tmp_path / "split" / "checkpoint").iterdir():
        assert path.suffix in (".json", ".safetensors")
        assert not path.read_bytes().startswith(PICKLE_MAGICS)
    # The last log's dead fraction is the checkpoint's dead counters read against the window.
    counts = load_file(tmp_path / "whole" / "checkpoint" / "dead.safetensors")
    dead = (counts["tokens_since_fired"] >= cfg.dead_window_tokens).float().mean()
    assert whole["final_dead_fraction"] == pytest.approx(float(dead))
    if architecture == "topk":
        assert whole["final_dead_fraction"] > 0


def test_resume_refuses_another_config(tmp_path: Path) -> None:
    cfg = synthetic_cfg("topk", 4)
    train_sae_on_source(cfg, SparseFeatures(), tmp_path, progress=False, stop_at_step=2)
    with pytest.raises(ValueError, match="another config"):
        train_sae_on_source(dataclasses.replace(cfg, lr=1e-3), SparseFeatures(), tmp_path)


def test_input_scaling_is_folded_into_the_final_weights(tmp_path: Path) -> None:
    sae_cfg = SaeConfig("topk", D_IN, 64, k=4, normalize_activations="expected_average_only_in")
    cfg = synthetic_cfg("topk", 20, sae=sae_cfg)
    source = SparseFeatures(scale=7.0)
    summary = train_sae_on_source(cfg, source, tmp_path, resume=False, progress=False)
    first_buffer = ShuffleBuffer(source, BATCH, cfg.buffer_tokens, cfg.seed).buffer(0)
    factor = math.sqrt(D_IN) / float(first_buffer.norm(dim=-1).mean())
    assert summary["norm_scaling_factor"] == pytest.approx(factor, rel=1e-5)

    trained = SparseAutoencoder(sae_cfg)  # the unfolded weights, trained on factor * x
    trained.load_state_dict(load_file(tmp_path / "checkpoint" / "sae.safetensors"))
    final = load_sae(tmp_path / "final")
    assert final.cfg.normalize_activations == "none" and final.cfg.hook_name == cfg.site
    x = source.chunk(99, 256)
    with torch.no_grad():
        expected = trained(x * factor)[1] / factor
        torch.testing.assert_close(final(x)[1], expected, rtol=1e-4, atol=1e-5)


def test_decoder_constraint_keeps_rows_on_the_unit_sphere() -> None:
    W_dec = torch.nn.Parameter(F.normalize(torch.randn(8, 5), dim=-1))
    W_dec.grad = torch.randn(8, 5)
    remove_parallel_gradient(W_dec)
    assert (W_dec.grad * W_dec).sum(-1).abs().max() < UNIT_NORM_TOL
    with torch.no_grad():
        W_dec.mul_(torch.arange(1.0, 9.0)[:, None])
    normalize_decoder_rows(W_dec)
    assert torch.allclose(W_dec.norm(dim=-1), torch.ones(8), atol=UNIT_NORM_TOL)


def test_dead_latent_tracker_counts_tokens_since_firing() -> None:
    tracker = DeadLatentTracker(d_sae=3, window=10, device=torch.device("cpu"))
    fires_first = torch.tensor([True, True, False])
    fires_never = torch.tensor([True, False, False])
    tracker.update(fires_first, 4)  # latent 2 has not fired in 4 tokens
    assert tracker.tokens_since_fired.tolist() == [0, 0, 4]
    tracker.update(fires_never, 4)
    assert tracker.tokens_since_fired.tolist() == [0, 4, 8] and not tracker.dead().any()
    tracker.update(fires_never, 4)
    assert tracker.tokens_since_fired.tolist() == [0, 8, 12]
    assert tracker.dead().tolist() == [False, False, True]


def test_geometric_median_ignores_an_outlier() -> None:
    points = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [100.0, 100.0]])
    # On the diagonal (t, t) by symmetry; the sum of distances is stationary where
    # 2(2t - 1) / sqrt(t^2 + (1 - t)^2) = sqrt(2), that is t = (1 + 1/sqrt(3)) / 2.
    t = (1 + 1 / math.sqrt(3)) / 2
    torch.testing.assert_close(geometric_median(points), torch.tensor([t, t]), atol=1e-4, rtol=0)
    on_a_line = torch.tensor([[0.0], [1.0], [10.0]])  # in one dimension, the median
    torch.testing.assert_close(geometric_median(on_a_line), torch.tensor([1.0]), atol=1e-3, rtol=0)


def test_shuffle_buffer_is_a_seeded_permutation_of_each_chunk() -> None:
    source = SparseFeatures()
    buffer = ShuffleBuffer(source, batch_size=4, buffer_tokens=14, seed=5)  # 3 batches a buffer
    batches = [buffer.batch(step) for step in range(6)]
    assert all(b.shape == (4, D_IN) for b in batches)
    chunk = source.chunk(1, 12)
    rows = torch.cat(batches[3:])
    assert sorted(map(tuple, rows.tolist())) == sorted(map(tuple, chunk.tolist()))
    again = ShuffleBuffer(source, batch_size=4, buffer_tokens=14, seed=5)
    assert torch.equal(again.batch(4), batches[4])  # random access, as a resumed run needs


def test_schedules() -> None:
    cfg = synthetic_cfg("relu", 100, warmup_steps=10, lr_decay_fraction=0.2)
    assert lr_at(0, cfg) == pytest.approx(cfg.lr / 10) and lr_at(50, cfg) == cfg.lr
    assert lr_at(90, cfg) == pytest.approx(cfg.lr / 2) and lr_at(99, cfg) > 0
    assert sparsity_scale(0, cfg) == pytest.approx(1 / 5) and sparsity_scale(4, cfg) == 1.0


def test_config_rejects_bad_values() -> None:
    sae = SaeConfig("topk", d_in=D_IN, d_sae=64, k=4)
    with pytest.raises(ValueError, match="Cannot train"):
        SaeTrainConfig(sae=sae, site="blocks.0.attn.hook_q")
    with pytest.raises(ValueError, match="buffer_tokens"):
        SaeTrainConfig(sae=sae, site="blocks.0.hook_resid_post", batch_size=64, buffer_tokens=32)
    with pytest.raises(ValueError, match="b_dec_init"):
        SaeTrainConfig(sae=sae, site="blocks.0.hook_resid_post", b_dec_init="median")


def test_train_and_eval_through_tdb_on_a_tiny_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model_dir, data = tmp_path / "model", tmp_path / "data"
    model = tiny_model()
    model.save_pretrained(str(model_dir))
    (data / "tokens").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split in ("train", "validation"):
        tokens = rng.integers(0, model.cfg.d_vocab, size=5_000).astype("<u2")
        tokens.tofile(data / "tokens" / f"{split}.u16")
    out, site = tmp_path / "sae", "blocks.1.mlp.hook_post"
    train = ["train-sae", "--model", str(model_dir), "--site", site, "--architecture", "topk"]
    train += ["--d-sae", "128", "--k", "8", "--data-dir", str(data), "--total-tokens", "3072"]
    train += ["--batch-size", "256", "--buffer-tokens", "1024", "--out", str(out)]
    train += ["--normalize-activations", "expected_average_only_in", "--threads", "1"]
    assert main(train) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["finished"] and summary["steps"] == 12 and summary["tokens"] == 3072

    sae = load_sae(out / "final")
    assert (sae.cfg.hook_name, sae.cfg.hook_layer, sae.cfg.d_in) == (site, 1, model.cfg.d_mlp)
    assert sae.cfg.model_name == str(model_dir)
    report = tmp_path / "eval.json"
    evaluate = ["eval-sae", str(out / "final"), "--model", str(model_dir), "--data-dir", str(data)]
    assert main([*evaluate, "--tokens", "480", "--out", str(report)]) == 0
    result = json.loads(report.read_text())
    assert result["site"] == site and result["n_tokens"] == 480
    assert 0 < result["l0"] <= 8 and len(result["feature_density"]) == 128
    assert result["ce_loss_score"] is not None and result["kl_div_score"] is not None

    bundle = ["bundle-sae", str(out), str(model_dir), "--eval-json", str(report)]
    assert main([*bundle, "--dtype", "float16"]) == 0
    (entry,) = sae_entries(model_dir)
    assert (entry.site, entry.architecture, entry.d_sae, entry.k) == (site, "topk", 128, 8)
    assert entry.card["evaluation"]["n_tokens"] == 480 and entry.card["training"]["finished"]
    bundled = load_model_saes(model_dir)  # stored in float16, loaded in float32
    assert bundled[site].W_enc.dtype == torch.float32
    torch.testing.assert_close(bundled[site].W_enc, sae.W_enc.half().float())
    with pytest.raises(KeyError, match=f"ships no autoencoder at 'blocks.0.mlp.hook_post'.*{site}"):
        load_model_sae(model_dir, "blocks.0.mlp.hook_post")


def test_every_architecture_says_what_the_project_asks_of_it() -> None:
    """An architecture registered in `ARCHITECTURES` names a sparsity loss the trainer has, and
    only architectures with a bound on active latents take the sparse training step."""
    for name, architecture in ARCHITECTURES.items():
        assert architecture.sparsity in SPARSITY_LOSSES, name
        cfg = SaeConfig(name, 8, 16, k=4 if name == "topk" else None)
        activation = architecture(cfg)
        assert activation.sparse_training <= (activation.max_active is not None), name
        row = activation(torch.randn(3, 16))
        if activation.max_active is not None:
            assert int((row != 0).sum(-1).max()) <= activation.max_active

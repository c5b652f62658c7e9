"""Autoencoder metrics against numbers worked out by hand, and the CE / KL scores at their ends:
1 for a perfect autoencoder, 0 for one that outputs zeros (the same as zero ablation)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from neuron_explainer.models.sparse_autoencoder import SaeConfig, SparseAutoencoder
from neuron_explainer.training.sae_metrics import (
    ExplainedVariance,
    ce_loss_score,
    ce_per_token,
    density_metrics,
    evaluate_sae,
    kl_div_score,
    kl_per_token,
    l0,
    mse,
)
from tests.models.tiny import tiny_model

TOL = 1e-6  # float64 arithmetic on small exact inputs
SCORE_TOL = 1e-9  # scores of autoencoders whose output is exactly x or exactly 0
SITE = "blocks.0.mlp.hook_post"
N_WINDOWS = 10


def test_l0_counts_non_zero_latents_per_token() -> None:
    latents = torch.tensor([[0.0, 1.0, 0.0, 2.0], [0.0, 0.0, 0.0, 0.0], [3.0, 0.0, -1.0, 0.0]])
    assert l0(latents) == pytest.approx((2 + 0 + 2) / 3, abs=TOL)


def test_mse_sums_over_dimensions_and_averages_over_tokens() -> None:
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    x_hat = torch.tensor([[1.0, 0.0], [0.0, 4.0]])
    assert mse(x_hat, x) == pytest.approx((4 + 9) / 2, abs=TOL)


# x has mean (2, 1); E|x|^2 = (0 + 4 + 16 + 20) / 4 = 10, so the total variance is 10 - 5 = 5.
# The reconstruction misses by 1 on the first and last tokens: mse = 2 / 4 = 0.5.
EV_X = torch.tensor([[0.0, 0.0], [2.0, 0.0], [4.0, 0.0], [2.0, 4.0]])
EV_X_HAT = torch.tensor([[1.0, 0.0], [2.0, 0.0], [4.0, 0.0], [2.0, 3.0]])


def test_explained_variance_is_one_r_squared_over_all_tokens() -> None:
    whole = ExplainedVariance()
    whole.add(EV_X_HAT, EV_X)
    assert whole.compute() == pytest.approx(1 - 0.5 / 5, abs=TOL)
    # Streamed in uneven batches, the same number: the variance is not per batch.
    streamed = ExplainedVariance()
    streamed.add(EV_X_HAT[:1], EV_X[:1])
    streamed.add(EV_X_HAT[1:], EV_X[1:])
    assert streamed.compute() == pytest.approx(1 - 0.5 / 5, abs=TOL)


def test_legacy_explained_variance_averages_per_token_ratios() -> None:
    # Squared distances to the batch mean: 5, 1, 5, 9; squared errors: 1, 0, 0, 1.
    ev = ExplainedVariance()
    ev.add(EV_X_HAT, EV_X)
    expected = ((1 - 1 / 5) + 1 + 1 + (1 - 1 / 9)) / 4
    assert ev.compute_legacy() == pytest.approx(expected, abs=TOL)


def test_explained_variance_of_constant_activations() -> None:
    x = torch.ones(3, 2)
    exact, off = ExplainedVariance(), ExplainedVariance()
    exact.add(x, x)
    off.add(x + 1, x)
    assert exact.compute() == 1.0 and off.compute() == 0.0


def test_cross_entropy_and_kl_by_hand() -> None:
    # Vocabulary of two. Position 0 gives p = (3/4, 1/4) and the next token is 0; position 1
    # gives (1/2, 1/2) and the next token is 1; the last position predicts nothing.
    logits = torch.tensor([[[math.log(3), 0.0], [0.0, 0.0], [5.0, -5.0]]])
    tokens = torch.tensor([[1, 0, 1]])
    expected_ce = torch.tensor([[-math.log(3 / 4), math.log(2)]], dtype=torch.float64)
    torch.testing.assert_close(ce_per_token(logits, tokens), expected_ce, atol=TOL, rtol=0)
    # KL((3/4, 1/4) || (1/2, 1/2)) = 3/4 ln(3/2) + 1/4 ln(1/2)
    kl = kl_per_token(logits[0, :2], torch.zeros(2, 2))
    expected_kl = [0.75 * math.log(1.5) + 0.25 * math.log(0.5), 0.0]
    assert kl.tolist() == pytest.approx(expected_kl, abs=TOL)


def test_scores_by_hand() -> None:
    assert ce_loss_score(2.0, 2.5, 3.0) == pytest.approx(0.5, abs=TOL)
    assert ce_loss_score(2.0, 2.0, 3.0) == 1.0 and ce_loss_score(2.0, 3.0, 3.0) == 0.0
    assert kl_div_score(0.1, 0.4) == pytest.approx(0.75, abs=TOL)
    assert ce_loss_score(2.0, 2.5, 2.0) is None and kl_div_score(0.1, 0.0) is None


def test_density_dead_dense_and_histogram_by_hand() -> None:
    # Over 100 tokens: densities 0, 0.05, 0.5, 0.01, 0.1. Dead: the first; dense (> 0.1): 0.5 only.
    counts = torch.tensor([0.0, 5.0, 50.0, 1.0, 10.0])
    result = density_metrics(counts, 100, bins=10)
    assert result["dead_fraction"] == pytest.approx(1 / 5) and result["n_dead"] == 1
    assert result["dense_fraction"] == pytest.approx(1 / 5) and result["n_dense"] == 1
    assert result["feature_density"] == pytest.approx([0.0, 0.05, 0.5, 0.01, 0.1])
    # log10: -10 (dead), -1.30, -0.30, -2.00, -1.00 in unit bins over [-10, 0].
    histogram = result["log10_density_histogram"]
    assert histogram["bin_edges"] == pytest.approx([float(e) for e in range(-10, 1)])
    assert histogram["counts"] == [1, 0, 0, 0, 0, 0, 0, 0, 2, 2]


# ---- on a model ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def token_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sae_metrics") / "validation.u16"
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, tiny_model().cfg.d_vocab, size=N_WINDOWS * 48 + 7)
    tokens.astype("<u2").tofile(path)
    return path


def identity_sae(d_in: int) -> SparseAutoencoder:
    """ReLU autoencoder with latents (relu(x), relu(-x)) and x_hat = relu(x) - relu(-x) = x."""
    sae = SparseAutoencoder(SaeConfig("relu", d_in=d_in, d_sae=2 * d_in))
    eye = torch.eye(d_in)
    with torch.no_grad():
        sae.W_enc.copy_(torch.cat([eye, -eye], dim=1))
        sae.W_dec.copy_(torch.cat([eye, -eye], dim=0))
        sae.b_enc.zero_()
        sae.b_dec.zero_()
    return sae


def test_a_perfect_autoencoder_scores_one(token_file: Path) -> None:
    model = tiny_model()
    n_tokens = N_WINDOWS * model.cfg.n_ctx
    result = evaluate_sae(model, identity_sae(model.cfg.d_mlp), SITE, token_file, n_tokens)
    json.dumps(result, allow_nan=False)  # JSON-ready
    assert result["n_tokens"] == n_tokens and result["ce_tokens"] == n_tokens
    for key in ("ce_loss_score", "kl_div_score", "explained_variance"):
        assert result[key] == pytest.approx(1.0, abs=SCORE_TOL), key
    assert result["mse"] == pytest.approx(0.0, abs=SCORE_TOL)
    assert result["kl_div_with_sae"] == pytest.approx(0.0, abs=SCORE_TOL)

    # The clean loss, computed directly; l0 is the count of non-zero activations.
    ids = torch.from_numpy(np.fromfile(token_file, dtype="<u2")[:n_tokens].astype(np.int64))
    windows = ids.view(N_WINDOWS, model.cfg.n_ctx)
    with torch.no_grad():
        logits, cache = model.run_with_cache(windows, names_filter=SITE)
    clean = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), windows[:, 1:].flatten())
    assert result["ce_loss_without_sae"] == pytest.approx(float(clean), abs=1e-5)
    assert result["l0"] == pytest.approx(float((cache[SITE] != 0).sum(-1).double().mean()))
    # Exactly one of relu(x), relu(-x) fires where x != 0 (the tanh GELU does give exact zeros).
    density = torch.tensor(result["feature_density"], dtype=torch.float64)
    nonzero = (cache[SITE] != 0).reshape(-1, model.cfg.d_mlp).double().mean(0)
    torch.testing.assert_close(density[: model.cfg.d_mlp] + density[model.cfg.d_mlp :], nonzero)


def test_an_autoencoder_that_outputs_zeros_scores_zero(token_file: Path) -> None:
    model = tiny_model()
    sae = identity_sae(model.cfg.d_mlp)
    with torch.no_grad():
        sae.W_dec.zero_()
    result = evaluate_sae(model, sae, SITE, token_file, 200, windows_per_forward=3)
    assert result["n_tokens"] == 5 * model.cfg.n_ctx  # rounded up to whole windows
    assert result["ce_loss_score"] == pytest.approx(0.0, abs=SCORE_TOL)
    assert result["kl_div_score"] == pytest.approx(0.0, abs=SCORE_TOL)
    assert result["ce_loss_with_sae"] == pytest.approx(result["ce_loss_with_ablation"], abs=1e-9)


def test_ce_budget_and_bad_inputs(token_file: Path) -> None:
    model = tiny_model()
    sae = identity_sae(model.cfg.d_mlp)
    result = evaluate_sae(model, sae, SITE, token_file, 96, ce_tokens=0)
    assert result["ce_tokens"] == 0 and result["ce_loss_score"] is None
    assert result["kl_div_with_sae"] is None and result["l0"] > 0
    with pytest.raises(ValueError, match="does not match"):
        evaluate_sae(model, sae, "blocks.0.hook_resid_post", token_file, 96)
    with pytest.raises(ValueError, match="fewer than"):
        evaluate_sae(model, sae, SITE, token_file, 10_000)
    sae.cfg = sae.cfg.replace(normalize_activations="expected_average_only_in")
    with pytest.raises(ValueError, match="Fold"):
        evaluate_sae(model, sae, SITE, token_file, 96)

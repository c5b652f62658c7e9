"""The four metrics of every family against brute force: write vectors materialised, gradients by
autograd through the real LayerNorm, total effects by finite differences."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from torch import Tensor

from neuron_explainer.activations.attribution import compute_metrics
from neuron_explainer.activations.direction import LogitDifference, final_residual_gradient
from neuron_explainer.activations.forward import GradientPass
from neuron_explainer.activations.metrics import SiteMetrics
from neuron_explainer.models import Transformer
from neuron_explainer.models.sae_splice import spliced_saes
from neuron_explainer.models.weight_processing import process_weights
from tests.activations.helpers import (
    DISTRACTOR,
    PROMPT,
    TARGET,
    cache_of,
    clean_final_scale,
    final_gradient_by_autograd,
    logit_diff,
    model64,
    run_edited,
    scale_at,
    with_saes,
)

LATENT_SUFFIX = ".hook_sae_acts_post"  # SAELens's name of an autoencoder's latents

# float64 throughout: identities computed in another order agree to this.
EXACT_ATOL = 1e-9
# Central differences with step EPS are exact up to O(EPS^2) (and rounding ~1e-16 / EPS).
EPS = 1e-5
FD_ATOL = 1e-7
N_SAMPLED = 5  # nodes per site checked by finite differences, besides the largest
POSITION = len(PROMPT) - 1

Run = tuple[Transformer, Tensor, dict[str, SiteMetrics], GradientPass]


@pytest.fixture(scope="module")
def run() -> Iterator[Run]:
    model, tokens = model64(), torch.tensor([PROMPT])
    with with_saes(model):
        objective = LogitDifference((TARGET,), (DISTRACTOR,), POSITION)
        passed, metrics = compute_metrics(model, tokens, objective)
        yield model, tokens, {m.site.site: m for m in metrics}, passed


def close(actual: Tensor, expected: Tensor, atol: float = EXACT_ATOL) -> bool:
    return bool(((actual - expected).abs() <= atol).all())


def test_every_family_and_site_is_present(run: Run) -> None:
    model, tokens, metrics, passed = run
    families = {m.site.family for m in metrics.values()}
    assert families == {"embedding", "neuron", "head", "latent"}
    assert sum(m.site.family == "latent" for m in metrics.values()) == 6
    assert close(passed.objective, logit_diff(model(tokens), POSITION))


@pytest.mark.parametrize("fold", [False, True])
def test_final_gradient_matches_autograd_through_layer_norm(fold: bool) -> None:
    model = model64()
    if fold:  # LayerNorm without its affine part: the gradient is the centred direction / s
        model = process_weights(model, center_writing_weights=False, center_unembed=False)
    tokens = torch.tensor([PROMPT])
    expected = final_gradient_by_autograd(model, tokens, POSITION)
    scale = clean_final_scale(model, tokens)[:, POSITION, 0]
    direction = model.W_U[:, TARGET] - model.W_U[:, DISTRACTOR]
    actual = final_residual_gradient(model, direction.detach(), scale)[0]
    assert close(actual, expected)
    assert abs(float(actual.sum())) <= EXACT_ATOL  # LayerNorm centres: no gradient along 1


def write_vectors(model: Transformer, tokens: Tensor, metrics: SiteMetrics) -> Tensor | None:
    """Every node's write vector, materialised: [*node_layout, d_model]."""
    site = metrics.site
    if site.family == "embedding":
        return model.W_E[tokens[0]].detach()
    if site.family == "neuron":
        post = cache_of(model, tokens, [site.site])[site.site][0]
        return post[:, :, None] * model.blocks[site.layer].mlp.W_out.detach()[None]
    if site.family == "head":
        v_name = site.site.replace("hook_pattern", "hook_v")
        cache = cache_of(model, tokens, [site.site, v_name])
        pattern, v = cache[site.site][0], cache[v_name][0]  # [h, q, k], [k, h, e]
        W_O = model.blocks[site.layer].attn.W_O.detach()
        vo = torch.einsum("khe,hed->hkd", v, W_O)
        return pattern[..., None] * vo[:, None, :, :]
    splice_site = site.site.removesuffix(LATENT_SUFFIX)
    if splice_site.endswith("mlp.hook_pre"):
        return None
    sae = spliced_saes(model)[splice_site]
    with torch.no_grad():  # decoder images of the unit latents, without the decoder bias
        W = sae.decode(torch.eye(sae.cfg.d_sae, dtype=model.dtype)) - sae.decode(
            torch.zeros(1, sae.cfg.d_sae, dtype=model.dtype)
        )
        if splice_site.endswith("mlp.hook_post"):
            W = W @ model.blocks[site.layer].mlp.W_out
    acts = cache_of(model, tokens, [site.site])[site.site][0]
    return acts[:, :, None] * W[None]


def test_write_magnitude_and_direct_effect_against_materialised_writes(run: Run) -> None:
    model, tokens, metrics, _ = run
    g = final_gradient_by_autograd(model, tokens, POSITION)
    for name, m in metrics.items():
        writes = write_vectors(model, tokens, m)
        if writes is None:  # latents of MLP pre-activations write through the nonlinearity
            assert m.write_magnitude.isnan().all() and m.direct_effect.isnan().all(), name
            continue
        direct = writes @ g
        token_axis = 1 if m.site.family == "head" else 0
        at_read = torch.zeros_like(direct, dtype=torch.bool)
        at_read.select(token_axis, POSITION).fill_(True)
        assert close(m.write_magnitude[0], writes.norm(dim=-1)), name
        assert close(m.direct_effect[0], torch.where(at_read, direct, 0.0)), name
        assert bool((m.direct_effect[0][~at_read] == 0).all()), name


def test_latent_write_vectors_are_what_zeroing_the_latent_removes(run: Run) -> None:
    model, tokens, metrics, _ = run
    for splice_site in spliced_saes(model):
        if splice_site.endswith("mlp.hook_pre"):
            continue
        m = metrics[splice_site + LATENT_SUFFIX]
        # The residual-stream delta the site feeds: the MLP output for neuron-space sites.
        layer = m.site.layer
        out_site = (
            f"blocks.{layer}.hook_mlp_out"
            if splice_site.endswith("mlp.hook_post")
            else splice_site + ".hook_sae_output"
        )
        acts = m.activation[0, POSITION]
        for latent in acts.topk(2).indices.tolist():
            clean = cache_of(model, tokens, [out_site])[out_site][0, POSITION]
            zeroed = {}

            def keep(x: Tensor, hook: object, store: dict[str, Tensor] = zeroed) -> None:
                store["out"] = x[0, POSITION].detach()

            def zero(x: Tensor, hook: object, j: int = latent) -> Tensor:
                x = x.clone()
                x[0, POSITION, j] = 0.0
                return x

            with torch.no_grad():
                model.run_with_hooks(tokens, fwd_hooks=[(m.site.site, zero), (out_site, keep)])
            write = clean - zeroed["out"]
            assert abs(float(write.norm()) - float(m.write_magnitude[0, POSITION, latent])) <= (
                EXACT_ATOL
            )


def sampled_nodes(m: SiteMetrics, count: int) -> list[tuple[int, ...]]:
    """The node with the largest |total effect| and `count` random valid nodes."""
    flat = torch.where(m.valid.flatten(), m.total_effect[0].flatten().abs(), -1.0)
    generator = torch.Generator().manual_seed(0)
    valid = m.valid.flatten().nonzero()[:, 0]
    picks = valid[torch.randperm(valid.numel(), generator=generator)[:count]].tolist()
    shape = m.valid.shape
    return [
        tuple(int(i) for i in torch.unravel_index(torch.tensor(f), shape))
        for f in [int(flat.argmax()), *picks]
    ]


def test_total_effect_is_the_first_order_change_under_scaling(run: Run) -> None:
    model, tokens, metrics, _ = run
    scale = clean_final_scale(model, tokens)
    for name, m in metrics.items():
        for index in sampled_nodes(m, N_SAMPLED):
            # Embedding nodes scale the token's embedding vector; other nodes one activation.
            where = (index[0], slice(None)) if m.site.family == "embedding" else index
            up = run_edited(model, tokens, name, scale_at(where, 1 + EPS), scale)
            down = run_edited(model, tokens, name, scale_at(where, 1 - EPS), scale)
            finite_difference = (up - down) / (2 * EPS)
            estimate = float(m.total_effect[(0, *index)])
            assert abs(estimate - finite_difference) <= FD_ATOL, (name, index)


def test_last_layer_writes_only_directly() -> None:
    """Nodes whose write reaches the logits only directly have total effect = direct effect."""
    for attn_only in (False, True):
        model, tokens = model64(attn_only=attn_only), torch.tensor([PROMPT])
        objective = LogitDifference((TARGET,), (DISTRACTOR,), POSITION)
        # The last layer's neurons, or its heads in an attention-only model.
        family = "head" if attn_only else "neuron"
        _, metrics = compute_metrics(model, tokens, objective, [family])
        last = metrics[-1]
        assert last.site.layer == 1 and last.site.family == family
        if attn_only:
            total, direct = last.total_effect[0, :, POSITION], last.direct_effect[0, :, POSITION]
        else:
            total, direct = last.total_effect[0, POSITION], last.direct_effect[0, POSITION]
        assert close(total, direct)
        assert float(direct.abs().max()) > 1e-3


def test_batch_rows_are_independent_runs() -> None:
    model = model64()
    other = [9, 3, 77, 42, 1, 18, 60]
    objective = LogitDifference((TARGET,), (DISTRACTOR,), POSITION)
    with with_saes(model):
        _, both = compute_metrics(model, torch.tensor([PROMPT, other]), objective)
        for row, prompt in enumerate([PROMPT, other]):
            _, alone = compute_metrics(model, torch.tensor([prompt]), objective)
            for b, a in zip(both, alone, strict=True):
                for metric in ("activation", "write_magnitude", "direct_effect", "total_effect"):
                    x, y = b.get(metric)[row], a.get(metric)[0]
                    assert close(x.nan_to_num(), y.nan_to_num()), (b.site, metric)

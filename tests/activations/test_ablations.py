"""Each ablation target and value against a hand-written forward hook."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import torch
from torch import Tensor

from neuron_explainer.activations.ablations import Ablation, ablation_hooks, resolve_ablations
from neuron_explainer.models import HookPoint, Transformer
from tests.activations.helpers import PROMPT, cache_of, model64, with_saes

EXACT_ATOL = 1e-10
SOURCE = [9, 3, 77, 42, 1, 18, 60]
LATENTS = "blocks.0.hook_attn_out.hook_sae_acts_post"
POST, Z, PATTERN = "blocks.0.mlp.hook_post", "blocks.1.attn.hook_z", "blocks.0.attn.hook_pattern"
Edit = Callable[[Tensor, Tensor, Tensor], None]  # (row, clean row, source row), in place


@pytest.fixture(scope="module")
def model() -> Iterator[Transformer]:
    model = model64()
    with with_saes(model, ["blocks.0.hook_attn_out"]):
        yield model


def causal_mean(pattern: Tensor) -> Tensor:  # [head, q, k] -> [head]
    causal = torch.ones(pattern.shape[1:], dtype=torch.bool).tril()
    return (pattern * causal).sum((1, 2)) / causal.sum()


CASES: list[tuple[Ablation, str, Edit]] = [
    (Ablation.neuron(0, 3, 5), POST, lambda x, c, s: x[3, 5].fill_(0.0)),
    (Ablation.neuron(0, None, 5, "constant", 2.5), POST, lambda x, c, s: x[:, 5].fill_(2.5)),
    (Ablation.neuron(0, 3, 5, "mean"), POST, lambda x, c, s: x[3, 5].copy_(c[:, 5].mean())),
    (Ablation.neuron(0, 3, 5, "source"), POST, lambda x, c, s: x[3, 5].copy_(s[3, 5])),
    (Ablation.layer(0, "mlp", 4), POST, lambda x, c, s: x[4].fill_(0.0)),
    (Ablation.head(1, 2, 6), Z, lambda x, c, s: x[6, 2].fill_(0.0)),
    (Ablation.head(1, 2, None, "mean"), Z, lambda x, c, s: x[:, 2].copy_(c[:, 2].mean(0))),
    (Ablation.layer(1, "attn"), Z, lambda x, c, s: x.fill_(0.0)),
    (Ablation.head_pair(0, 1, 5, 2), PATTERN, lambda x, c, s: x[1, 5, 2].fill_(0.0)),
    (
        Ablation.head_pair(0, 1, 5, 2, "mean"),
        PATTERN,
        lambda x, c, s: x[1, 5, 2].copy_(causal_mean(c)[1]),
    ),
    (
        Ablation.head_pair(0, 1, 5, 2, "source"),
        PATTERN,
        lambda x, c, s: x[1, 5, 2].copy_(s[1, 5, 2]),
    ),
    (Ablation.embedding(2), "hook_embed", lambda x, c, s: x[2].fill_(0.0)),
    (
        Ablation.latent("blocks.0.hook_attn_out", 6, 7, "constant", 3.0),
        LATENTS,
        lambda x, c, s: x[6, 7].fill_(3.0),
    ),
    (
        Ablation.latent("blocks.0.hook_attn_out", None, 7, "mean"),
        LATENTS,
        lambda x, c, s: x[:, 7].copy_(c[:, 7].mean()),
    ),
]


@pytest.mark.parametrize("ablation, site, edit", CASES, ids=lambda c: getattr(c, "site", None))
def test_ablation_equals_a_hand_written_hook(
    model: Transformer, ablation: Ablation, site: str, edit: Edit
) -> None:
    tokens, source = torch.tensor(PROMPT), torch.tensor(SOURCE)
    clean = cache_of(model, tokens[None], [site])[site][0]
    source_act = cache_of(model, source[None], [site])[site][0]

    def by_hand(x: Tensor, hook: HookPoint) -> Tensor:
        x = x.clone()
        edit(x[0], clean, source_act)
        return x

    resolved = resolve_ablations(model, tokens, [ablation], source_tokens=source)
    with torch.no_grad():
        expected = model.run_with_hooks(tokens[None], fwd_hooks=[(site, by_hand)])
        actual = model.run_with_hooks(tokens[None], fwd_hooks=ablation_hooks([resolved]))
        clean_logits = model(tokens[None])
    assert (actual - expected).abs().max() <= EXACT_ATOL
    assert (actual - clean_logits).abs().max() > 1e-4  # the ablation does something
    assert not model.hook_points.any_attached()


def test_collated_means_broadcast_over_tokens(model: Transformer) -> None:
    tokens = torch.tensor(PROMPT)
    means = {POST: torch.linspace(-1, 1, model.cfg.d_mlp, dtype=torch.float64)}
    ablation = Ablation.neuron(0, None, 5, "mean")
    (resolved,) = resolve_ablations(model, tokens, [ablation], means=means)
    assert bool((resolved.value[:, 5] == means[POST][5]).all())
    assert bool(resolved.mask[:, 5].all()) and int(resolved.mask.sum()) == len(PROMPT)


def test_rows_get_their_own_ablations(model: Transformer) -> None:
    tokens = torch.tensor(PROMPT)
    resolved = resolve_ablations(model, tokens, [Ablation.layer(0, "mlp")])
    with torch.no_grad():
        both = model.run_with_hooks(
            tokens[None].expand(2, -1), fwd_hooks=ablation_hooks([resolved, []])
        )
        ablated = model.run_with_hooks(tokens[None], fwd_hooks=ablation_hooks([resolved]))
        clean = model(tokens[None])
    assert (both[0] - ablated[0]).abs().max() <= EXACT_ATOL
    assert (both[1] - clean[0]).abs().max() <= EXACT_ATOL


def test_bad_ablations_raise(model: Transformer) -> None:
    tokens = torch.tensor(PROMPT)
    with pytest.raises(ValueError, match="token 40 not in"):
        resolve_ablations(model, tokens, [Ablation.neuron(0, 40, 1)])
    with pytest.raises(ValueError, match="index 999 not in"):
        resolve_ablations(model, tokens, [Ablation.neuron(0, 1, 999)])
    with pytest.raises(ValueError, match="needs a source prompt"):
        resolve_ablations(model, tokens, [Ablation.neuron(0, 1, 1, "source")])
    with pytest.raises(ValueError, match="has 3 tokens"):
        resolve_ablations(model, tokens, [], source_tokens=torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="does not broadcast"):
        resolve_ablations(
            model, tokens, [Ablation.neuron(0, 1, 1, "mean")], means={POST: torch.zeros(3)}
        )
    with pytest.raises(ValueError, match="Cannot ablate"):
        Ablation("blocks.0.hook_resid_pre")
    with pytest.raises(ValueError, match="take no index"):
        Ablation("hook_embed", 1, 2)
    with pytest.raises(ValueError, match="only used with value='constant'"):
        Ablation.neuron(0, 1, 1, "zero", 3.0)
    with pytest.raises(KeyError):
        resolve_ablations(model, tokens, [Ablation.neuron(5, 1, 1)])

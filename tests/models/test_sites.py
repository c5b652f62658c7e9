"""The sites module against the model itself: every hook name parses and formats back, its
axes give the activation's real shape, and `forward_order` sorts hook names in the order they
really fire, with autoencoders spliced at every kind of site."""

from __future__ import annotations

import pytest
import torch

from neuron_explainer.models import sites
from neuron_explainer.models.hooks import HookPoint
from neuron_explainer.models.sae_splice import spliced_saes
from neuron_explainer.models.sites import (
    SPLICE_KINDS,
    Site,
    act_name,
    forward_order,
    is_splice_site,
    layer_of,
)
from neuron_explainer.models.transformer import Transformer
from tests.activations.helpers import PROMPT, model64, with_saes

ALL_SPLICES = [act_name(kind, layer) for layer in (0, 1) for kind in SPLICE_KINDS]


def fired_order(model: Transformer) -> tuple[list[str], dict[str, torch.Tensor]]:
    """Hook names in the order they fire on a real forward pass, and their activations."""
    fired: list[str] = []
    acts: dict[str, torch.Tensor] = {}

    def record(x: torch.Tensor, hook: HookPoint) -> None:
        fired.append(hook.name)
        acts[hook.name] = x

    with torch.no_grad(), model.hooks([(lambda _: True, record)]):
        model(torch.tensor([PROMPT]))
    return fired, acts


@pytest.mark.parametrize("attn_only", [False, True])
def test_forward_order_is_the_order_hooks_fire(attn_only: bool) -> None:
    model = model64(attn_only=attn_only)
    sites = [] if attn_only else ALL_SPLICES
    with with_saes(model, sites):
        fired, _ = fired_order(model)
        key = forward_order(model)
        assert set(fired) == set(model.hook_names())
        assert sorted(fired, key=key) == fired
        assert sorted(reversed(fired), key=key) == fired


def test_every_hook_name_parses_back_and_its_axes_give_its_shape() -> None:
    model = model64()
    with with_saes(model, ALL_SPLICES):
        _, acts = fired_order(model)
        saes = spliced_saes(model)
        for name, x in acts.items():
            site = Site.parse(name)
            assert site.name == name == str(site)
            d_sae = saes[site.splice.name].cfg.d_sae if site.sae else 0
            assert site.shape(model.cfg, len(PROMPT), d_sae) == tuple(x.shape[1:]), name


def test_names_built_from_kinds() -> None:
    assert act_name("pattern", 1) == "blocks.1.attn.hook_pattern"
    assert act_name("embed") == "hook_embed"
    assert act_name("final_scale") == "ln_final.hook_scale"
    post = Site.parse("blocks.0.mlp.hook_post")
    assert post.autoencoder().name == "blocks.0.mlp.hook_post.hook_sae_acts_post"
    assert post.autoencoder().is_latents and post.autoencoder().splice == post
    assert Site.parse("blocks.3.attn.hook_pattern").sibling("v").name == "blocks.3.attn.hook_v"
    assert Site("pattern", 2).module == "blocks.2.attn"
    assert layer_of("blocks.3.hook_resid_mid") == 3
    assert Site.parse("blocks.1.hook_mlp_out").splice_input == "sublayer_output"


@pytest.mark.parametrize(
    "name",
    [
        "blocks.01.mlp.hook_post",  # a layer written two ways would be two names of one site
        "blocks.0.mlp.hook_nope",
        "blocks.x.attn.hook_q",
        "blocks.٣.attn.hook_q",  # a non-ASCII digit
        "blocks.0.hook_embed",
        "hook_resid_pre",
        "hook_embed.hook_sae_nope",
        "blocks.0.mlp.hook_post.hook_sae_acts_post.hook_sae_acts_post",
        "",
    ],
)
def test_names_that_are_no_site_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not a hook site"):
        Site.parse(name)


def test_splice_sites_and_layers() -> None:
    assert all(is_splice_site(s) for s in ALL_SPLICES)
    for name in ["hook_embed", "blocks.0.attn.hook_pattern", "blocks.0.ln1.hook_scale", "x"]:
        assert not is_splice_site(name)
    with pytest.raises(ValueError, match="No layer"):
        layer_of("hook_embed")
    with pytest.raises(ValueError, match="residual-stream position"):
        _ = Site.parse("blocks.0.ln2.hook_scale").residual_position


def test_forward_order_leaves_the_random_state_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    model = model64()
    monkeypatch.setattr(sites, "_OBSERVED", {})  # observe afresh: a model is built
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    forward_order(model)
    assert torch.equal(torch.rand(3), expected)

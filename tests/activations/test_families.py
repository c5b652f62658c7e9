"""Every registered family against the model: its sites are its own, its node layout matches
its metrics' layout, its widths and write directions agree with what the forward pass holds."""

from __future__ import annotations

import torch

from neuron_explainer.activations.direction import LogitDifference
from neuron_explainer.activations.families import (
    FAMILY_REGISTRY,
    NODE_FAMILIES,
    NodeIndex,
    family_at,
    get_family,
    selects,
)
from neuron_explainer.activations.forward import run_with_gradients
from neuron_explainer.activations.nodes import FAMILIES, SELECTIONS, Node
from neuron_explainer.datasets.config import FAMILY_MEASURES
from neuron_explainer.models.sites import Site
from tests.activations.helpers import DISTRACTOR, PROMPT, SAE_SITES, TARGET, model64, with_saes


def test_the_registry_covers_the_api_enums() -> None:
    assert list(FAMILY_REGISTRY) == list(SELECTIONS)
    assert list(NODE_FAMILIES) == list(FAMILIES)
    assert list(FAMILY_MEASURES) == ["neuron", "head", "latent"]  # the store's order


def test_sites_widths_and_layouts_agree_with_the_forward_pass() -> None:
    model = model64()
    tokens = torch.tensor([PROMPT])
    objective = LogitDifference((TARGET,), (DISTRACTOR,), len(PROMPT) - 1)
    with with_saes(model, SAE_SITES):
        for family in NODE_FAMILIES.values():
            sites = family.sites(model)
            assert sites, family.name
            names = [n for s in sites for n in family.cache_names(s)]
            run = run_with_gradients(model, tokens, objective, names, [s.site for s in sites])
            for site in sites:
                assert family_at(site.site) is family and selects(family.name, site)
                m = family.metrics(
                    model,
                    site,
                    run.cache,
                    run.grads[site.site],
                    objective.direct_read(model, run.cache),
                )
                layout = tuple(m.activation.shape[1:])
                assert len(layout) == len(family.node_axes)
                index_axis = (
                    family.node_axes.index("index") if "index" in family.node_axes else None
                )
                if index_axis is not None:
                    assert layout[index_axis] == family.width(model, site.site)
                # Node <-> layout index, for the last valid node of the site.
                where = tuple(int(i) for i in m.valid.nonzero()[-1])
                node = site.node(where)
                assert site.index(node) == where and Node.parse(node.id) == node


def test_write_directions_are_the_output_directions_of_their_components() -> None:
    model = model64()
    with with_saes(model, SAE_SITES):
        for name in ("neuron", "latent"):
            family = get_family(name)
            for site in family.sites(model):
                W = family.output_directions(model, site.site, {})
                index = torch.tensor([0, 3])
                nodes = NodeIndex(index, torch.tensor([5, 5]), torch.zeros(2, dtype=torch.long))
                got = family.write_directions(model, site.site, nodes, {})
                if W is None:  # autoencoders on MLP pre-activations
                    assert got is None and Site.parse(site.site).splice.kind == "mlp_pre"
                else:
                    assert got is not None and torch.equal(got, W[index])


def test_selections_of_latents_split_by_the_autoencoders_kind() -> None:
    model = model64()
    with with_saes(model, SAE_SITES):
        every = {s.site for s in get_family("latent").sites(model)}
        mlp = {s.site for s in get_family("mlp_latent").sites(model)}
        attn = {s.site for s in get_family("attn_latent").sites(model)}
    assert mlp and attn and mlp.isdisjoint(attn) and mlp | attn < every
    assert all(Site.parse(s).splice.part == "mlp" for s in mlp)
    assert attn == {Site.parse("blocks.0.hook_attn_out").autoencoder().name}

"""The node families, one object each, in one registry (`FAMILY_REGISTRY`): what a request may
name (`nodes.Selection`) maps to the object that knows its sites, metrics and directions.

Adding a family: a module here with a `Family` subclass (`base.py` lists what it must say), one
line in `_FAMILIES` below, and its name in `nodes.FamilyName` (the API's enum of families).
"""

from __future__ import annotations

from neuron_explainer.activations.families.base import Family, NodeIndex
from neuron_explainer.activations.families.embedding import EmbeddingFamily
from neuron_explainer.activations.families.head import HeadFamily
from neuron_explainer.activations.families.latent import LatentFamily, latent_kind
from neuron_explainer.activations.families.neuron import NeuronFamily
from neuron_explainer.activations.nodes import NodeSite, register_node_axes
from neuron_explainer.models.sites import Site

_FAMILIES: tuple[Family, ...] = (
    EmbeddingFamily(),
    NeuronFamily(),
    HeadFamily(),
    LatentFamily(),
    LatentFamily("mlp_latent", "mlp"),
    LatentFamily("attn_latent", "attn"),
)
FAMILY_REGISTRY: dict[str, Family] = {f.name: f for f in _FAMILIES}
# The node families themselves (a selection such as `mlp_latent` is none).
NODE_FAMILIES: dict[str, Family] = {f.name: f for f in _FAMILIES if f.name == f.node_family}
for _family in NODE_FAMILIES.values():
    register_node_axes(_family.name, _family.node_axes)


def get_family(name: str) -> Family:
    """A family or selection by name; a `ValueError` listing the known ones."""
    if name not in FAMILY_REGISTRY:
        raise ValueError(f"Unknown node family {name!r}; expected one of {list(FAMILY_REGISTRY)}")
    return FAMILY_REGISTRY[name]


def selects(selection: str, site: NodeSite) -> bool:
    """Whether the nodes of `site` belong to a requested family or selection."""
    family = get_family(selection)
    return site.family == family.node_family and family.selects(site.site)


def family_at(site: str) -> Family | None:
    """The node family whose nodes are the activations at hook site `site`, if any."""
    parsed = Site.parse(site)
    return next((f for f in NODE_FAMILIES.values() if f.owns(parsed)), None)


__all__ = [
    "FAMILY_REGISTRY",
    "NODE_FAMILIES",
    "Family",
    "NodeIndex",
    "family_at",
    "get_family",
    "latent_kind",
    "selects",
]

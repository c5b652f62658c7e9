"""Nodes: one invocation of a component in one forward pass, and their ids.

Each family keeps its nodes' activations at one hook site per layer (or per autoencoder), in the
layout of that site (per batch row); the family (`families/`) says which `Node` fields index
that layout (`node_axes`), and registers them here:

    family     activation site                       layout           node axes
    embedding  hook_embed                            [pos]            (token,)
    neuron     blocks.{L}.mlp.hook_post              [pos, d_mlp]     (token, index)
    head       blocks.{L}.attn.hook_pattern          [head, q, k]     (index, token, key_token)
    latent     {site}.hook_sae_acts_post             [pos, d_sae]     (token, index)

A node's id is `family:site:token:index`, and for a family whose nodes have a key token (heads)
`family:site:query:index:key`, e.g. `neuron:blocks.0.mlp.hook_post:3:17` or
`head:blocks.1.attn.hook_pattern:5:2:3`. Sites contain no colons, so ids split unambiguously.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from neuron_explainer.models.sites import Site

FamilyName = Literal["embedding", "neuron", "head", "latent"]
FAMILIES: tuple[FamilyName, ...] = get_args(FamilyName)
# What a request may list: a node family, or the latents of the autoencoders on MLP sites
# (`mlp_latent`) or on attention outputs (`attn_latent`) alone; their nodes are latents.
Selection = Literal["embedding", "neuron", "head", "latent", "mlp_latent", "attn_latent"]
SELECTIONS: tuple[Selection, ...] = get_args(Selection)
_NODE_FIELDS = ("token", "index", "key_token")
# Each family's node axes, registered by `families/__init__.py` when the package is imported.
_NODE_AXES: dict[str, tuple[str, ...]] = {}


def register_node_axes(family: str, axes: tuple[str, ...]) -> None:
    """Record which `Node` fields index a family's layout, in layout order."""
    if family not in FAMILIES or not set(axes) <= set(_NODE_FIELDS) or "token" not in axes:
        raise ValueError(f"Cannot register node axes {axes} for family {family!r}")
    _NODE_AXES[family] = axes


def node_axes(family: str) -> tuple[str, ...]:
    if family not in _NODE_AXES:
        raise ValueError(f"Unknown node family {family!r}; expected one of {FAMILIES}")
    return _NODE_AXES[family]


def _layer(site: str) -> int | None:
    try:
        return Site.parse(site).layer
    except ValueError:
        return None


def _paired(family: str) -> bool:
    return "key_token" in node_axes(family)


@dataclass(frozen=True)
class Node:
    """One node. `token` is the query token for heads; `index` is the neuron, head or latent
    (0 for embeddings); `key_token` is set for heads only. `site` is the activation's hook site."""

    family: FamilyName
    site: str
    token: int
    index: int = 0
    key_token: int | None = None

    def __post_init__(self) -> None:
        if ":" in self.site:
            raise ValueError(f"A hook site has no ':' in it, got {self.site!r}")
        if _paired(self.family) != (self.key_token is not None):
            raise ValueError("Head nodes need a key_token; other nodes take none")
        if self.token < 0 or self.index < 0 or (self.key_token or 0) < 0:
            raise ValueError(f"Node positions and indices are non-negative, got {self!r}")
        if self.key_token is not None and self.key_token > self.token:
            raise ValueError(f"A head's key token comes at or before its query token: {self!r}")

    @classmethod
    def embedding(cls, token: int) -> Node:
        return cls("embedding", Site("embed").name, token)

    @classmethod
    def neuron(cls, layer: int, token: int, neuron: int) -> Node:
        return cls("neuron", Site("mlp_post", layer).name, token, neuron)

    @classmethod
    def head(cls, layer: int, head: int, query: int, key: int) -> Node:
        return cls("head", Site("pattern", layer).name, query, head, key)

    @classmethod
    def latent(cls, splice_site: str, token: int, latent: int) -> Node:
        return cls("latent", Site.parse(splice_site).autoencoder().name, token, latent)

    @property
    def layer(self) -> int | None:
        """Its site's layer; None for model-wide sites and names that are no hook site."""
        return _layer(self.site)

    @property
    def id(self) -> str:
        parts = [self.family, self.site, str(self.token), str(self.index)]
        if self.key_token is not None:
            parts.append(str(self.key_token))
        return ":".join(parts)

    @classmethod
    def parse(cls, node_id: str) -> Node:
        parts = node_id.split(":")
        family = parts[0]
        if family not in FAMILIES or len(parts) != (5 if _paired(family) else 4):
            raise ValueError(
                f"Cannot parse node id {node_id!r}; expected family:site:token:index "
                "(heads: head:site:query:head:key)"
            )
        # Plain ASCII digits only: `int` would also take "+1", " 1", "1_0" and other scripts'
        # digits, none of which an id written by `Node.id` holds.
        if not all(p.isascii() and p.isdigit() for p in parts[2:]):
            raise ValueError(f"Node id {node_id!r} has a non-integer position or index")
        numbers = [int(p) for p in parts[2:]]
        key = numbers[2] if _paired(family) else None
        return cls(family, parts[1], numbers[0], numbers[1], key)


@dataclass(frozen=True)
class NodeSite:
    """The nodes of one family at one hook site, e.g. the neurons of layer 3."""

    family: FamilyName
    site: str

    @property
    def layer(self) -> int | None:
        return _layer(self.site)

    @property
    def sublayer(self) -> int:
        """Where its nodes write in the residual stream (`sites.Site.residual_position`)."""
        return Site.parse(self.site).residual_position

    @property
    def token_axes(self) -> tuple[int, ...]:
        """The axes of this site's layout that are token positions (heads: query and key)."""
        axes = node_axes(self.family)
        return tuple(i for i, a in enumerate(axes) if a in ("token", "key_token"))

    def node(self, index: tuple[int, ...]) -> Node:
        """The node at `index` in this site's layout (see the module docstring)."""
        fields = dict(zip(node_axes(self.family), index, strict=True))
        return Node(
            self.family, self.site, fields["token"], fields.get("index", 0), fields.get("key_token")
        )

    def index(self, node: Node) -> tuple[int, ...]:
        """Inverse of `node`."""
        if node.site != self.site or node.family != self.family:
            raise ValueError(f"{node.id} is not a node of {self.family} nodes at {self.site}")
        return tuple(getattr(node, a) for a in node_axes(self.family))

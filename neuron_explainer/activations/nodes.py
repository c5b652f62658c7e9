"""Nodes: one invocation of a component in one forward pass, their families and ids.

Each family keeps its nodes' activations at one hook site per layer (or per autoencoder), in the
layout of that site (per batch row):

    family     activation site                       layout           node index
    embedding  hook_embed                            [pos, d_model]   (token,)
    neuron     blocks.{L}.mlp.hook_post              [pos, d_mlp]     (token, neuron)
    head       blocks.{L}.attn.hook_pattern          [head, q, k]     (head, query, key)
    latent     {site}.hook_sae_acts_post             [pos, d_sae]     (token, latent)

A node's id is `family:site:token:index`, and for heads `head:site:query:head:key`, e.g.
`neuron:blocks.0.mlp.hook_post:3:17` or `head:blocks.1.attn.hook_pattern:5:2:3`. Sites contain
no colons, so ids split unambiguously.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

FamilyName = Literal["embedding", "neuron", "head", "latent"]
FAMILIES: tuple[FamilyName, ...] = get_args(FamilyName)
# What a request may list: a node family, or the latents of the autoencoders on MLP sites
# (`mlp_latent`) or on attention outputs (`attn_latent`) alone; their nodes are latents.
Selection = Literal["embedding", "neuron", "head", "latent", "mlp_latent", "attn_latent"]
SELECTIONS: tuple[Selection, ...] = get_args(Selection)
EMBED_SITE = "hook_embed"
LATENT_SUFFIX = ".hook_sae_acts_post"
_LAYER = re.compile(r"blocks\.(\d+)\.")


def neuron_site(layer: int) -> str:
    return f"blocks.{layer}.mlp.hook_post"


def pattern_site(layer: int) -> str:
    return f"blocks.{layer}.attn.hook_pattern"


def latent_site(splice_site: str) -> str:
    """The hook site of the latents of the autoencoder spliced at `splice_site`."""
    return splice_site + LATENT_SUFFIX


def site_layer(site: str) -> int | None:
    match = _LAYER.match(site)
    return None if match is None else int(match.group(1))


def write_sublayer(site: str) -> int:
    """Where a node at `site` writes in the residual stream: 0 for the embeddings, 2L+1 for the
    attention of layer L, 2L+2 for its MLP. Latents of an autoencoder that reads the residual
    stream count as writes of everything before that point. A write reaches a read "before
    sublayer r" of the residual stream when its sublayer is < r (the final LN reads before
    2 n_layers + 1)."""
    layer = site_layer(site)
    if layer is None:
        if site == EMBED_SITE or site.startswith(EMBED_SITE + "."):
            return 0
        raise ValueError(f"No residual-stream position known for hook site {site!r}")
    rest = site[len(f"blocks.{layer}.") :]
    if rest.startswith(("attn.", "hook_attn_out", "hook_resid_mid")):
        return 2 * layer + 1
    if rest.startswith(("mlp.", "hook_mlp_out", "hook_resid_post")):
        return 2 * layer + 2
    if rest.startswith("hook_resid_pre"):
        return 2 * layer
    raise ValueError(f"No residual-stream position known for hook site {site!r}")


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
        if self.family not in FAMILIES:
            raise ValueError(f"Unknown node family {self.family!r}; expected one of {FAMILIES}")
        if ":" in self.site:
            raise ValueError(f"A hook site has no ':' in it, got {self.site!r}")
        if (self.family == "head") != (self.key_token is not None):
            raise ValueError("Head nodes need a key_token; other nodes take none")
        if self.token < 0 or self.index < 0 or (self.key_token or 0) < 0:
            raise ValueError(f"Node positions and indices are non-negative, got {self!r}")
        if self.key_token is not None and self.key_token > self.token:
            raise ValueError(f"A head's key token comes at or before its query token: {self!r}")

    @classmethod
    def embedding(cls, token: int) -> Node:
        return cls("embedding", EMBED_SITE, token)

    @classmethod
    def neuron(cls, layer: int, token: int, neuron: int) -> Node:
        return cls("neuron", neuron_site(layer), token, neuron)

    @classmethod
    def head(cls, layer: int, head: int, query: int, key: int) -> Node:
        return cls("head", pattern_site(layer), query, head, key)

    @classmethod
    def latent(cls, splice_site: str, token: int, latent: int) -> Node:
        return cls("latent", latent_site(splice_site), token, latent)

    @property
    def layer(self) -> int | None:
        return site_layer(self.site)

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
        if family not in FAMILIES or len(parts) != (5 if family == "head" else 4):
            raise ValueError(
                f"Cannot parse node id {node_id!r}; expected family:site:token:index "
                "(heads: head:site:query:head:key)"
            )
        # Plain ASCII digits only: `int` would also take "+1", " 1", "1_0" and other scripts'
        # digits, none of which an id written by `Node.id` holds.
        if not all(p.isascii() and p.isdigit() for p in parts[2:]):
            raise ValueError(f"Node id {node_id!r} has a non-integer position or index")
        numbers = [int(p) for p in parts[2:]]
        key = numbers[2] if family == "head" else None
        return cls(family, parts[1], numbers[0], numbers[1], key)


@dataclass(frozen=True)
class NodeSite:
    """The nodes of one family at one hook site, e.g. the neurons of layer 3."""

    family: FamilyName
    site: str

    @property
    def layer(self) -> int | None:
        return site_layer(self.site)

    @property
    def sublayer(self) -> int:
        return write_sublayer(self.site)

    @property
    def token_axes(self) -> tuple[int, ...]:
        """The axes of this site's layout that are token positions (heads: query and key)."""
        return (1, 2) if self.family == "head" else (0,)

    def node(self, index: tuple[int, ...]) -> Node:
        """The node at `index` in this site's layout (see the module docstring)."""
        if self.family == "embedding":
            (token,) = index
            return Node(self.family, self.site, token)
        if self.family == "head":
            head, query, key = index
            return Node(self.family, self.site, query, head, key)
        token, i = index
        return Node(self.family, self.site, token, i)

    def index(self, node: Node) -> tuple[int, ...]:
        """Inverse of `node`."""
        if node.site != self.site or node.family != self.family:
            raise ValueError(f"{node.id} is not a node of {self.family} nodes at {self.site}")
        if self.family == "embedding":
            return (node.token,)
        if self.family == "head":
            assert node.key_token is not None  # checked by Node
            return (node.index, node.token, node.key_token)
        return (node.token, node.index)

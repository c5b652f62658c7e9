"""Hook sites: the one module that builds, parses and orders hook names, and reaches into a
model's parts by layer.

A hook name is TransformerLens's: a model-wide site (`hook_embed`, `hook_pos_embed`,
`ln_final.hook_scale`, ...), or `blocks.{L}.{path}` for a site of block L (`attn.hook_pattern`,
`mlp.hook_post`, `hook_resid_mid`, ...). An autoencoder spliced at a site S adds its own sites
`S.hook_sae_input`, ..., `S.hook_sae_output` (SAELens's HookedSAETransformer names). Each site
has a short kind (`pattern`, `mlp_post`, `sae_acts_post`), as TransformerLens's `get_act_name`:
`act_name("pattern", 1) == "blocks.1.attn.hook_pattern"`. Other modules ask here (`Site.parse`,
`act_name`, `Site.sibling`) instead of editing hook-name strings, so a new hook in
`transformer.py` is taught to the project in this file.

The forward order of sites is observed, not listed: `forward_order(model)` runs a one-layer
model of the same class and configuration once and records the order in which its hooks fire.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch

from neuron_explainer.models.config import TransformerConfig
from neuron_explainer.models.hooks import HookPoint
from neuron_explainer.models.transformer import MLP, Block, Transformer

# Kinds of a block's sites and their paths inside the block.
BLOCK_KINDS: dict[str, str] = {
    "resid_pre": "hook_resid_pre",
    "ln1_scale": "ln1.hook_scale",
    "ln1_normalized": "ln1.hook_normalized",
    "q": "attn.hook_q",
    "k": "attn.hook_k",
    "v": "attn.hook_v",
    "attn_scores": "attn.hook_attn_scores",
    "pattern": "attn.hook_pattern",
    "z": "attn.hook_z",
    "attn_out": "hook_attn_out",
    "resid_mid": "hook_resid_mid",
    "ln2_scale": "ln2.hook_scale",
    "ln2_normalized": "ln2.hook_normalized",
    "mlp_pre": "mlp.hook_pre",
    "mlp_post": "mlp.hook_post",
    "mlp_out": "hook_mlp_out",
    "resid_post": "hook_resid_post",
}
# Kinds of the model-wide sites (no layer).
MODEL_KINDS: dict[str, str] = {
    "embed": "hook_embed",
    "pos_embed": "hook_pos_embed",
    "final_scale": "ln_final.hook_scale",
    "final_normalized": "ln_final.hook_normalized",
}
# An autoencoder's sites, in the order they fire inside its splice.
SAE_KINDS: dict[str, str] = {
    "sae_input": "hook_sae_input",
    "sae_acts_pre": "hook_sae_acts_pre",
    "sae_acts_post": "hook_sae_acts_post",
    "sae_recons": "hook_sae_recons",
    "sae_error": "hook_sae_error",
    "sae_output": "hook_sae_output",
}
# Sites an autoencoder may read: the residual stream, the MLP and attention outputs (residual
# deltas), and the MLP's neurons.
SPLICE_KINDS = (
    "resid_pre",
    "resid_mid",
    "resid_post",
    "attn_out",
    "mlp_out",
    "mlp_pre",
    "mlp_post",
)
# What an autoencoder at a site of each splice kind reads.
SpliceInput = Literal["residual", "sublayer_output", "neuron_pre", "neuron_post"]
SPLICE_INPUTS: dict[str, SpliceInput] = {
    "resid_pre": "residual",
    "resid_mid": "residual",
    "resid_post": "residual",
    "attn_out": "sublayer_output",
    "mlp_out": "sublayer_output",
    "mlp_pre": "neuron_pre",
    "mlp_post": "neuron_post",
}
# The sublayer a site belongs to: "embed" (before block 0), "attn" (a block's attention, its
# LayerNorm and its output), "mlp" (likewise), "resid" (a block's input), "final" (after the
# blocks). Autoencoder sites belong to the sublayer of the site they are spliced at.
Part = Literal["embed", "attn", "mlp", "resid", "final"]
_PARTS: dict[str, Part] = {
    "embed": "embed",
    "pos_embed": "embed",
    "final_scale": "final",
    "final_normalized": "final",
    "resid_pre": "resid",
    **{k: "attn" for k in ("ln1_scale", "ln1_normalized", "q", "k", "v", "attn_scores")},
    **{k: "attn" for k in ("pattern", "z", "attn_out", "resid_mid")},
    **{k: "mlp" for k in ("ln2_scale", "ln2_normalized", "mlp_pre", "mlp_post", "mlp_out")},
    "resid_post": "mlp",
}
# The axes of one batch row's activation at each kind of site, by what they index.
_AXES: dict[str, tuple[str, ...]] = {
    **{k: ("pos", "d_model") for k in ("embed", "pos_embed", "final_normalized")},
    **{k: ("pos", "d_model") for k in ("resid_pre", "resid_mid", "resid_post")},
    **{k: ("pos", "d_model") for k in ("attn_out", "mlp_out", "ln1_normalized", "ln2_normalized")},
    **{k: ("pos", "one") for k in ("final_scale", "ln1_scale", "ln2_scale")},
    **{k: ("pos", "head", "d_head") for k in ("q", "k", "v", "z")},
    "attn_scores": ("head", "query", "key"),
    "pattern": ("head", "query", "key"),
    "mlp_pre": ("pos", "d_mlp"),
    "mlp_post": ("pos", "d_mlp"),
    "sae_input": ("pos", "d_in"),
    "sae_acts_pre": ("pos", "d_sae"),
    "sae_acts_post": ("pos", "d_sae"),
    **{k: ("pos", "d_in") for k in ("sae_recons", "sae_error", "sae_output")},
}
_BLOCK_NAME = re.compile(r"blocks\.([0-9]+)\.(.+)")
_KIND_OF_PATH = {path: kind for kind, path in {**BLOCK_KINDS, **MODEL_KINDS}.items()}
_SAE_KIND_OF_HOOK = {hook: kind for kind, hook in SAE_KINDS.items()}


def act_name(kind: str, layer: int | None = None) -> str:
    """The hook name of a kind of site: `act_name("mlp_post", 0) == "blocks.0.mlp.hook_post"`,
    `act_name("embed") == "hook_embed"`."""
    return Site(kind, layer).name


@dataclass(frozen=True)
class Site:
    """A parsed hook name: its kind, its layer (None for model-wide sites), and for an
    autoencoder's site, the autoencoder's kind of site (`sae`) at the site it is spliced at."""

    kind: str
    layer: int | None = None
    sae: str | None = None

    def __post_init__(self) -> None:
        if self.kind in BLOCK_KINDS:
            if self.layer is None or self.layer < 0:
                raise ValueError(f"A {self.kind!r} site needs a layer >= 0, got {self.layer!r}")
        elif self.kind in MODEL_KINDS:
            if self.layer is not None:
                raise ValueError(f"A {self.kind!r} site is model-wide and takes no layer")
        else:
            known = [*MODEL_KINDS, *BLOCK_KINDS]
            raise ValueError(f"Unknown kind of hook site {self.kind!r}; expected one of {known}")
        if self.sae is not None and self.sae not in SAE_KINDS:
            raise ValueError(f"Unknown autoencoder site {self.sae!r}; one of {list(SAE_KINDS)}")

    @classmethod
    def parse(cls, name: str) -> Site:
        """The site of a hook name; a `ValueError` naming it when it is not a site of a
        GPT-2-architecture model or of an autoencoder spliced into one."""
        base, dot, last = name.rpartition(".")
        sae = _SAE_KIND_OF_HOOK.get(last) if dot else None
        match = _BLOCK_NAME.fullmatch(base if sae is not None else name)
        path = (base if sae is not None else name) if match is None else match[2]
        kind = _KIND_OF_PATH.get(path)
        layer = None if match is None else int(match[1])
        if kind is None or (kind in BLOCK_KINDS) != (layer is not None):
            raise ValueError(f"{name!r} is not a hook site of this project's models")
        site = cls(kind, layer, sae)
        if site.name != name:  # e.g. a layer written "01"
            raise ValueError(f"{name!r} is not a hook site of this project's models")
        return site

    @property
    def name(self) -> str:
        if self.layer is None:
            base = MODEL_KINDS[self.kind]
        else:
            base = f"blocks.{self.layer}.{BLOCK_KINDS[self.kind]}"
        return base if self.sae is None else f"{base}.{SAE_KINDS[self.sae]}"

    def __str__(self) -> str:
        return self.name

    @property
    def module(self) -> str:
        """The module whose hook this is: `blocks.1.attn` for `blocks.1.attn.hook_pattern`,
        `blocks.1` for `blocks.1.hook_resid_pre`, "" for `hook_embed`."""
        return self.splice.name.rpartition(".")[0]

    @property
    def splice(self) -> Site:
        """The site an autoencoder's site belongs to (itself for a model's own site)."""
        return Site(self.kind, self.layer)

    def sibling(self, kind: str) -> Site:
        """Another kind of site of the same layer: `pattern` -> `v` of the same attention."""
        return Site(kind, self.layer)

    def autoencoder(self, sae: str = "sae_acts_post") -> Site:
        """A site of an autoencoder spliced here (default: its latents). Where an autoencoder
        may be spliced is `is_splice_site`'s business; this only names."""
        if self.sae is not None:
            raise ValueError(f"{self.name!r} is already an autoencoder's site")
        return Site(self.kind, self.layer, sae)

    @property
    def is_latents(self) -> bool:
        """Whether this is the latents' site of an autoencoder (`hook_sae_acts_post`)."""
        return self.sae == "sae_acts_post"

    @property
    def part(self) -> Part:
        return _PARTS[self.kind]

    @property
    def axes(self) -> tuple[str, ...]:
        """What each axis of one batch row's activation indexes: `("head", "query", "key")` for a
        pattern, `("pos", "d_mlp")` for neurons."""
        return _AXES[self.kind if self.sae is None else self.sae]

    def shape(self, cfg: TransformerConfig, pos: int, d_sae: int = 0) -> tuple[int, ...]:
        """One batch row's activation shape for `pos` tokens (`d_sae` for autoencoder sites)."""
        d_in = self._width(cfg)
        sizes = {
            "pos": pos,
            "query": pos,
            "key": pos,
            "one": 1,
            "head": cfg.n_heads,
            "d_head": cfg.d_head,
            "d_model": cfg.d_model,
            "d_mlp": cfg.d_mlp,
            "d_in": d_in,
            "d_sae": d_sae,
        }
        return tuple(sizes[a] for a in self.axes)

    def _width(self, cfg: TransformerConfig) -> int:
        axes = _AXES[self.kind]
        return cfg.d_mlp if axes[-1] == "d_mlp" else cfg.d_model

    @property
    def splice_input(self) -> SpliceInput:
        """What an autoencoder spliced at this site reads."""
        if self.kind not in SPLICE_INPUTS:
            raise ValueError(f"Autoencoders read {SPLICE_KINDS} sites, not {self.name!r}")
        return SPLICE_INPUTS[self.kind]

    @property
    def residual_position(self) -> int:
        """Where a write at this site enters the residual stream: 0 for the embeddings, 2L+1
        for the attention of layer L (and its output and `resid_mid`), 2L+2 for its MLP (and
        `resid_post`), 2L for `resid_pre`. An autoencoder's sites take the position of the site
        they are spliced at (its latents count as writes of everything before that point). A
        write reaches a read "before position r" of the residual stream when its position is
        < r (the final LayerNorm reads before 2 n_layers + 1). LayerNorm sites and the position
        embeddings have none."""
        if self.kind == "embed":
            return 0
        if self.layer is None or self.kind in _NOT_WRITES:
            raise ValueError(f"No residual-stream position known for hook site {self.name!r}")
        if self.kind == "resid_pre":
            return 2 * self.layer
        return 2 * self.layer + (1 if self.part == "attn" else 2)


_NOT_WRITES = frozenset({"ln1_scale", "ln1_normalized", "ln2_scale", "ln2_normalized"})


def is_splice_site(name: str) -> bool:
    """Whether an autoencoder can be spliced at hook name `name` (`SPLICE_KINDS` of a block)."""
    try:
        site = Site.parse(name)
    except ValueError:
        return False
    return site.sae is None and site.kind in SPLICE_KINDS


def splice_paths() -> str:
    """The kinds of splice sites as their paths in a block, for messages."""
    return ", ".join(BLOCK_KINDS[k] for k in SPLICE_KINDS)


def layer_of(name: str) -> int:
    """The block a hook name belongs to: 3 for "blocks.3.mlp.hook_post"; a `ValueError` for a
    model-wide site."""
    layer = Site.parse(name).layer
    if layer is None:
        raise ValueError(f"No layer in site {name!r}")
    return layer


def block(model: Transformer, layer: int | None) -> Block:
    """Block `layer`, checked: a `ValueError` naming the missing layer, where `model.blocks[L]`
    would give an `IndexError`."""
    if layer is None or not 0 <= layer < model.cfg.n_layers:
        raise ValueError(f"The model has no layer {layer}")
    b = model.blocks[layer]
    assert isinstance(b, Block)
    return b


def mlp(model: Transformer, layer: int | None) -> MLP:
    """The MLP of block `layer`, checked (attention-only models have none)."""
    m = block(model, layer).mlp
    if m is None:
        raise ValueError(f"Layer {layer} has no MLP")
    return m


OrderKey = tuple[int, int, int, int]


def forward_order(model: Transformer) -> Callable[[str], OrderKey]:
    """A sort key of hook names by when they fire in `model`'s forward pass. An autoencoder's
    sites fire inside its splice, in `SAE_KINDS` order, before the hooks of the site it is
    spliced at. A `ValueError` for a name that does not fire."""
    stages = _observed_order(type(model), model.cfg.replace(n_layers=1, d_vocab=1, n_ctx=1))

    def key(name: str) -> OrderKey:
        site = Site.parse(name)
        for stage, kinds in enumerate(stages):
            if site.kind in kinds:
                sae = len(SAE_KINDS) if site.sae is None else list(SAE_KINDS).index(site.sae)
                return (stage, site.layer or 0, kinds.index(site.kind), sae)
        raise ValueError(f"No forward order known for hook site {name!r}: it does not fire")

    return key


Stages = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]
_OBSERVED: dict[tuple[type[Transformer], TransformerConfig], Stages] = {}


def _observed_order(cls: type[Transformer], cfg: TransformerConfig) -> Stages:
    """The kinds of sites before the blocks, in a block, and after them, in firing order, seen
    on a one-layer model of class `cls` run on one token (once per class and configuration)."""
    if (cls, cfg) not in _OBSERVED:
        _OBSERVED[cls, cfg] = _observe(cls, cfg)
    return _OBSERVED[cls, cfg]


def _observe(cls: type[Transformer], cfg: TransformerConfig) -> Stages:
    with torch.random.fork_rng(devices=[]):  # leave the caller's random state alone
        tiny = cls(cfg)
    fired: list[Site] = []

    def record(x: torch.Tensor, hook: HookPoint) -> None:
        fired.append(Site.parse(hook.name))

    with torch.no_grad(), tiny.hooks([(lambda _: True, record)]):
        tiny(torch.zeros(1, 1, dtype=torch.long))
    first = next(i for i, s in enumerate(fired) if s.layer is not None)
    last = max(i for i, s in enumerate(fired) if s.layer is not None)
    return (
        tuple(s.kind for s in fired[:first]),
        tuple(s.kind for s in fired[first : last + 1]),
        tuple(s.kind for s in fired[last + 1 :]),
    )

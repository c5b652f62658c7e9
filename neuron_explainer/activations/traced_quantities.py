"""The traced quantities of `tracing`: each an `Objective` whose value is a node's
pre-activation (or a head pair's query, key, score or value path), with its reads of the
residual stream; see `tracing` for the definitions."""

from __future__ import annotations

import abc
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import torch
from jaxtyping import Bool, Float
from torch import Tensor

from neuron_explainer.activations.direction import DirectRead, Objective, freeze
from neuron_explainer.activations.nodes import NodeSite
from neuron_explainer.models.hooks import HookPoint, HookSpec
from neuron_explainer.models.sae_splice import spliced_saes
from neuron_explainer.models.sites import Site, SpliceInput, act_name, block, forward_order, mlp
from neuron_explainer.models.transformer import LayerNorm, Transformer

ScorePart = Literal["query", "key", "qk"]


@dataclass(frozen=True)
class ReadWindow:
    """A linear read of the residual stream at token `position` of the writes from sublayers s
    with first_sublayer <= s < before_sublayer (`sites.Site.residual_position`)."""

    position: int
    first_sublayer: int
    before_sublayer: int


@dataclass(frozen=True)
class TraceInfo:
    """What the engine needs to know of a traced quantity besides its value and gradients."""

    name: str
    site: str  # the quantity's hook site: nodes firing at or after it are downstream
    token_bound: int  # the last token whose nodes can change the quantity
    windows: tuple[ReadWindow, ...]  # its reads of the residual stream
    scale_site: str | None = None  # the LayerNorm scale frozen so that the reads are linear
    linear: bool = True  # False: the reads are undefined (NaN gradients)


class TracedQuantity(abc.ABC):
    """An objective (`direction.Objective`) whose value is a traced node's quantity."""

    @property
    @abc.abstractmethod
    def info(self) -> TraceInfo: ...

    @abc.abstractmethod
    def cache_names(self) -> list[str]: ...

    @abc.abstractmethod
    def value(
        self, logits: Float[Tensor, "batch d_vocab"], cache: Mapping[str, Tensor]
    ) -> Float[Tensor, " batch"]: ...

    @abc.abstractmethod
    def read_gradients(
        self, model: Transformer, cache: Mapping[str, Tensor]
    ) -> list[Float[Tensor, "batch d_model"]]:
        """The gradient of each read of `info.windows`, per batch row."""

    @property
    def name(self) -> str:
        return self.info.name

    def hooks(self) -> list[HookSpec]:
        scale = self.info.scale_site
        hooks: list[HookSpec] = [(act_name("embed"), _track)]
        return hooks if scale is None else [*hooks, (scale, freeze)]

    def reads(self, model: Transformer, cache: Mapping[str, Tensor]) -> list[DirectRead]:
        gradients = self.read_gradients(model, cache)
        windows = self.info.windows
        return [
            DirectRead(w.position, w.before_sublayer, g)
            for w, g in zip(windows, gradients, strict=True)
        ]

    def direct_read(self, model: Transformer, cache: Mapping[str, Tensor]) -> DirectRead:
        """The first read; `traced_metrics` adds the others (head_qk) and applies the windows."""
        return self.reads(model, cache)[0]

    def upstream(
        self, model: Transformer, site: NodeSite, shape: tuple[int, ...]
    ) -> Bool[Tensor, "*nodes"]:
        """Which nodes of `site` (in its layout, of `shape`) can change the traced quantity."""
        order = forward_order(model)
        if order(site.site) >= order(self.info.site):
            return torch.zeros(shape, dtype=torch.bool)
        token_axis = site.token_axes[0]  # heads: [head, query, key]
        view = [1] * len(shape)
        view[token_axis] = shape[token_axis]
        return (torch.arange(shape[token_axis]) <= self.info.token_bound).view(view).expand(shape)


def _track(x: Tensor, hook: HookPoint) -> Tensor:
    """The embeddings as a leaf where the weights are frozen: a traced quantity may come before
    every site whose gradient is taken, and must still have a gradient."""
    return x if x.requires_grad else x.detach().requires_grad_(True)


def layer_norm_read(
    ln: LayerNorm, direction: Float[Tensor, "batch d_model"], scale: Float[Tensor, " batch"]
) -> Float[Tensor, "batch d_model"]:
    """Gradient of `ln(x) · direction` with respect to x, the scale held: P (w ⊙ direction) / s."""
    weighted = direction if ln.w is None else direction * ln.w.detach()
    return (weighted - weighted.mean(-1, keepdim=True)) / scale[:, None]


def _scale(cache: Mapping[str, Tensor], info: TraceInfo, token: int) -> Float[Tensor, " batch"]:
    assert info.scale_site is not None
    return cache[info.scale_site][:, token, 0].detach()


def _ln2(model: Transformer, layer: int) -> LayerNorm:
    ln2 = block(model, layer).ln2
    assert ln2 is not None  # checked when the trace is built: the layer has an MLP
    return ln2


@dataclass(frozen=True)
class NeuronPre(TracedQuantity):
    layer: int
    token: int
    neuron: int

    @property
    def info(self) -> TraceInfo:
        site = act_name("mlp_pre", self.layer)
        name = f"neuron_pre:{site}:{self.token}:{self.neuron}"
        window = ReadWindow(self.token, 0, 2 * self.layer + 2)
        return TraceInfo(name, site, self.token, (window,), act_name("ln2_scale", self.layer))

    def cache_names(self) -> list[str]:
        return [self.info.site, act_name("ln2_scale", self.layer)]

    def value(
        self, logits: Float[Tensor, "batch d_vocab"], cache: Mapping[str, Tensor]
    ) -> Float[Tensor, " batch"]:
        return cache[self.info.site][:, self.token, self.neuron]

    def read_gradients(
        self, model: Transformer, cache: Mapping[str, Tensor]
    ) -> list[Float[Tensor, "batch d_model"]]:
        scale = _scale(cache, self.info, self.token)
        W_in = mlp(model, self.layer).W_in.detach()[:, self.neuron]
        return [layer_norm_read(_ln2(model, self.layer), W_in.expand(scale.shape[0], -1), scale)]


@dataclass(frozen=True)
class LatentPre(TracedQuantity):
    splice_site: str
    layer: int
    token: int
    latent: int
    input: SpliceInput

    @property
    def info(self) -> TraceInfo:
        splice = Site.parse(self.splice_site)
        site = splice.autoencoder("sae_acts_pre").name
        # A latent at the site counts as a write of everything before it (`residual_position`).
        at = splice.residual_position
        first = at if self.input == "sublayer_output" else 0
        before = at if self.input == "neuron_pre" else at + 1
        scale = act_name("ln2_scale", self.layer) if self.input == "neuron_pre" else None
        return TraceInfo(
            f"latent_pre:{site}:{self.token}:{self.latent}",
            site,
            self.token,
            (ReadWindow(self.token, first, before),),
            scale,
            linear=self.input != "neuron_post",
        )

    def cache_names(self) -> list[str]:
        info = self.info
        return [info.site] if info.scale_site is None else [info.site, info.scale_site]

    def value(
        self, logits: Float[Tensor, "batch d_vocab"], cache: Mapping[str, Tensor]
    ) -> Float[Tensor, " batch"]:
        return cache[self.info.site][:, self.token, self.latent]

    def read_gradients(
        self, model: Transformer, cache: Mapping[str, Tensor]
    ) -> list[Float[Tensor, "batch d_model"]]:
        batch = cache[self.info.site].shape[0]
        W_enc = spliced_saes(model)[self.splice_site].W_enc.detach()[:, self.latent]  # [d_in]
        if self.input == "neuron_post":
            return [W_enc.new_full((batch, model.cfg.d_model), float("nan"))]
        if self.input != "neuron_pre":
            return [W_enc.expand(batch, -1)]
        direction = mlp(model, self.layer).W_in.detach() @ W_enc  # [d_model]
        scale = _scale(cache, self.info, self.token)
        return [layer_norm_read(_ln2(model, self.layer), direction.expand(batch, -1), scale)]


@dataclass(frozen=True)
class HeadScore(TracedQuantity):
    """The attention score of a head pair through its query side, its key side or both."""

    layer: int
    head: int
    query: int
    key: int
    part: ScorePart

    @property
    def info(self) -> TraceInfo:
        kind = {"query": "q", "key": "k", "qk": "attn_scores"}[self.part]
        sides = {"query": [self.query], "key": [self.key], "qk": [self.query, self.key]}
        return TraceInfo(
            f"head_{self.part}:{_attention(self.layer)}:{self.query}:{self.head}:{self.key}",
            act_name(kind, self.layer),
            self.key if self.part == "key" else self.query,
            tuple(ReadWindow(t, 0, 2 * self.layer + 1) for t in sides[self.part]),
            act_name("ln1_scale", self.layer),
        )

    def cache_names(self) -> list[str]:
        return [act_name(k, self.layer) for k in ("q", "k", "ln1_scale")]

    def _qk(self, cache: Mapping[str, Tensor]) -> tuple[Tensor, Tensor]:
        """q[query, head] and k[key, head]: [batch, d_head] each."""
        q = cache[act_name("q", self.layer)][:, self.query, self.head]
        return q, cache[act_name("k", self.layer)][:, self.key, self.head]

    def value(
        self, logits: Float[Tensor, "batch d_vocab"], cache: Mapping[str, Tensor]
    ) -> Float[Tensor, " batch"]:
        q, k = self._qk(cache)
        q = q.detach() if self.part == "key" else q
        k = k.detach() if self.part == "query" else k
        return (q * k).sum(-1) / math.sqrt(q.shape[-1])

    def read_gradients(
        self, model: Transformer, cache: Mapping[str, Tensor]
    ) -> list[Float[Tensor, "batch d_model"]]:
        q, k = (x.detach() / math.sqrt(x.shape[-1]) for x in self._qk(cache))
        b, info = block(model, self.layer), self.info
        W_Q, W_K = b.attn.W_Q.detach()[self.head], b.attn.W_K.detach()[self.head]
        query_side = layer_norm_read(b.ln1, k @ W_Q.T, _scale(cache, info, self.query))
        key_side = layer_norm_read(b.ln1, q @ W_K.T, _scale(cache, info, self.key))
        return {"query": [query_side], "key": [key_side], "qk": [query_side, key_side]}[self.part]


@dataclass(frozen=True)
class HeadValue(TracedQuantity):
    """A head pair's direct effect on `downstream` through its value vector (module docstring)."""

    layer: int
    head: int
    query: int
    key: int
    downstream: Objective
    model: Transformer = field(repr=False, compare=False)

    @property
    def info(self) -> TraceInfo:
        pair = f"{_attention(self.layer)}:{self.query}:{self.head}:{self.key}"
        return TraceInfo(
            f"head_value:{pair}->{self.downstream.name}",
            act_name("v", self.layer),
            self.key,
            (ReadWindow(self.key, 0, 2 * self.layer + 1),),
            act_name("ln1_scale", self.layer),
        )

    def cache_names(self) -> list[str]:
        own = [act_name(k, self.layer) for k in ("pattern", "v", "ln1_scale")]
        return [*own, *self.downstream.cache_names()]

    def _frozen(
        self, cache: Mapping[str, Tensor]
    ) -> tuple[Float[Tensor, " batch"], Float[Tensor, "batch d_model"]]:
        """The pair's attention probability and the downstream gradient, as constants."""
        pattern = cache[act_name("pattern", self.layer)]
        gradient = self.downstream.direct_read(self.model, cache).gradient
        return pattern[:, self.head, self.query, self.key].detach(), gradient.detach()

    def value(
        self, logits: Float[Tensor, "batch d_vocab"], cache: Mapping[str, Tensor]
    ) -> Float[Tensor, " batch"]:
        p, g = self._frozen(cache)
        v = cache[self.info.site][:, self.key, self.head]  # [batch, d_head]
        W_O = block(self.model, self.layer).attn.W_O.detach()[self.head]  # [d_head, d_model]
        return p * ((v @ W_O) * g).sum(-1)

    def read_gradients(
        self, model: Transformer, cache: Mapping[str, Tensor]
    ) -> list[Float[Tensor, "batch d_model"]]:
        p, g = self._frozen(cache)
        b = block(model, self.layer)
        W_O, W_V = b.attn.W_O.detach()[self.head], b.attn.W_V.detach()[self.head]
        direction = p[:, None] * ((g @ W_O.T) @ W_V.T)  # [batch, d_model]
        return [layer_norm_read(b.ln1, direction, _scale(cache, self.info, self.key))]


def _attention(layer: int) -> str:
    """How a traced head pair's name refers to its attention: `blocks.L.attn`."""
    return Site("pattern", layer).module

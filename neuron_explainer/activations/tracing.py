"""Tracing upstream: a node's pre-activation (or a head pair's query, key, query-key product or
value path) as the quantity whose gradient the attribution takes, to ask why that node fired.

    attribute(model, AttributionRequest(prompt, targets, distractors,
                                        trace=Trace.neuron(layer=1, token=5, neuron=17)))

The traced quantities (t the node's token; q, k a head pair's query and key tokens; sg a
stop-gradient; x the residual stream; a the activation an autoencoder reads) and their reads:

    neuron_pre  mlp.hook_pre[t, i] = LN2(x[t]) · W_in[:, i] + b_in[i]    x[t] before the MLP
    latent_pre  hook_sae_acts_pre[t, j] = (a[t] - b_dec) · W_enc[:, j] + b_enc[j]
                                                    x[t] up to the site; an attention or MLP
                                                    output holds only that sublayer's writes
    head_query  q[q, h] · sg(k[k, h]) / sqrt(d_head)                     x[q] before the attention
    head_key    sg(q[q, h]) · k[k, h] / sqrt(d_head)                     x[k] before the attention
    head_qk     q[q, h] · k[k, h] / sqrt(d_head) = hook_attn_scores      both reads
    head_value  sg(pattern[h, q, k]) (v[k, h] @ W_O[h]) · sg(g)          x[k] before the attention

For head_value, g is the gradient of a downstream quantity at its direct read (see
`direction.DirectRead`) at token q, where the pair writes: by default the request's logit
difference, or another trace (a later neuron's pre-activation, say). The value path is then the
pair's direct effect on that quantity with its attention probability and the downstream gradient
held fixed: the gradient reaches upstream nodes only through the pair's value vector at the key
token, and the node table says which nodes make the pair write what the downstream reads.

The LayerNorm a quantity reads through (ln2 for neurons and latents of MLP pre-activations, ln1 for
heads) has its scale frozen, as the final LayerNorm's is for the logit difference, so each read is
linear with a gradient (`read_gradients`) like P (w ⊙ W_in[:, i]) / s (P = I - 1 1ᵀ / d_model, w
the LayerNorm weight, s its scale). A node's direct effect is its write vector dotted with the
gradient of each read it reaches (`ReadWindow`): for head_qk the sum over both reads, the first-
order change of the bilinear score. Latents of MLP post-activations read neurons, not the residual
stream: their pre-activations' direct reads are undefined (NaN). Total effects are, as always, the
activation times the traced quantity's gradient with respect to it.

Nodes downstream of the traced quantity (firing after it in the forward pass, `forward_order`, or
at a later token than its reads) cannot change it: their total effect is zero by causality, their
direct effect is set to zero, and they are not valid nodes of the node table, which so ranks
upstream nodes only. Their activations and write magnitudes stay as computed. The traced node
itself is downstream of its own quantity; the node table pins it (`traced_node`). With a compare
prompt of another length, the right run traces the paired tokens (`shift_trace`, `alignment`).

Verification by real ablation measures the traced quantity's real change, without stop-gradients
(for head_value: with the pattern and the downstream gradient of the ablated run).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal, get_args

import torch

from neuron_explainer.activations.direction import LogitDifference, Objective
from neuron_explainer.activations.families import get_family
from neuron_explainer.activations.forward import GradientPass
from neuron_explainer.activations.metrics import SiteMetrics
from neuron_explainer.activations.nodes import Node
from neuron_explainer.activations.traced_quantities import (
    HeadScore,
    HeadValue,
    LatentPre,
    NeuronPre,
    ReadWindow,
    ScorePart,
    TracedQuantity,
)
from neuron_explainer.models.sae_splice import spliced_saes
from neuron_explainer.models.sites import Site
from neuron_explainer.models.transformer import Transformer

TraceKind = Literal["neuron_pre", "latent_pre", "head_query", "head_key", "head_qk", "head_value"]
TRACE_KINDS: tuple[TraceKind, ...] = get_args(TraceKind)
HeadPart = Literal["query", "key", "qk", "value"]
_HEAD_KINDS: dict[HeadPart, TraceKind] = {
    "query": "head_query",
    "key": "head_key",
    "qk": "head_qk",
    "value": "head_value",
}


@dataclass(frozen=True)
class Trace:
    """What to trace: `kind` (see the module docstring) of the node at `token` (heads: the query
    token) with `index` (the neuron, latent or head). Neurons and heads name their `layer`,
    latents the `site` their autoencoder is spliced at; head pairs give a `key_token`; head_value
    traces may give the `downstream` quantity their value path is projected on (default: the
    request's logit difference). Negative tokens count from the end of the prompt."""

    kind: TraceKind
    token: int
    index: int
    layer: int | None = None
    key_token: int | None = None
    site: str | None = None
    downstream: Trace | None = None

    def __post_init__(self) -> None:
        if self.kind not in TRACE_KINDS:
            raise ValueError(f"Unknown trace kind {self.kind!r}; expected one of {TRACE_KINDS}")
        is_head = self.kind.startswith("head_")
        if is_head != (self.key_token is not None):
            raise ValueError(f"{self.kind} traces {'need' if is_head else 'take no'} a key_token")
        is_latent = self.kind == "latent_pre"
        if is_latent != (self.site is not None) or is_latent == (self.layer is not None):
            needs = "their autoencoder's site, not a layer" if is_latent else "a layer, not a site"
            raise ValueError(f"{self.kind} traces name {needs}")
        if self.downstream is not None and self.kind != "head_value":
            raise ValueError(f"Only head_value traces take a downstream quantity, not {self.kind}")
        if self.index < 0:
            raise ValueError(f"A trace's index is non-negative, got {self.index}")

    @classmethod
    def neuron(cls, layer: int, token: int, neuron: int) -> Trace:
        return cls("neuron_pre", token, neuron, layer=layer)

    @classmethod
    def latent(cls, splice_site: str, token: int, latent: int) -> Trace:
        return cls("latent_pre", token, latent, site=splice_site)

    @classmethod
    def head(
        cls,
        part: HeadPart,
        layer: int,
        head: int,
        query: int,
        key: int,
        downstream: Trace | None = None,
    ) -> Trace:
        if part not in _HEAD_KINDS:
            raise ValueError(f"Unknown head part {part!r}; expected one of {list(_HEAD_KINDS)}")
        return cls(_HEAD_KINDS[part], query, head, layer, key, downstream=downstream)

    @classmethod
    def of_node(
        cls, node: Node, part: HeadPart | None = None, downstream: Trace | None = None
    ) -> Trace:
        """The trace of a node of the node table: a neuron's or latent's pre-activation, or the
        `part` of a head pair."""
        traced_by = get_family(node.family).traced_by
        if traced_by == "head_pair":
            if part is None or node.layer is None or node.key_token is None:
                raise ValueError(f"Tracing head pair {node.id} needs a part of {list(_HEAD_KINDS)}")
            return cls.head(part, node.layer, node.index, node.token, node.key_token, downstream)
        if part is not None or downstream is not None:
            raise ValueError(f"Only head pairs take a part or a downstream quantity, not {node.id}")
        if traced_by == "neuron_pre" and node.layer is not None:
            return cls.neuron(node.layer, node.token, node.index)
        if traced_by == "latent_pre":
            return cls.latent(Site.parse(node.site).splice.name, node.token, node.index)
        raise ValueError(f"{node.id} has no pre-activation to trace")


# ---- building and checking traces -----------------------------------------------------------


def trace_objective(
    model: Transformer, trace: Trace, pos: int, logit_difference: LogitDifference
) -> TracedQuantity:
    """The objective of `trace` on a prompt of `pos` tokens; checks layers, indices and tokens
    against the model and the prompt. `logit_difference` is head_value's default downstream."""
    return _BUILDERS[trace.kind](model, trace, pos, logit_difference)


def traced_node(model: Transformer, trace: Trace, pos: int) -> Node:
    """The node whose quantity `trace` traces, on a prompt of `pos` tokens (checked by
    `trace_objective` first). The node table pins it: it is downstream of its own quantity, so
    it is never ranked, but its values are what the trace explains."""
    token = _token(trace.token, pos, "token")
    if trace.kind == "latent_pre":
        assert trace.site is not None  # checked by Trace
        return Node.latent(trace.site, token, trace.index)
    layer = _layer(model, trace)
    if trace.kind == "neuron_pre":
        return Node.neuron(layer, token, trace.index)
    assert trace.key_token is not None  # checked by Trace
    return Node.head(layer, trace.index, token, _token(trace.key_token, pos, "key token"))


def shift_trace(trace: Trace, pos: int, offset: int) -> Trace:
    """`trace` (on a prompt of `pos` tokens) moved to a second prompt whose token i + offset
    pairs with its token i (`alignment`): its tokens, and its downstream quantity's, resolved
    and shifted; a token with no pair in the second prompt is an error."""

    def shifted(token: int, what: str) -> int:
        resolved = _token(token, pos, what)
        if resolved + offset < 0:
            raise ValueError(
                f"The traced {what} {token} (token {resolved} of the prompt) has no paired "
                f"token in the compare prompt, which is {-offset} tokens shorter: the prompts "
                f"are right-aligned, so the compare prompt starts at the prompt's token "
                f"{-offset}. Trace a later token, or lengthen the compare prompt"
            )
        return resolved + offset

    key = None if trace.key_token is None else shifted(trace.key_token, "key token")
    downstream = None if trace.downstream is None else shift_trace(trace.downstream, pos, offset)
    return replace(trace, token=shifted(trace.token, "token"), key_token=key, downstream=downstream)


def _in_range(value: int, high: int, what: str) -> int:
    if not 0 <= value < high:
        raise ValueError(f"{what} {value} is out of range [0, {high})")
    return value


def _token(token: int, pos: int, what: str) -> int:
    resolved = token + pos if token < 0 else token
    if not 0 <= resolved < pos:
        raise ValueError(
            f"Trace {what} {token} is outside a prompt of {pos} tokens; valid: [{-pos}, {pos})"
        )
    return resolved


def _layer(model: Transformer, trace: Trace) -> int:
    assert trace.layer is not None  # checked by Trace
    return _in_range(trace.layer, model.cfg.n_layers, "Trace layer")


def _pair(model: Transformer, trace: Trace, pos: int) -> tuple[int, int, int, int]:
    """Layer, head, query and key of a head trace."""
    layer = _layer(model, trace)
    head = _in_range(trace.index, model.cfg.n_heads, "Head")
    query = _token(trace.token, pos, "query token")
    assert trace.key_token is not None  # checked by Trace
    key = _token(trace.key_token, pos, "key token")
    if key > query:
        raise ValueError(f"Key token {key} comes after query token {query}; keys: [0, {query}]")
    return layer, head, query, key


def _neuron_pre(
    model: Transformer, trace: Trace, pos: int, logit_difference: LogitDifference
) -> TracedQuantity:
    layer = _layer(model, trace)
    if model.cfg.attn_only:
        raise ValueError("The model is attention-only: it has no MLP neurons to trace")
    neuron = _in_range(trace.index, model.cfg.d_mlp, "Neuron")
    return NeuronPre(layer, _token(trace.token, pos, "token"), neuron)


def _latent_pre(
    model: Transformer, trace: Trace, pos: int, logit_difference: LogitDifference
) -> TracedQuantity:
    saes = spliced_saes(model)
    if trace.site not in saes:
        raise ValueError(f"No autoencoder is spliced at {trace.site!r}; spliced: {sorted(saes)}")
    latent = _in_range(trace.index, saes[trace.site].cfg.d_sae, "Latent")
    site = Site.parse(trace.site)  # attach_sae checks sites
    token = _token(trace.token, pos, "token")
    assert site.layer is not None
    return LatentPre(trace.site, site.layer, token, latent, site.splice_input)


def _head_score(
    model: Transformer, trace: Trace, pos: int, logit_difference: LogitDifference
) -> TracedQuantity:
    parts: dict[str, ScorePart] = {"head_query": "query", "head_key": "key", "head_qk": "qk"}
    return HeadScore(*_pair(model, trace, pos), parts[trace.kind])


def _head_value(
    model: Transformer, trace: Trace, pos: int, logit_difference: LogitDifference
) -> TracedQuantity:
    layer, head, query, key = _pair(model, trace, pos)
    downstream: Objective = logit_difference
    windows = (ReadWindow(logit_difference.position, 0, 2 * model.cfg.n_layers + 1),)
    if trace.downstream is not None:
        traced = trace_objective(model, trace.downstream, pos, logit_difference)
        if len(traced.info.windows) != 1 or not traced.info.linear:
            raise ValueError(
                f"The downstream quantity {traced.name} has no single linear read of the "
                "residual stream to project a value path on"
            )
        downstream, windows = traced, traced.info.windows
    window, writes_at = windows[0], 2 * layer + 1
    if window.position != query or not window.first_sublayer <= writes_at < window.before_sublayer:
        raise ValueError(
            f"Head pair {head} of layer {layer} writes at token {query} in sublayer {writes_at}, "
            f"but {downstream.name} reads token {window.position} from sublayers "
            f"[{window.first_sublayer}, {window.before_sublayer}): the value path has no direct "
            "effect on it"
        )
    return HeadValue(layer, head, query, key, downstream, model)


Builder = Callable[[Transformer, Trace, int, LogitDifference], TracedQuantity]
_BUILDERS: dict[TraceKind, Builder] = {
    "neuron_pre": _neuron_pre,
    "latent_pre": _latent_pre,
    "head_query": _head_score,
    "head_key": _head_score,
    "head_qk": _head_score,
    "head_value": _head_value,
}


# ---- metrics of a traced quantity ---------------------------------------------------------------


def traced_metrics(
    model: Transformer,
    quantity: TracedQuantity,
    run: GradientPass,
    metrics: Sequence[SiteMetrics],
) -> list[SiteMetrics]:
    """`metrics`, computed with the quantity's first read, with direct effects summed over its
    reads within their windows and only upstream nodes valid (module docstring)."""
    reads = quantity.reads(model, run.cache)
    out = []
    for m in metrics:
        direct = torch.zeros_like(m.direct_effect)
        for i, (window, read) in enumerate(zip(quantity.info.windows, reads, strict=True)):
            if not window.first_sublayer <= m.site.sublayer < window.before_sublayer:
                continue
            if i == 0:  # `compute_metrics` used the first read
                direct = direct + m.direct_effect
                continue
            family = get_family(m.site.family)
            again = family.metrics(model, m.site, run.cache, run.grads[m.site.site], read)
            direct = direct + again.direct_effect
        upstream = quantity.upstream(model, m.site, tuple(m.valid.shape)).to(m.valid.device)
        out.append(
            replace(m, direct_effect=torch.where(upstream, direct, 0.0), valid=m.valid & upstream)
        )
    return out

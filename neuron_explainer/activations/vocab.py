"""Tables over the vocabulary: next-token logits, and the tokens a node promotes or reads.

Output tokens of a node: its write direction w (per unit activation) read by the unembedding
along the direct path, through the final LayerNorm's centring and weight with its scale left
out: scores = (P w ⊙ ln_final.w) @ W_U. Write directions: W_E[token] (embedding), W_out[i]
(neuron), v[k, h] @ W_O[h] (head pair, from the left run), the latent's write direction
(none for autoencoders on MLP pre-activations); each family's `write_directions`.

Input tokens of a neuron or latent, an approximation: the token embeddings read directly by
the node's input direction r, ignoring position embeddings, earlier layers and the LayerNorm
scale: scores = W_E @ r, with r = P (ln2.w ⊙ W_in[:, i]) for a neuron, the encoder column
W_enc[:, j] for a latent of an autoencoder on the residual stream, and P (ln2.w ⊙ W_in W_enc[:, j])
for one on MLP pre-activations (each family's `read_directions`). Other nodes have no input
tokens.

`direct_path_scores` is the one place the direct path to the logits is computed; the collated
logit tables (`datasets.logits`) use it too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from jaxtyping import Float, Int
from torch import Tensor

from neuron_explainer.activations.direction import centre, ln_weight
from neuron_explainer.activations.families import NodeIndex, get_family
from neuron_explainer.activations.nodes import Node
from neuron_explainer.models.token_text import text_strings
from neuron_explainer.models.transformer import Transformer

CHUNK = 256  # nodes per [chunk, d_vocab] score matrix


@dataclass(frozen=True)
class TokenScore:
    token: int
    string: str
    value: float


@dataclass(frozen=True)
class TokenLogit:
    token: int
    string: str
    logit: float
    probability: float
    rank: int  # 0 for the most likely next token
    role: Literal["target", "distractor"] | None


@dataclass(frozen=True)
class NodeTokens:
    output_top: list[TokenScore] | None
    output_bottom: list[TokenScore] | None
    input_top: list[TokenScore] | None


def token_strings(model: Transformer, ids: Sequence[int]) -> list[str]:
    """Display strings of the consecutive tokens of one text (a prompt, a sample), so that a
    character split over byte-level tokens reads whole (`text_strings`); `<id>` when the model
    has no tokenizer. For tokens that are not one text (top logits), `vocabulary_strings`."""
    if model.tokenizer is None:
        return [f"<{int(i)}>" for i in ids]
    tokenizer = model.tokenizer
    return text_strings([tokenizer.decode_bytes([int(i)]) for i in ids])


def vocabulary_strings(model: Transformer, ids: Sequence[int]) -> list[str]:
    """Display strings of unrelated tokens, each on its own: a byte that is not a whole
    character is escaped (e.g. '\\xe2'); `<id>` when the model has no tokenizer."""
    if model.tokenizer is None:
        return [f"<{int(i)}>" for i in ids]
    return model.tokenizer.token_strings([int(i) for i in ids])


def first_token_hint(model: Transformer, ids: Sequence[int]) -> str:
    """What to give instead of a text of several tokens (`ids`): the first token's text when
    typing it gives that token, else its id (a token that is part of a character, such as the
    first byte of an emoji, has no text to type)."""
    [first] = vocabulary_strings(model, ids[:1])
    tokenizer = model.tokenizer
    if tokenizer is not None and tokenizer.encode(first) == [int(ids[0])]:
        return repr(first)
    return f"the id {int(ids[0])} (its first token, part of a character)"


def next_token_logits(
    model: Transformer,
    logits: Float[Tensor, " d_vocab"],
    n: int,
    targets: Sequence[int],
    distractors: Sequence[int],
) -> list[TokenLogit]:
    """The n most likely next tokens, then any target or distractor not among them."""
    probs = logits.double().softmax(-1)
    order = logits.argsort(descending=True)
    rank = torch.empty_like(order)
    rank[order] = torch.arange(order.numel(), device=order.device)
    shown = order[:n].tolist()
    shown += [t for t in [*targets, *distractors] if t not in shown]
    strings = vocabulary_strings(model, shown)
    roles: dict[int, Literal["target", "distractor"]] = {d: "distractor" for d in distractors}
    roles.update({t: "target" for t in targets})
    return [
        TokenLogit(t, s, float(logits[t]), float(probs[t]), int(rank[t]), roles.get(t))
        for t, s in zip(shown, strings, strict=True)
    ]


def node_token_tables(
    model: Transformer,
    nodes: Sequence[Node],
    tokens: Int[Tensor, " pos"],
    cache: Mapping[str, Tensor],
    n: int,
) -> list[NodeTokens]:
    """Output tokens (top and bottom n) and input tokens (top n) of each node; `cache` holds the
    left run's activations (batch row 0), from which head write directions are taken."""
    if not nodes:
        return []
    with torch.no_grad():
        out_dirs = _write_directions(model, nodes, tokens, cache)
        in_dirs = _read_directions(model, nodes)
        W_E = model.W_E.detach()
        tops, bottoms, inputs = [], [], []
        for start in range(0, len(nodes), CHUNK):
            chunk = slice(start, start + CHUNK)
            out_scores = direct_path_scores(model, out_dirs[chunk])  # [chunk, d_vocab]
            tops += _top(model, out_scores, n)
            bottoms += _top(model, out_scores, n, largest=False)
            inputs += _top(model, in_dirs[chunk] @ W_E.T, n)
    return [NodeTokens(*row) for row in zip(tops, bottoms, inputs, strict=True)]


def _top(
    model: Transformer, scores: Float[Tensor, "n d_vocab"], n: int, largest: bool = True
) -> list[list[TokenScore] | None]:
    """Per row, the n largest (or smallest) scores with their tokens; None for a row that is not
    defined (NaN: a node with no such direction)."""
    values, ids = scores.topk(min(n, scores.shape[-1]), dim=-1, largest=largest)
    out: list[list[TokenScore] | None] = []
    for row_values, row_ids, defined in zip(
        values.tolist(), ids.tolist(), values.isfinite().all(-1).tolist(), strict=True
    ):
        strings = vocabulary_strings(model, row_ids)
        out.append(
            [TokenScore(t, s, v) for t, s, v in zip(row_ids, strings, row_values, strict=True)]
            if defined
            else None
        )
    return out


def direct_path_scores(
    model: Transformer, directions: Float[Tensor, "n d_model"]
) -> Float[Tensor, "n d_vocab"]:
    """The logits written directions add along the direct path: through the final LayerNorm's
    centring and weight, its scale left out: (P w ⊙ ln_final.w) @ W_U."""
    W_U = model.W_U.detach()
    return (centre(directions.to(W_U.dtype)) * ln_weight(model, None)) @ W_U


def _ids(model: Transformer, values: list[int]) -> Tensor:
    return torch.tensor(values, dtype=torch.long, device=model.device)


def _groups(nodes: Sequence[Node]) -> dict[tuple[str, str], list[int]]:
    groups: dict[tuple[str, str], list[int]] = {}
    for i, node in enumerate(nodes):
        groups.setdefault((node.family, node.site), []).append(i)
    return groups


def _write_directions(
    model: Transformer, nodes: Sequence[Node], tokens: Tensor, cache: Mapping[str, Tensor]
) -> Float[Tensor, "n d_model"]:
    out = torch.full(
        (len(nodes), model.cfg.d_model), float("nan"), dtype=model.dtype, device=model.device
    )
    for (family, site), members in _groups(nodes).items():
        chosen = [nodes[i] for i in members]
        index = NodeIndex(
            _ids(model, [n.index for n in chosen]),
            tokens[_ids(model, [n.token for n in chosen])],
            _ids(model, [n.key_token or 0 for n in chosen]),
        )
        directions = get_family(family).write_directions(model, site, index, cache)
        if directions is not None:
            out[_ids(model, members)] = directions
    return out


def _read_directions(model: Transformer, nodes: Sequence[Node]) -> Float[Tensor, "n d_model"]:
    out = torch.full(
        (len(nodes), model.cfg.d_model), float("nan"), dtype=model.dtype, device=model.device
    )
    for (family, site), members in _groups(nodes).items():
        index = _ids(model, [nodes[i].index for i in members])
        directions = get_family(family).read_directions(model, site, index)
        if directions is not None:
            out[_ids(model, members)] = directions
    return out

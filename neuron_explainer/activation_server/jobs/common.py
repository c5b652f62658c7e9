"""Checks of user input against the loaded model, with messages that say how to fix it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from neuron_explainer.activation_server.engine import Engine
from neuron_explainer.activation_server.errors import BadRequestError, user_errors
from neuron_explainer.activation_server.schemas import ComponentSpec
from neuron_explainer.activations.families import get_family
from neuron_explainer.activations.vocab import first_token_hint, vocabulary_strings
from neuron_explainer.models import Transformer
from neuron_explainer.models.sites import Site


def encode(model: Transformer, prompt: str | Sequence[int], what: str = "prompt") -> list[int]:
    """Token ids of a prompt given as text or ids, within the model's context and vocabulary."""
    if isinstance(prompt, str):
        if model.tokenizer is None:
            raise BadRequestError(f"This model has no tokenizer; give the {what} as token ids")
        ids = model.tokenizer.encode(prompt)
    else:
        ids = list(prompt)
    cfg = model.cfg
    if not ids:
        raise BadRequestError(f"The {what} encodes to no tokens; give some text")
    if len(ids) > cfg.n_ctx:
        raise BadRequestError(
            f"The {what} is {len(ids)} tokens, over the model's context of {cfg.n_ctx} tokens; "
            "shorten it"
        )
    bad = [i for i in ids if i >= cfg.d_vocab]
    if bad:
        raise BadRequestError(
            f"Token id {bad[0]} in the {what} is outside the vocabulary [0, {cfg.d_vocab})"
        )
    return ids


def single_tokens(model: Transformer, tokens: Sequence[int | str], what: str) -> list[int]:
    """Ids of target or distractor tokens, each given as an id or as the text of one token."""
    out = []
    for token in tokens:
        if isinstance(token, int):
            if token >= model.cfg.d_vocab:
                raise BadRequestError(
                    f"{what} id {token} is outside the vocabulary [0, {model.cfg.d_vocab})"
                )
            out.append(token)
            continue
        ids = encode(model, token, what.lower())
        if len(ids) != 1:
            strings = vocabulary_strings(model, ids)
            raise BadRequestError(
                f"{what} {token!r} is {len(ids)} tokens, not one: {strings} (ids {ids}); give a "
                f"single token, e.g. {first_token_hint(model, ids)}, or a token id"
            )
        out.append(ids[0])
    return out


def check_layer(model: Transformer, layer: int | None, what: str) -> int:
    n = model.cfg.n_layers
    if layer is None:
        raise BadRequestError(f"{what} needs a layer in 0..{n - 1}")
    if not 0 <= layer < n:
        raise BadRequestError(f"Layer {layer} is out of range: the model has layers 0..{n - 1}")
    return layer


def check_index(index: int, size: int, what: str) -> None:
    if not 0 <= index < size:
        raise BadRequestError(f"{what} {index} is out of range: valid indices are 0..{size - 1}")


@dataclass(frozen=True)
class Component:
    family: str
    site: str  # the hook site of its activation
    layer: int | None
    index: int
    sae_site: str | None = None  # latents: their autoencoder's site


def resolve_component(engine: Engine, spec: ComponentSpec) -> Component:
    model, cfg = engine.model, engine.model.cfg
    family = get_family(spec.family)
    if family.by_autoencoder:
        if spec.site not in engine.saes:
            sites = ", ".join(engine.saes) or "none (the server runs without autoencoders)"
            raise BadRequestError(
                f"Latents are named by their autoencoder's site; this server has autoencoders "
                f"at: {sites}; got site {spec.site!r}"
            )
        check_index(spec.index, engine.saes[spec.site].cfg.d_sae, f"Latent of {spec.site}")
        at = Site.parse(spec.site)
        return Component(family.node_family, at.autoencoder().name, at.layer, spec.index, spec.site)
    if spec.site is not None:
        raise BadRequestError(f"A {spec.family} is named by its layer and index, not by a site")
    layer = check_layer(model, spec.layer, f"A {spec.family}")
    with user_errors():
        site = family.layer_site(cfg, layer)
    name = family.display_name.capitalize()
    check_index(spec.index, family.width(model, site), f"{name} of layer {layer}")
    return Component(family.node_family, site, layer, spec.index)

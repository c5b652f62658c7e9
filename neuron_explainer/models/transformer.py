"""GPT-2, readable top to bottom: LayerNorm, attention, MLP, block, model.

Hook names follow TransformerLens's grammar, and each hook site is named for where it sits on the
residual stream, so reading `forward` tells you every hook name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from jaxtyping import Bool, Float, Int
from torch import Tensor, nn

from neuron_explainer.models.config import TransformerConfig
from neuron_explainer.models.hooks import (
    HookPoint,
    HookRegistry,
    HookSpec,
    NameFilter,
    is_active,
)

if TYPE_CHECKING:
    from neuron_explainer.models.tokenizers import Tokenizer

# Public entry points take a tensor or (nested) lists of ints and validate them themselves.
TokensLike = Tensor | Sequence[Any]
INIT_STD = 0.02
ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
    "gelu": F.gelu,
    "relu": F.relu,
}


@dataclass
class AttentionMask:
    """Which keys each query may attend to; `None` means plain causal attention."""

    mask: Bool[Tensor, "batch 1 query_pos key_pos"] | None
    query_len: int
    key_len: int

    def as_bool(self, device: torch.device) -> Bool[Tensor, "batch 1 query_pos key_pos"]:
        if self.mask is not None:
            return self.mask
        return causal_mask(self.query_len, self.key_len, device)[None, None]


def affine(x: Float[Tensor, "... d_in"], W: Float[Tensor, "d_in d_out"], b: Tensor) -> Tensor:
    """x @ W + b as one fused multiply-add (saves a pass over the output)."""
    out = torch.addmm(b, x.reshape(-1, x.shape[-1]), W)
    return out.view(*x.shape[:-1], W.shape[-1])


def causal_mask(query_len: int, key_len: int, device: torch.device) -> Bool[Tensor, "q k"]:
    """Query i (the last `query_len` of `key_len` positions) sees keys up to its own position."""
    offset = key_len - query_len
    q = torch.arange(query_len, device=device)[:, None] + offset
    k = torch.arange(key_len, device=device)[None, :]
    return k <= q


class KVCache:
    """Keys and values of earlier positions, per layer, for incremental decoding."""

    def __init__(self, n_layers: int, attention_mask: Int[Tensor, "batch pos"] | None) -> None:
        self.keys: list[Tensor | None] = [None] * n_layers
        self.values: list[Tensor | None] = [None] * n_layers
        self.attention_mask = attention_mask  # covers past and current positions once extended

    @property
    def length(self) -> int:
        k = self.keys[0]
        return 0 if k is None else k.shape[1]


class LayerNorm(nn.Module):
    def __init__(self, cfg: TransformerConfig, name: str) -> None:
        super().__init__()
        self.eps = cfg.ln_eps
        self.w: nn.Parameter | None = None
        self.b: nn.Parameter | None = None
        if cfg.normalization == "LN":
            self.w = nn.Parameter(torch.ones(cfg.d_model))
            self.b = nn.Parameter(torch.zeros(cfg.d_model))
        self.hook_scale = HookPoint(f"{name}.hook_scale")  # [batch, pos, 1]
        # Centred and divided by the scale, before the affine part (as in TransformerLens).
        self.hook_normalized = HookPoint(f"{name}.hook_normalized")  # [batch, pos, d_model]

    def forward(self, x: Float[Tensor, "batch pos d_model"]) -> Float[Tensor, "batch pos d_model"]:
        scale_idle = not is_active(self.hook_scale)
        if scale_idle and not is_active(self.hook_normalized):
            return F.layer_norm(x, x.shape[-1:], self.w, self.b, self.eps)
        if scale_idle:
            x = F.layer_norm(x, x.shape[-1:], None, None, self.eps)
        else:
            x = x - x.mean(-1, keepdim=True)
            x = x / self.hook_scale((x.pow(2).mean(-1, keepdim=True) + self.eps).sqrt())
        x = self.hook_normalized(x)
        if self.w is not None and self.b is not None:
            x = x * self.w + self.b
        return x


class Attention(nn.Module):
    def __init__(self, cfg: TransformerConfig, layer: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.layer = layer
        h, d, dh = cfg.n_heads, cfg.d_model, cfg.d_head
        # Q, K and V weights live in one tensor so that one matmul computes all three.
        self.W_QKV = nn.Parameter(torch.randn(d, 3, h, dh) * INIT_STD)
        self.b_QKV = nn.Parameter(torch.zeros(3, h, dh))
        self.W_O = nn.Parameter(torch.randn(h, dh, d) * INIT_STD / math.sqrt(2 * cfg.n_layers))
        self.b_O = nn.Parameter(torch.zeros(d))
        prefix = f"blocks.{layer}.attn"
        self.hook_q = HookPoint(f"{prefix}.hook_q")  # [batch, pos, head, d_head]
        self.hook_k = HookPoint(f"{prefix}.hook_k")
        self.hook_v = HookPoint(f"{prefix}.hook_v")
        self.hook_attn_scores = HookPoint(f"{prefix}.hook_attn_scores")  # [batch, head, q, k]
        self.hook_pattern = HookPoint(f"{prefix}.hook_pattern")
        self.hook_z = HookPoint(f"{prefix}.hook_z")  # [batch, pos, head, d_head]

    # Per-head views of the fused weights, in TransformerLens's layout.
    @property
    def W_Q(self) -> Float[Tensor, "head d_model d_head"]:
        return self.W_QKV[:, 0].transpose(0, 1)

    @property
    def W_K(self) -> Float[Tensor, "head d_model d_head"]:
        return self.W_QKV[:, 1].transpose(0, 1)

    @property
    def W_V(self) -> Float[Tensor, "head d_model d_head"]:
        return self.W_QKV[:, 2].transpose(0, 1)

    @property
    def b_Q(self) -> Float[Tensor, "head d_head"]:
        return self.b_QKV[0]

    @property
    def b_K(self) -> Float[Tensor, "head d_head"]:
        return self.b_QKV[1]

    @property
    def b_V(self) -> Float[Tensor, "head d_head"]:
        return self.b_QKV[2]

    def forward(
        self,
        x: Float[Tensor, "batch pos d_model"],
        mask: AttentionMask,
        kv_cache: KVCache | None = None,
    ) -> Float[Tensor, "batch pos d_model"]:
        batch, pos, _ = x.shape
        h, dh = self.cfg.n_heads, self.cfg.d_head
        qkv = affine(x, self.W_QKV.view(self.cfg.d_model, -1), self.b_QKV.view(-1))
        q, k, v = qkv.view(batch, pos, 3, h, dh).unbind(2)
        q, k, v = self.hook_q(q), self.hook_k(k), self.hook_v(v)
        if kv_cache is not None:
            past_k, past_v = kv_cache.keys[self.layer], kv_cache.values[self.layer]
            if past_k is not None and past_v is not None:
                k, v = torch.cat([past_k, k], dim=1), torch.cat([past_v, v], dim=1)
            kv_cache.keys[self.layer], kv_cache.values[self.layer] = k, v

        if (
            self.hook_attn_scores.fwd_fns
            or self.hook_attn_scores.bwd_fns
            or (self.hook_pattern.fwd_fns or self.hook_pattern.bwd_fns)
        ):
            scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(dh)
            allowed = mask.as_bool(x.device)
            scores = scores.masked_fill(~allowed, float("-inf"))
            scores = self.hook_attn_scores(scores)
            pattern = self.hook_pattern(torch.softmax(scores, dim=-1))
            z = torch.einsum("bhqk,bkhd->bqhd", pattern, v)
        else:
            # The fused kernel computes the same softmax(q k^T / sqrt(d_head)) v.
            z = F.scaled_dot_product_attention(
                q.transpose(1, 2),
                k.transpose(1, 2),
                v.transpose(1, 2),
                attn_mask=mask.mask,
                is_causal=mask.mask is None and mask.query_len == mask.key_len,
            ).transpose(1, 2)
        z = self.hook_z(z)
        return affine(z.reshape(batch, pos, h * dh), self.W_O.view(h * dh, -1), self.b_O)


class MLP(nn.Module):
    def __init__(self, cfg: TransformerConfig, layer: int) -> None:
        super().__init__()
        self.W_in = nn.Parameter(torch.randn(cfg.d_model, cfg.d_mlp) * INIT_STD)
        self.b_in = nn.Parameter(torch.zeros(cfg.d_mlp))
        self.W_out = nn.Parameter(
            torch.randn(cfg.d_mlp, cfg.d_model) * INIT_STD / math.sqrt(2 * cfg.n_layers)
        )
        self.b_out = nn.Parameter(torch.zeros(cfg.d_model))
        self.act = ACTIVATIONS[cfg.act_fn]
        self.hook_pre = HookPoint(f"blocks.{layer}.mlp.hook_pre")  # [batch, pos, d_mlp]
        self.hook_post = HookPoint(f"blocks.{layer}.mlp.hook_post")

    def forward(self, x: Float[Tensor, "batch pos d_model"]) -> Float[Tensor, "batch pos d_model"]:
        pre = self.hook_pre(affine(x, self.W_in, self.b_in))
        post = self.hook_post(self.act(pre))
        return affine(post, self.W_out, self.b_out)


class Block(nn.Module):
    def __init__(self, cfg: TransformerConfig, layer: int) -> None:
        super().__init__()
        prefix = f"blocks.{layer}"
        self.ln1 = LayerNorm(cfg, f"{prefix}.ln1")
        self.attn = Attention(cfg, layer)
        self.hook_resid_pre = HookPoint(f"{prefix}.hook_resid_pre")
        self.hook_attn_out = HookPoint(f"{prefix}.hook_attn_out")
        self.hook_resid_post = HookPoint(f"{prefix}.hook_resid_post")
        self.ln2: LayerNorm | None = None
        self.mlp: MLP | None = None
        if not cfg.attn_only:
            self.ln2 = LayerNorm(cfg, f"{prefix}.ln2")
            self.mlp = MLP(cfg, layer)
            self.hook_resid_mid = HookPoint(f"{prefix}.hook_resid_mid")
            self.hook_mlp_out = HookPoint(f"{prefix}.hook_mlp_out")

    def forward(
        self,
        resid_pre: Float[Tensor, "batch pos d_model"],
        mask: AttentionMask,
        kv_cache: KVCache | None = None,
    ) -> Float[Tensor, "batch pos d_model"]:
        resid_pre = self.hook_resid_pre(resid_pre)
        attn_out = self.hook_attn_out(self.attn(self.ln1(resid_pre), mask, kv_cache))
        if self.mlp is None or self.ln2 is None:
            return self.hook_resid_post(resid_pre + attn_out)
        resid_mid = self.hook_resid_mid(resid_pre + attn_out)
        mlp_out = self.hook_mlp_out(self.mlp(self.ln2(resid_mid)))
        return self.hook_resid_post(resid_mid + mlp_out)


class Transformer(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.W_E = nn.Parameter(torch.randn(cfg.d_vocab, cfg.d_model) * INIT_STD)
        self.W_pos = nn.Parameter(torch.randn(cfg.n_ctx, cfg.d_model) * INIT_STD / 2)
        self.blocks = nn.ModuleList([Block(cfg, layer) for layer in range(cfg.n_layers)])
        self.ln_final = LayerNorm(cfg, "ln_final")
        self.W_U_untied: nn.Parameter | None = None
        if not cfg.tied_embeddings:
            self.W_U_untied = nn.Parameter(torch.randn(cfg.d_model, cfg.d_vocab) * INIT_STD)
        self.b_U = nn.Parameter(torch.zeros(cfg.d_vocab))
        self.hook_embed = HookPoint("hook_embed")  # [batch, pos, d_model]
        self.hook_pos_embed = HookPoint("hook_pos_embed")
        self.hook_points = HookRegistry()
        for point in self._own_hook_points():
            self.hook_points.add(point)
        self.tokenizer: Tokenizer | None = None

    def _own_hook_points(self) -> Iterator[HookPoint]:
        for module in self.modules():
            for value in vars(module).values():
                if isinstance(value, HookPoint):
                    yield value

    @property
    def W_U(self) -> Float[Tensor, "d_model d_vocab"]:
        return self.W_E.T if self.W_U_untied is None else self.W_U_untied

    @property
    def device(self) -> torch.device:
        return self.W_E.device

    @property
    def dtype(self) -> torch.dtype:
        return self.W_E.dtype

    def hook_names(self) -> list[str]:
        return self.hook_points.names()

    # ---- staged forward -------------------------------------------------------------------------

    def embed(
        self,
        tokens: Int[Tensor, "batch pos"],
        attention_mask: Int[Tensor, "batch key_pos"] | None = None,
        past_length: int = 0,
    ) -> Float[Tensor, "batch pos d_model"]:
        """Token plus position embedding. With a mask (over past and current positions),
        positions count only unmasked tokens."""
        batch, pos = tokens.shape
        if attention_mask is None:
            positions = torch.arange(past_length, past_length + pos, device=tokens.device)
            positions = positions.expand(batch, pos)
        else:  # the mask covers past and current positions
            positions = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)[:, -pos:]
        embed = self.hook_embed(self.W_E[tokens])
        pos_embed = self.hook_pos_embed(self.W_pos[positions])
        return embed + pos_embed

    def run_blocks(
        self,
        resid: Float[Tensor, "batch pos d_model"],
        start_layer: int = 0,
        stop_layer: int | None = None,
        attention_mask: Int[Tensor, "batch key_pos"] | None = None,
        kv_cache: KVCache | None = None,
    ) -> Float[Tensor, "batch pos d_model"]:
        """Blocks `start_layer` up to (not including) `stop_layer`; returns that residual stream."""
        stop = self.cfg.n_layers if stop_layer is None else stop_layer
        if not 0 <= start_layer <= stop <= self.cfg.n_layers:
            raise ValueError(
                f"Need 0 <= start_layer <= stop_layer <= {self.cfg.n_layers}, "
                f"got start_layer={start_layer}, stop_layer={stop_layer}"
            )
        past = 0 if kv_cache is None else kv_cache.length
        mask = build_attention_mask(attention_mask, resid.shape[1], past + resid.shape[1])
        for block in self.blocks[start_layer:stop]:
            resid = block(resid, mask, kv_cache)
        return resid

    def unembed(
        self, resid: Float[Tensor, "batch pos d_model"]
    ) -> Float[Tensor, "batch pos d_vocab"]:
        """Final LayerNorm, then the unembedding."""
        return affine(self.ln_final(resid), self.W_U, self.b_U)

    def forward(
        self,
        tokens: TokensLike,
        attention_mask: Int[Tensor, "batch pos"] | None = None,
        stop_at_layer: int | None = None,
    ) -> Tensor:
        """Logits [batch, pos, d_vocab]; with `stop_at_layer=L`, the residual before block L."""
        tokens = self.check_tokens(tokens)
        if attention_mask is not None:
            attention_mask = check_attention_mask(attention_mask, tokens)
        resid = self.embed(tokens, attention_mask)
        resid = self.run_blocks(resid, 0, stop_at_layer, attention_mask)
        if stop_at_layer is not None:
            return resid
        return self.unembed(resid)

    def check_tokens(self, tokens: TokensLike, past_length: int = 0) -> Int[Tensor, "batch pos"]:
        """Validate token ids up front, so bad input fails clearly rather than deep in torch."""
        if not isinstance(tokens, Tensor):
            try:
                tokens = torch.tensor(tokens, dtype=torch.long)
            except (TypeError, ValueError) as e:
                raise TypeError(f"tokens must be a tensor or nested lists of ints ({e})") from None
        if tokens.dtype.is_floating_point or tokens.dtype == torch.bool or tokens.is_complex():
            raise TypeError(f"tokens must be integer token ids, got dtype {tokens.dtype}")
        if tokens.ndim == 1:
            tokens = tokens[None]
        if tokens.ndim != 2:
            raise ValueError(
                f"tokens must have shape [batch, pos] or [pos], got {tuple(tokens.shape)}"
            )
        if tokens.numel() == 0:
            raise ValueError(
                f"tokens is empty (shape {tuple(tokens.shape)}); give at least one token"
            )
        total = past_length + tokens.shape[1]
        if total > self.cfg.n_ctx:
            raise ValueError(
                f"Sequence of {total} tokens is longer than the model's context of {self.cfg.n_ctx}"
            )
        low, high = int(tokens.min()), int(tokens.max())
        if low < 0 or high >= self.cfg.d_vocab:
            bad = low if low < 0 else high
            raise ValueError(f"Token id {bad} is out of range [0, {self.cfg.d_vocab})")
        return tokens.to(self.device)

    # ---- hooks --------------------------------------------------------------------------------

    @contextmanager
    def hooks(
        self, fwd_hooks: Sequence[HookSpec] = (), bwd_hooks: Sequence[HookSpec] = ()
    ) -> Iterator[Transformer]:
        """Attach hooks for the duration of the block; always removed on exit, also on errors."""
        with self.hook_points.attach(fwd_hooks, bwd_hooks):
            yield self

    def run_with_hooks(
        self,
        tokens: TokensLike,
        fwd_hooks: Sequence[HookSpec] = (),
        bwd_hooks: Sequence[HookSpec] = (),
        attention_mask: Int[Tensor, "batch pos"] | None = None,
        stop_at_layer: int | None = None,
    ) -> Tensor:
        """One forward pass with hooks attached. Backward hooks fire when the returned tensor's
        graph is differentiated."""
        with self.hooks(fwd_hooks, bwd_hooks):
            out: Tensor = self(tokens, attention_mask=attention_mask, stop_at_layer=stop_at_layer)
        return out

    def run_with_cache(
        self,
        tokens: TokensLike,
        names_filter: NameFilter | None = None,
        attention_mask: Int[Tensor, "batch pos"] | None = None,
        stop_at_layer: int | None = None,
        detach: bool = True,
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """Logits and a cache of activations keyed by hook name (all hooks unless filtered)."""
        cache: dict[str, Tensor] = {}

        def save(x: Tensor, hook: HookPoint) -> None:
            cache[hook.name] = x.detach() if detach else x

        selected = names_filter if names_filter is not None else (lambda _: True)
        with self.hooks([(name.name, save) for name in self.hook_points.resolve(selected)]):
            out = self(tokens, attention_mask=attention_mask, stop_at_layer=stop_at_layer)
        return out, cache

    # ---- generation, loading ---------------------------------------------------------------------

    def generate(self, tokens: TokensLike, **kwargs: Any) -> Tensor:
        """Sample continuations; see `neuron_explainer.models.generation.generate`."""
        from neuron_explainer.models.generation import generate

        return generate(self, tokens, **kwargs)

    @classmethod
    def from_pretrained(cls, name_or_path: str, **kwargs: Any) -> Transformer:
        """Load by registry name or from a directory; see `neuron_explainer.models.loading`."""
        from neuron_explainer.models.loading import load_model

        return load_model(name_or_path, **kwargs)

    def save_pretrained(self, directory: str) -> None:
        from neuron_explainer.models.loading import save_model

        save_model(self, directory)


def check_attention_mask(
    attention_mask: Tensor, tokens: Int[Tensor, "batch pos"], past_length: int = 0
) -> Int[Tensor, "batch pos"]:
    expected = (tokens.shape[0], past_length + tokens.shape[1])
    if tuple(attention_mask.shape) != expected:
        raise ValueError(
            f"attention_mask has shape {tuple(attention_mask.shape)}, expected {expected}"
        )
    if not bool(((attention_mask == 0) | (attention_mask == 1)).all()):
        raise ValueError("attention_mask must contain only 0 (padding) and 1 (token)")
    if not bool(attention_mask.any(-1).all()):
        raise ValueError("every row of attention_mask needs at least one unmasked token")
    return attention_mask.to(tokens.device)


def build_attention_mask(
    attention_mask: Int[Tensor, "batch key_pos"] | None, query_len: int, key_len: int
) -> AttentionMask:
    """Causal mask, and padding mask when given. A padding query attends to itself only, so its
    row stays finite; its outputs are never read."""
    if attention_mask is None and query_len == key_len:
        return AttentionMask(None, query_len, key_len)
    if attention_mask is None:
        raise ValueError("Cached attention over earlier positions needs an attention mask")
    device = attention_mask.device
    allowed = causal_mask(query_len, key_len, device)[None, None]
    keys_valid = attention_mask.bool()[:, None, None, :]
    is_self = torch.eye(key_len, dtype=torch.bool, device=device)[key_len - query_len :][None, None]
    return AttentionMask(allowed & (keys_valid | is_self), query_len, key_len)


def pad_batch(
    sequences: Sequence[Sequence[int]], pad_token_id: int = 0, side: str = "left"
) -> tuple[Int[Tensor, "batch pos"], Int[Tensor, "batch pos"]]:
    """Pad token lists of different lengths into one batch; returns tokens and attention mask."""
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    if not sequences or any(len(s) == 0 for s in sequences):
        raise ValueError("pad_batch needs at least one sequence, and no empty sequences")
    width = max(len(s) for s in sequences)
    tokens = torch.full((len(sequences), width), pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for i, seq in enumerate(sequences):
        span = slice(width - len(seq), width) if side == "left" else slice(0, len(seq))
        tokens[i, span] = torch.tensor(list(seq), dtype=torch.long)
        mask[i, span] = 1
    return tokens, mask

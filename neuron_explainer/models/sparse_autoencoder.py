"""Sparse autoencoders: a linear encoder, a sparsifying activation, a linear decoder.

    latents = act(W_enc^T (x - b_pre) + b_enc)        W_enc [d_in, d_sae], b_enc [d_sae]
    x_hat   = latents @ W_dec + b_pre                  W_dec [d_sae, d_in], b_pre = b_dec [d_in]

The activation is chosen by name through `ARCHITECTURES` ("relu", "topk", "jumprelu"). Parameter
names and shapes follow SAELens, so its files load without renaming (see `sae_io`). Losses live in
`sae_losses`; splicing into a model in `sae_splice`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, cast

import torch
from jaxtyping import Float, Int
from torch import Tensor, nn

DTYPES = {
    "float32": torch.float32,
    "float64": torch.float64,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
}
# SAELens's names for input normalizations. "expected_average_only_in" is a label for a scaling
# factor applied outside the autoencoder (or folded into its weights): like SAELens, the module
# itself treats it as the identity. Normalizations that need state at run time are not supported.
NORMALIZATIONS = ("none", "expected_average_only_in")


@dataclass(frozen=True)
class SaeConfig:
    architecture: str  # a key of ARCHITECTURES
    d_in: int
    d_sae: int
    k: int | None = None  # latents kept per row, topk only
    apply_b_dec_to_input: bool = True  # subtract b_pre from x before encoding
    normalize_activations: str = "none"
    # Where the autoencoder was trained to read; informative, a splice may target any site.
    hook_name: str | None = None
    hook_layer: int | None = None
    model_name: str | None = None
    dtype: str = "float32"
    device: str = "cpu"
    # JumpReLU: initial threshold, and the kernel width of the threshold's pseudo-gradient.
    jumprelu_init_threshold: float = 1e-3
    jumprelu_bandwidth: float = 1e-3

    def __post_init__(self) -> None:
        get_architecture(self.architecture)
        for name in ("d_in", "d_sae"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"SaeConfig.{name} must be a positive int, got {value!r}")
        if self.architecture == "topk":
            if not isinstance(self.k, int) or not 0 < self.k <= self.d_sae:
                raise ValueError(f"topk needs an int k with 0 < k <= d_sae, got k={self.k!r}")
        elif self.k is not None:
            raise ValueError(f"k is only used by topk, not by {self.architecture!r}")
        if self.normalize_activations not in NORMALIZATIONS:
            raise ValueError(
                f"Unsupported normalize_activations {self.normalize_activations!r}; "
                f"supported: {NORMALIZATIONS}"
            )
        if self.dtype not in DTYPES:
            raise ValueError(f"Unknown dtype {self.dtype!r}; expected one of {sorted(DTYPES)}")
        if not (self.jumprelu_bandwidth > 0 and self.jumprelu_init_threshold >= 0):
            raise ValueError("jumprelu_bandwidth must be positive, jumprelu_init_threshold >= 0")

    @property
    def torch_dtype(self) -> torch.dtype:
        return DTYPES[self.dtype]

    def replace(self, **changes: Any) -> SaeConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# ---- activations ---------------------------------------------------------------------------------


class SaeActivation(nn.Module):
    """Maps pre-activations to latents; may own parameters (JumpReLU's threshold). What else
    the project asks of an architecture is said here, so that no other module tests for one:"""

    # At most this many non-zero latents per row (TopK's k): sparse codes of a fixed width, so
    # rows may be encoded in chunks (`datasets.streams`). None: no such bound.
    max_active: int | None = None
    # Trained by the sparse step (`training.sae_sparse_step`: only the kept latents' products).
    sparse_training: ClassVar[bool] = False
    # Its sparsity penalty in training, by name (`training.train_sae.SPARSITY_LOSSES`): "l1"
    # (`sae_losses.l1_penalty`), "auxk" (TopK's auxiliary loss on dead latents), "l0"
    # (JumpReLU's smoothed L0).
    sparsity: ClassVar[str] = "l1"
    # SAELens's `activation_fn` for this architecture (cfg.json).
    saelens_activation_fn: ClassVar[str] = "relu"

    def __init__(self, cfg: SaeConfig) -> None:
        super().__init__()

    @classmethod
    def saelens_fields(cls, cfg: SaeConfig) -> dict[str, Any]:
        """Extra cfg.json fields SAELens reads for this architecture."""
        return {}

    def forward(self, pre: Float[Tensor, "*batch d_sae"]) -> Float[Tensor, "*batch d_sae"]:
        raise NotImplementedError


class ReLU(SaeActivation):
    """Trained with an L1 penalty (`sae_losses.l1_penalty`)."""

    def forward(self, pre: Float[Tensor, "*batch d_sae"]) -> Float[Tensor, "*batch d_sae"]:
        return torch.relu(pre)


class TopK(SaeActivation):
    """Keeps the k largest pre-activations of each row (ReLU on their values, so a row has at most
    k non-zero latents: exactly k whenever its k largest pre-activations are positive)."""

    sparse_training: ClassVar[bool] = True
    sparsity: ClassVar[str] = "auxk"
    saelens_activation_fn: ClassVar[str] = "topk"

    def __init__(self, cfg: SaeConfig) -> None:
        super().__init__(cfg)
        assert cfg.k is not None  # checked by SaeConfig
        self.k = cfg.k
        self.max_active = cfg.k

    @classmethod
    def saelens_fields(cls, cfg: SaeConfig) -> dict[str, Any]:
        return {"k": cfg.k, "rescale_acts_by_decoder_norm": False}

    def forward(self, pre: Float[Tensor, "*batch d_sae"]) -> Float[Tensor, "*batch d_sae"]:
        values, indices = pre.topk(self.k, dim=-1, sorted=False)
        return torch.zeros_like(pre).scatter(-1, indices, torch.relu(values))


class JumpReLU(SaeActivation):
    """latent_j = pre_j if pre_j > threshold_j (and pre_j > 0, as in SAELens), else 0.

    The threshold learns through the pseudo-derivative of Rajamanoharan et al. (2024),
    d/dθ JumpReLU_θ(z) = -(θ/ε) K((z - θ)/ε) with the rectangle kernel K and bandwidth ε."""

    sparsity: ClassVar[str] = "l0"

    def __init__(self, cfg: SaeConfig) -> None:
        super().__init__(cfg)
        self.bandwidth = cfg.jumprelu_bandwidth
        self.threshold = nn.Parameter(
            torch.full((cfg.d_sae,), cfg.jumprelu_init_threshold, dtype=cfg.torch_dtype)
        )

    def forward(self, pre: Float[Tensor, "*batch d_sae"]) -> Float[Tensor, "*batch d_sae"]:
        # torch leaves Function.apply unannotated.
        out = _JumpReLUFunction.apply(pre, self.threshold, self.bandwidth)  # type: ignore[no-untyped-call]
        return cast(Tensor, out)


def rectangle(u: Tensor) -> Tensor:
    """The kernel K(u) = 1 for |u| < 1/2, else 0, in u's dtype."""
    return (u.abs() < 0.5).to(u.dtype)


def _sum_to_latents(t: Tensor) -> Tensor:
    return t.reshape(-1, t.shape[-1]).sum(0)


class _JumpReLUFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, pre: Tensor, threshold: Tensor, bandwidth: float) -> Tensor:
        ctx.save_for_backward(pre, threshold)
        ctx.bandwidth = bandwidth
        return torch.where((pre > threshold) & (pre > 0), pre, torch.zeros_like(pre))

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor, Tensor, None]:
        pre, threshold = ctx.saved_tensors
        eps = ctx.bandwidth
        grad_pre = grad_out * ((pre > threshold) & (pre > 0)).to(grad_out.dtype)
        pseudo = -(threshold / eps) * rectangle((pre - threshold) / eps)
        return grad_pre, _sum_to_latents(grad_out * pseudo), None


ARCHITECTURES: dict[str, type[SaeActivation]] = {
    "relu": ReLU,
    "topk": TopK,
    "jumprelu": JumpReLU,
}


def get_architecture(name: str) -> type[SaeActivation]:
    if name not in ARCHITECTURES:
        raise ValueError(
            f"Unknown sparse autoencoder architecture {name!r}; "
            f"expected one of {sorted(ARCHITECTURES)}"
        )
    return ARCHITECTURES[name]


# ---- the autoencoder -----------------------------------------------------------------------------


class SparseAutoencoder(nn.Module):
    def __init__(self, cfg: SaeConfig) -> None:
        super().__init__()
        self.cfg = cfg
        dtype = cfg.torch_dtype
        # Decoder rows drawn at unit norm, encoder initialised as the decoder's transpose
        # (Conerly et al. 2024; Gao et al. 2024): every latent starts out reading what it writes.
        W_dec = torch.randn(cfg.d_sae, cfg.d_in, dtype=dtype)
        W_dec /= W_dec.norm(dim=-1, keepdim=True)
        self.W_enc = nn.Parameter(W_dec.T.clone())
        self.b_enc = nn.Parameter(torch.zeros(cfg.d_sae, dtype=dtype))
        self.W_dec = nn.Parameter(W_dec)
        self.b_dec = nn.Parameter(torch.zeros(cfg.d_in, dtype=dtype))  # b_pre
        self.activation = get_architecture(cfg.architecture)(cfg)
        self.to(cfg.device)

    def __repr__(self) -> str:
        c = self.cfg
        return f"SparseAutoencoder({c.architecture!r}, d_in={c.d_in}, d_sae={c.d_sae})"

    @property
    def b_pre(self) -> Float[Tensor, " d_in"]:
        return self.b_dec

    @property
    def dtype(self) -> torch.dtype:
        return self.W_enc.dtype

    @property
    def device(self) -> torch.device:
        return self.W_enc.device

    def encode_pre_act(self, x: Float[Tensor, "*batch d_in"]) -> Float[Tensor, "*batch d_sae"]:
        """W_enc^T (x - b_pre) + b_enc: [*batch, d_in] -> [*batch, d_sae]."""
        if self.cfg.apply_b_dec_to_input:
            x = x - self.b_dec
        # One fused product and bias (a [*batch, d_sae] pass fewer than `x @ W_enc + b_enc`).
        pre = torch.addmm(self.b_enc, x.reshape(-1, self.cfg.d_in), self.W_enc)
        return pre.view(*x.shape[:-1], self.cfg.d_sae)

    def activate(self, pre: Float[Tensor, "*batch d_sae"]) -> Float[Tensor, "*batch d_sae"]:
        """The architecture's activation: [*batch, d_sae] -> [*batch, d_sae]."""
        latents: Tensor = self.activation(pre)
        return latents

    def encode(self, x: Float[Tensor, "*batch d_in"]) -> Float[Tensor, "*batch d_sae"]:
        """Latents: [*batch, d_in] -> [*batch, d_sae]."""
        return self.activate(self.encode_pre_act(x))

    def encode_sparse(
        self, x: Float[Tensor, "*batch d_in"]
    ) -> tuple[Int[Tensor, "*batch w"], Float[Tensor, "*batch w"]]:
        """Latents as (indices, values) of w latents per row, every other latent zero: `encode(x)`
        equals zeros scattered with them. TopK: its k (a value may be 0); other architectures:
        each row's largest w, w the most nonzero latents of any row. No [*batch, d_sae] tensor
        of latents is made for TopK, so readers of a few latents per token skip the scatter."""
        pre = self.encode_pre_act(x)
        if isinstance(self.activation, TopK):
            values, indices = pre.topk(self.activation.k, dim=-1, sorted=False)
            return indices, torch.relu(values)
        latents = self.activate(pre)
        width = int((latents != 0).sum(-1).max()) if latents.numel() else 0
        values, indices = latents.topk(width, dim=-1, sorted=False)
        return indices, values

    def decode(self, latents: Float[Tensor, "*batch d_sae"]) -> Float[Tensor, "*batch d_in"]:
        """latents @ W_dec + b_pre: [*batch, d_sae] -> [*batch, d_in]."""
        return latents @ self.W_dec + self.b_dec

    def forward(
        self, x: Float[Tensor, "*batch d_in"]
    ) -> tuple[Float[Tensor, "*batch d_sae"], Float[Tensor, "*batch d_in"]]:
        """(latents [*batch, d_sae], x_hat [*batch, d_in])."""
        latents = self.encode(x)
        return latents, self.decode(latents)

"""TopK autoencoder training throughput against SAELens, on the same activations.

Activations: the default model's MLP post-activation at layer 0 (d_in 1024) on this repository's
own text (Python and Markdown, tokenized with the model's tokenizer), so the benchmark needs no
corpus. Both trainers see the same batches in the same order, with the same width, k, batch size,
learning rate (constant, no warm-up) and number of steps; each keeps its own initialisation and
auxiliary-loss defaults. Reported: tokens/s of each (wall time of the whole training call) and
their ratio (ours / SAELens, higher is better), and explained variance and L0 of both on held-out
activations. SAELens runs with its default dense activations and with `use_sparse_activations`.
Not a test: run with `make bench`.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from common import repo_tokens
from torch import Tensor

from neuron_explainer.models.loading import load_model
from neuron_explainer.models.sae_io import load_sae
from neuron_explainer.models.sparse_autoencoder import SaeConfig
from neuron_explainer.training.sae_activations import ShuffleBuffer
from neuron_explainer.training.sae_config import SaeTrainConfig
from neuron_explainer.training.train_sae import train_sae_on_source

REPO = Path(__file__).resolve().parents[1]
SITE = "blocks.0.mlp.hook_post"
D_SAE, K, BATCH, STEPS, LR = 4096, 32, 4096, 40, 4e-4
POOL_TOKENS, HELD_OUT_TOKENS = 16 * BATCH, 16_384


class PoolSource:
    """Chunk i: the pool (a fixed activation tensor) rolled by i rows."""

    def __init__(self, pool: Tensor) -> None:
        self.pool, self.d_in = pool, pool.shape[1]

    def chunk(self, index: int, n_tokens: int) -> Tensor:
        return self.pool.roll(-index * 997, 0)[:n_tokens]


@torch.no_grad()
def activations(n_tokens: int) -> tuple[Tensor, Tensor]:
    """(pool, held out) activations at SITE on the repository's text."""
    model = load_model("toy-gelu-2l")
    assert model.tokenizer is not None
    ctx = model.cfg.n_ctx
    n_windows = (n_tokens + HELD_OUT_TOKENS) // ctx + 1
    ids = repo_tokens(model.tokenizer, n_windows * ctx)  # repeated when the repo is short
    windows = torch.from_numpy(ids.astype("int64")).reshape(n_windows, ctx)
    _, cache = model.run_with_cache(windows, names_filter=SITE, stop_at_layer=1)
    acts = cache[SITE].reshape(-1, cache[SITE].shape[-1])
    return acts[:n_tokens].contiguous(), acts[-HELD_OUT_TOKENS:].contiguous()


def scores(encode: Any, decode: Any, x: Tensor) -> tuple[float, float]:
    """(explained variance, L0) on x."""
    with torch.no_grad():
        latents = encode(x)
        x_hat = decode(latents)
        ev = 1 - float((x_hat - x).pow(2).sum() / (x - x.mean(0)).pow(2).sum())
        return ev, float((latents != 0).float().sum(-1).mean())


def run_ours(pool: Tensor, held_out: Tensor) -> tuple[float, float, float]:
    cfg = SaeTrainConfig(
        sae=SaeConfig("topk", d_in=pool.shape[1], d_sae=D_SAE, k=K),
        site=SITE,
        total_tokens=STEPS * BATCH,
        batch_size=BATCH,
        lr=LR,
        warmup_steps=0,
        lr_decay_fraction=0.0,
        buffer_tokens=len(pool),
        checkpoint_interval=10 * STEPS,
        device="cpu",
    )
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        train_sae_on_source(cfg, PoolSource(pool), tmp, resume=False, progress=False)
        seconds = time.perf_counter() - start
        sae = load_sae(Path(tmp) / "final")
    ev, l0 = scores(sae.encode, sae.decode, held_out)
    return STEPS * BATCH / seconds, ev, l0


def run_saelens(pool: Tensor, held_out: Tensor, sparse: bool) -> tuple[float, float, float]:
    from sae_lens.saes.topk_sae import TopKTrainingSAE, TopKTrainingSAEConfig
    from sae_lens.training.sae_trainer import SAETrainer, SAETrainerConfig

    torch.manual_seed(0)
    sae_cfg = TopKTrainingSAEConfig(
        d_in=pool.shape[1], d_sae=D_SAE, k=K, use_sparse_activations=sparse, device="cpu"
    )
    sae = TopKTrainingSAE(sae_cfg)
    trainer_cfg = SAETrainerConfig(
        total_training_samples=STEPS * BATCH,
        train_batch_size_samples=BATCH,
        lr=LR,
        lr_end=LR,
        device="cpu",
    )
    buffer = ShuffleBuffer(PoolSource(pool), BATCH, len(pool), 0)
    batches = (buffer.batch(step) for step in range(10**9))
    trainer: Any = SAETrainer(trainer_cfg, sae, batches)
    start = time.perf_counter()
    trainer.fit()
    seconds = time.perf_counter() - start
    ev, l0 = scores(sae.encode, sae.decode, held_out)
    return STEPS * BATCH / seconds, ev, l0


def main() -> None:
    torch.set_flush_denormal(True)
    pool, held_out = activations(POOL_TOKENS)
    print(
        f"TopK autoencoder training, {SITE} of toy-gelu-2l (d_in {pool.shape[1]}), d_sae {D_SAE}, "
        f"k {K}, batch {BATCH}, {STEPS} steps, lr {LR}, torch threads {torch.get_num_threads()}"
    )
    results: dict[str, tuple[float, float, float] | str] = {
        "ours": run_ours(pool, held_out),
        "SAELens": run_saelens(pool, held_out, sparse=False),
    }
    try:
        results["SAELens sparse"] = run_saelens(pool, held_out, sparse=True)
    except (RuntimeError, NotImplementedError) as e:  # its sparse path lacks CPU kernels here
        results["SAELens sparse"] = f"failed: {str(e).splitlines()[0][:80]}"
    print(f"{'trainer':>16} {'tokens/s':>10} {'ratio':>6} {'EV':>7} {'L0':>6}")
    ours = results["ours"]
    assert not isinstance(ours, str)
    for name, result in results.items():
        if isinstance(result, str):
            print(f"{name:>16} {result}")
            continue
        tok_s, ev, l0 = result
        print(f"{name:>16} {tok_s:>10,.0f} {ours[0] / tok_s:>6.2f} {ev:>7.3f} {l0:>6.1f}")
    print("ratio: our tokens/s over the trainer's; goal >= 1.5 at equal or better EV")


if __name__ == "__main__":
    main()

"""Collation throughput as a ratio to a plain forward pass over the same tokens.

Model: `toy-gelu-2l`, with its bundled autoencoders when it has any (`load_model_saes`). Tokens:
this repository's own text (Python and Markdown, tokenized with the model's tokenizer, reused
when short), cut into contexts of the model's n_ctx, so the benchmark needs no corpus.

Measured, in the same process with interleaved repetitions (medians of wall time):

- baseline: a plain forward (logits) over the contexts, in batches of `batch_contexts` (the
  autoencoders spliced in, idle, as they are while the debugger serves);
- collation: `collate_shard` over the same contexts with the default `CollationConfig`: the
  forward pass with the cache it needs, the autoencoders' encoders, and every statistic of every
  neuron, head and latent;
- mid-run: the same collation merged into (a copy of) the result of WARM_CONTEXTS earlier
  contexts, as every shard after the first is in `run_collation`: fewer examples enter, so fewer
  windows are cut (the copy, 22 ms or about 1% of the time, is included);
- fwd+enc: the collation's own forward pass with its cache and the autoencoders' encoders, no
  statistics (the bound on what collation can reach);
- no-saes: the collation without autoencoders (neurons and heads).

Reported: tokens/s of each (wall and CPU time) and their ratio to the forward (higher is better;
goal >= 0.8); the CPU ratio is the steadier one on a machine other jobs keep busy.
CPU, fp32, torch's default threads; the process set up as `tdb collate` sets itself up
(`setup_job`: freed memory kept for reuse), which both sides of the ratio get.
Not a test: run with `make bench`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from common import median_times, repo_tokens

from neuron_explainer.datasets import CollationConfig, collate_shard
from neuron_explainer.datasets.collate import groups_of
from neuron_explainer.datasets.jobs import setup_job
from neuron_explainer.datasets.shards import from_tensors, to_tensors
from neuron_explainer.datasets.streams import forward_cache
from neuron_explainer.models.loading import load_model
from neuron_explainer.models.sae_registry import load_model_saes
from neuron_explainer.models.sae_splice import splice_saes

REPO = Path(__file__).resolve().parents[1]
MODEL = "toy-gelu-2l"
N_CONTEXTS = 32
WARM_CONTEXTS = 256
REPEATS = 5
WARMUP = 1


def main() -> None:
    # Denormal floats flushed to zero, as `tdb` does: the library leaves this process-wide
    # setting to its entry points (softmax gradients over a vocabulary are full of denormals).
    torch.set_flush_denormal(True)
    setup_job()
    torch.set_grad_enabled(False)
    model = load_model(MODEL).eval()
    saes = load_model_saes(MODEL)
    assert model.tokenizer is not None
    cfg = CollationConfig()
    size = model.cfg.n_ctx
    tokens = repo_tokens(model.tokenizer, (WARM_CONTEXTS + N_CONTEXTS) * size)
    contexts = torch.from_numpy(tokens[: N_CONTEXTS * size].astype(np.int64)).view(N_CONTEXTS, size)
    warm = to_tensors(collate_shard(model, saes, tokens, N_CONTEXTS, WARM_CONTEXTS, cfg))

    def forward() -> None:
        with splice_saes(model, saes):
            for first in range(0, N_CONTEXTS, cfg.batch_contexts):
                model(contexts[first : first + cfg.batch_contexts])

    groups = groups_of(model, saes)

    def encoders() -> None:  # what collation must compute before any statistic
        for first in range(0, N_CONTEXTS, cfg.batch_contexts):
            forward_cache(model, groups, contexts[first : first + cfg.batch_contexts], saes)

    def collate() -> None:
        collate_shard(model, saes, tokens, 0, N_CONTEXTS, cfg)

    def collate_mid_run() -> None:
        earlier = from_tensors({k: v.clone() for k, v in warm.items()}, 0, 0)
        collate_shard(model, saes, tokens, 0, N_CONTEXTS, cfg, into=earlier)

    def collate_without_saes() -> None:
        collate_shard(model, {}, tokens, 0, N_CONTEXTS, cfg)

    operations = {
        "forward": forward,
        "fwd+enc": encoders,
        "collation": collate,
        "mid-run": collate_mid_run,
        "no-saes": collate_without_saes,
    }
    measured = median_times(operations, REPEATS, WARMUP)
    n_tokens = N_CONTEXTS * size
    print(
        f"{MODEL}, autoencoders {sorted(saes) or 'none'}, {N_CONTEXTS} contexts of {size} "
        f"(repository text), batch {cfg.batch_contexts}, torch threads {torch.get_num_threads()}"
    )
    print(f"{'':>10} {'wall tok/s':>12} {'cpu tok/s':>12} {'wall ratio':>11} {'cpu ratio':>10}")
    wall0, cpu0 = measured["forward"]
    for name, (wall, cpu) in measured.items():
        print(
            f"{name:>10} {n_tokens / wall:>12,.0f} {n_tokens / cpu:>12,.0f} "
            f"{wall0 / wall:>11.2f} {cpu0 / cpu:>10.2f}"
        )
    print("ratio: collation tokens/s over forward tokens/s (higher is better); goal >= 0.8")
    print("mid-run: collation into the result of earlier contexts, as most of a long run is")
    print("fwd+enc: the collation's forward pass and its autoencoders' encoders, no statistics:")
    print("the most collation could reach (the four encoders: 9.4M multiply-adds per token,")
    print("the model 3.6M); no-saes: collation of neurons and heads only")


if __name__ == "__main__":
    main()

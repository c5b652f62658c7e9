"""Forward latency against Hugging Face, and run_with_cache against TransformerLens.

GPT-2-small-shaped random weights, CPU, fp32. Ratios are ours / peer, measured in the same run
with interleaved repetitions (lower is better). Not a test: run with `make bench`.
"""

from __future__ import annotations

import tempfile

import torch
from common import median_times

REPEATS = 15
WARMUP = 3
SHAPES = [(1, 64), (4, 256)]


def main() -> None:
    import transformers
    from transformer_lens import HookedTransformer, HookedTransformerConfig
    from transformer_lens.pretrained.weight_conversions import convert_gpt2_weights

    from neuron_explainer.models import Transformer

    torch.manual_seed(0)
    torch.set_grad_enabled(False)
    hf_cfg = transformers.GPT2Config()  # GPT-2 small shape
    hf = transformers.GPT2LMHeadModel(hf_cfg).eval()
    with tempfile.TemporaryDirectory() as tmp:
        hf.save_pretrained(tmp)
        ours = Transformer.from_pretrained(tmp)
    tl_cfg = HookedTransformerConfig(
        n_layers=12, d_model=768, n_heads=12, d_head=64, d_mlp=3072, n_ctx=1024,
        d_vocab=50257, act_fn="gelu_new", normalization_type="LN", default_prepend_bos=False,
    )  # fmt: skip
    tl = HookedTransformer(tl_cfg)
    tl.load_and_process_state_dict(
        convert_gpt2_weights(hf, tl_cfg),
        fold_ln=False,
        center_writing_weights=False,
        center_unembed=False,
        fold_value_biases=False,
        refactor_factored_attn_matrices=False,
    )
    tl.eval()

    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, GPT-2 small shape, fp32")
    print(f"{'batch x pos':>12} {'ours fwd':>10} {'HF fwd':>10} {'ratio':>6}   "
          f"{'ours cache':>10} {'TL cache':>10} {'ratio':>6}")  # fmt: skip
    for batch, pos in SHAPES:
        tokens = torch.randint(0, 50257, (batch, pos))
        fns = {
            "ours": lambda t=tokens: ours(t),
            "hf": lambda t=tokens: hf(t),
            "ours_cache": lambda t=tokens: ours.run_with_cache(t),
            "tl_cache": lambda t=tokens: tl.run_with_cache(t),
        }
        times = {name: wall for name, (wall, _) in median_times(fns, REPEATS, WARMUP).items()}
        fwd_ratio = times["ours"] / times["hf"]
        cache_ratio = times["ours_cache"] / times["tl_cache"]
        print(
            f"{f'{batch}x{pos}':>12} {times['ours'] * 1e3:>8.1f}ms {times['hf'] * 1e3:>8.1f}ms "
            f"{fwd_ratio:>6.2f}   {times['ours_cache'] * 1e3:>8.1f}ms "
            f"{times['tl_cache'] * 1e3:>8.1f}ms {cache_ratio:>6.2f}"
        )
    print("goals: forward ratio <= 1.0 (hooks idle), run_with_cache ratio <= 0.5")


if __name__ == "__main__":
    main()

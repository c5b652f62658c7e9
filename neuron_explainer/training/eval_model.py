"""Evaluate a trained subject model: validation loss against n-gram baselines, induction, and a
suite of next-token behaviours (`datasets/evals/behaviours.json`).

- Validation loss: mean next-token cross-entropy (nats) over `n_windows` windows of `n_ctx + 1`
  tokens at seeded random offsets of the validation token file. The unigram and bigram baselines
  are fitted on the train token file and scored on exactly the same predictions.
  Unigram: add-one (Laplace) smoothing, P(w) = (c(w) + 1) / (N + V).
  Bigram: "Kneser-Ney lite", interpolated absolute discounting with D = 0.75 and a continuation
  distribution that is itself add-one smoothed, so every probability is positive:
      P(w | v) = max(c(v, w) - D, 0) / c(v) + D * N1+(v .) / c(v) * P_cont(w)
      P_cont(w) = (N1+(. w) + 1) / (N1+(. .) + V);   P(w | v) = P_cont(w) when c(v) = 0,
  where N1+(v .) counts distinct successors of v and N1+(. w) distinct predecessors of w.
  Bigrams are counted over the flat file, across document boundaries, as the model is trained.
- Induction: `[<|endoftext|>] + R + R` with R of L random non-special tokens (no prefix when the
  model has no end-of-text token). Losses are on tokens 2..L of each repeat (the first token of
  either repeat cannot be predicted). A head's induction score is its mean attention from each
  query q of the second repeat to the key right after the query token's earlier occurrence,
  `pattern[b, h, q, q - L + 1]`; its previous-token score is the mean of `pattern[b, h, q, q - 1]`
  over every q >= 1.
- Behaviours: top-1 accuracy (target is the argmax of the logits after the prompt) and mean
  logit difference target - distractor per task, and the items with the largest difference.
  Items whose target or distractor is not one token, or whose target would merge with the end of
  the prompt (`encode(prompt + target) != encode(prompt) + [target]`), are skipped and reported.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from jaxtyping import Bool, Float, Int
from torch import Tensor

from neuron_explainer.models.hooks import HookSpec
from neuron_explainer.models.sites import act_name
from neuron_explainer.models.tokenizers import Tokenizer
from neuron_explainer.models.transformer import Transformer, pad_batch

DEFAULT_BEHAVIOURS = Path(__file__).resolve().parents[2] / "datasets/evals/behaviours.json"
KN_DISCOUNT = 0.75
COUNT_CHUNK = 1 << 22  # tokens per chunk when counting bigrams (bounds the memory of the sort)
U16Array = np.ndarray[Any, np.dtype[np.uint16]]
I64Array = np.ndarray[Any, np.dtype[np.int64]]
F64Array = np.ndarray[Any, np.dtype[np.float64]]

# ---- validation loss and n-gram baselines ------------------------------------------------------


def read_tokens(path: str | Path, d_vocab: int) -> U16Array:
    """Memory-map a flat little-endian uint16 token file, checking its ids fit the vocabulary."""
    if os.path.getsize(path) % 2:
        raise ValueError(f"{path}: odd byte count, not a uint16 token file")
    tokens: U16Array = np.memmap(path, dtype="<u2", mode="r")
    if len(tokens) and int(tokens.max()) >= d_vocab:
        raise ValueError(f"{path}: token id {int(tokens.max())} is out of range [0, {d_vocab})")
    return tokens


def sample_windows(tokens: U16Array, n_ctx: int, n_windows: int, seed: int) -> I64Array:
    """`n_windows` windows of `n_ctx + 1` tokens at seeded random offsets, [window, n_ctx + 1]."""
    if len(tokens) < n_ctx + 1:
        raise ValueError(f"Need at least n_ctx + 1 = {n_ctx + 1} tokens, got {len(tokens)}")
    starts = np.random.default_rng(seed).integers(0, len(tokens) - n_ctx, size=n_windows)
    return np.stack([np.asarray(tokens[s : s + n_ctx + 1], dtype=np.int64) for s in starts])


@torch.no_grad()
def validation_loss(
    model: Transformer,
    tokens_u16_path: str | Path,
    n_windows: int = 128,
    seed: int = 0,
    batch_size: int = 8,
) -> float:
    """Mean next-token cross-entropy (nats) of the model on seeded random validation windows."""
    cfg = model.cfg
    windows = sample_windows(read_tokens(tokens_u16_path, cfg.d_vocab), cfg.n_ctx, n_windows, seed)
    total = 0.0
    for i in range(0, len(windows), batch_size):
        batch = torch.from_numpy(windows[i : i + batch_size]).to(model.device)
        logits = model(batch[:, :-1]).float()
        total += F.cross_entropy(
            logits.flatten(0, 1), batch[:, 1:].flatten(), reduction="sum"
        ).item()
    return total / (len(windows) * cfg.n_ctx)


@dataclass(frozen=True)
class NgramCounts:
    """Unigram and bigram statistics of a token file (bigram keys are `v * vocab_size + w`)."""

    vocab_size: int
    unigram: I64Array  # c(w)
    bigram_keys: I64Array  # sorted distinct bigrams
    bigram_counts: I64Array  # c(v, w), aligned with bigram_keys
    context_counts: I64Array  # c(v) = sum_w c(v, w)
    context_types: I64Array  # N1+(v .)
    continuation_types: I64Array  # N1+(. w)


def fit_ngrams(tokens: U16Array, vocab_size: int, chunk: int = COUNT_CHUNK) -> NgramCounts:
    """Count unigrams and bigrams in chunks, so that memory stays bounded on a large file."""
    unigram = np.zeros(vocab_size, dtype=np.int64)
    keys: list[I64Array] = [np.zeros(0, dtype=np.int64)]
    counts: list[I64Array] = [np.zeros(0, dtype=np.int64)]
    for start in range(0, len(tokens), chunk):
        part = np.asarray(tokens[start : start + chunk + 1], dtype=np.int64)  # pairs span chunks
        unigram += np.bincount(part[:chunk], minlength=vocab_size)
        k, c = np.unique(part[:-1] * vocab_size + part[1:], return_counts=True)
        keys.append(k)
        counts.append(c.astype(np.int64))
    bigram_keys, inverse = np.unique(np.concatenate(keys), return_inverse=True)
    bigram_counts = np.zeros(len(bigram_keys), dtype=np.int64)
    np.add.at(bigram_counts, inverse, np.concatenate(counts))
    first, second = bigram_keys // vocab_size, bigram_keys % vocab_size
    return NgramCounts(
        vocab_size=vocab_size,
        unigram=unigram,
        bigram_keys=bigram_keys.astype(np.int64),
        bigram_counts=bigram_counts,
        context_counts=np.bincount(first, weights=bigram_counts, minlength=vocab_size).astype(
            np.int64
        ),
        context_types=np.bincount(first, minlength=vocab_size).astype(np.int64),
        continuation_types=np.bincount(second, minlength=vocab_size).astype(np.int64),
    )


def unigram_log_probs(counts: NgramCounts, targets: I64Array) -> F64Array:
    """Add-one smoothed log P(w)."""
    total = counts.unigram.sum() + counts.vocab_size
    out: F64Array = np.log((counts.unigram[targets] + 1.0) / total)
    return out


def bigram_log_probs(
    counts: NgramCounts, prev: I64Array, targets: I64Array, discount: float = KN_DISCOUNT
) -> F64Array:
    """Interpolated Kneser-Ney-lite log P(w | v) (see the module docstring)."""
    V = counts.vocab_size
    p_cont = (counts.continuation_types[targets] + 1.0) / (len(counts.bigram_keys) + V)
    query = prev * V + targets
    keys = np.append(counts.bigram_keys, -1)  # a sentinel, so every index is valid
    idx = np.minimum(np.searchsorted(counts.bigram_keys, query), len(keys) - 1)
    c_vw = np.where(keys[idx] == query, np.append(counts.bigram_counts, 0)[idx], 0)
    c_v = counts.context_counts[prev].astype(np.float64)
    seen = c_v > 0
    denom = np.where(seen, c_v, 1.0)
    discounted = np.maximum(c_vw - discount, 0.0) / denom
    backoff = discount * counts.context_types[prev] / denom
    out: F64Array = np.log(np.where(seen, discounted + backoff * p_cont, p_cont))
    return out


def ngram_baselines(
    train_tokens_path: str | Path,
    val_tokens_path: str | Path,
    n_ctx: int,
    vocab_size: int,
    n_windows: int = 128,
    seed: int = 0,
) -> dict[str, float]:
    """Unigram and bigram cross-entropy (nats) on the windows `validation_loss` scores."""
    counts = fit_ngrams(read_tokens(train_tokens_path, vocab_size), vocab_size)
    windows = sample_windows(read_tokens(val_tokens_path, vocab_size), n_ctx, n_windows, seed)
    prev, targets = windows[:, :-1].ravel(), windows[:, 1:].ravel()
    return {
        "unigram_loss": float(-unigram_log_probs(counts, targets).mean()),
        "bigram_loss": float(-bigram_log_probs(counts, prev, targets).mean()),
        "train_tokens": int(counts.unigram.sum()),
    }


# ---- induction ---------------------------------------------------------------------------------


def sampling_vocab(model: Transformer) -> list[int]:
    """Token ids for random sequences: the tokenizer's ids (or all of d_vocab), minus specials."""
    tok = model.tokenizer
    n = model.cfg.d_vocab if tok is None else min(model.cfg.d_vocab, tok.vocab_size)
    special = set() if tok is None else set(tok.special_tokens.values())
    return [i for i in range(n) if i not in special]


def repeated_tokens(
    vocab: Sequence[int], batch: int, seq_len: int, seed: int, prefix: int | None
) -> Int[Tensor, "batch pos"]:
    """`[prefix] + R + R` per row, with R `seq_len` tokens drawn uniformly from `vocab`."""
    rng = np.random.default_rng(seed)
    rand = np.asarray(vocab, dtype=np.int64)[rng.integers(0, len(vocab), size=(batch, seq_len))]
    parts = [rand, rand] if prefix is None else [np.full((batch, 1), prefix), rand, rand]
    return torch.from_numpy(np.concatenate(parts, axis=1).astype(np.int64))


def head_scores(
    pattern: Float[Tensor, "batch head q k"], offset: int, start: int
) -> Float[Tensor, " head"]:
    """Mean of `pattern[b, h, q, q - offset]` over the batch and queries q >= `start`."""
    q = torch.arange(start, pattern.shape[2], device=pattern.device)
    return pattern[:, :, q, q - offset].mean(dim=(0, 2))


@torch.no_grad()
def induction_eval(
    model: Transformer,
    batch: int = 50,
    seq_len: int | None = None,
    seed: int = 0,
    fwd_hooks: Sequence[HookSpec] = (),
) -> dict[str, Any]:
    """Losses on a random sequence and its repeat, and per-head induction and previous-token
    scores as [n_layers][n_heads] lists. `fwd_hooks` are attached during the forward pass."""
    cfg = model.cfg
    L = min(100, (cfg.n_ctx - 1) // 2) if seq_len is None else seq_len
    tok = model.tokenizer
    prefix = None if tok is None else tok.eot_token_id
    P = 0 if prefix is None else 1
    if L < 2 or cfg.n_ctx < P + 2 * L:
        raise ValueError(f"seq_len {L} must be >= 2 and fit twice (plus prefix) in {cfg.n_ctx}")
    tokens = repeated_tokens(sampling_vocab(model), batch, L, seed, prefix).to(model.device)
    names = [act_name("pattern", layer) for layer in range(cfg.n_layers)]
    with model.hooks(fwd_hooks):
        logits, cache = model.run_with_cache(tokens, names_filter=names)
    losses = F.cross_entropy(
        logits[:, :-1].float().transpose(1, 2), tokens[:, 1:], reduction="none"
    )
    # logits[:, t] predicts token t + 1; skip the first token of each repeat.
    first, second = losses[:, P : P + L - 1], losses[:, P + L : P + 2 * L - 1]
    return {
        "seq_len": L,
        "batch": batch,
        "loss_first_half": first.mean().item(),
        "loss_second_half": second.mean().item(),
        "induction_scores": [head_scores(cache[n].float(), L - 1, P + L).tolist() for n in names],
        "prev_token_scores": [head_scores(cache[n].float(), 1, 1).tolist() for n in names],
    }


# ---- behaviours --------------------------------------------------------------------------------


def load_behaviours(path: str | Path = DEFAULT_BEHAVIOURS) -> list[dict[str, Any]]:
    """The tasks of a behaviour file, checked: unique names, descriptions, well-formed items."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    tasks = doc.get("tasks") if isinstance(doc, dict) else None
    if not isinstance(tasks, list) or not tasks:
        raise ValueError(f"{path}: expected an object with a non-empty 'tasks' list")

    def strings(obj: Any, keys: tuple[str, ...]) -> bool:
        return isinstance(obj, dict) and all(isinstance(obj.get(k), str) and obj[k] for k in keys)

    for task in tasks:
        if not strings(task, ("name", "description")) or not task.get("items"):
            raise ValueError(f"{path}: a task needs a name, a description and items: {task!r}")
        for item in task["items"]:
            if not strings(item, ("prompt", "target", "distractor")):
                raise ValueError(f"{path}: bad item in task {task['name']!r}: {item!r}")
            if item["target"] == item["distractor"]:
                raise ValueError(f"{path}: target equals distractor in {item!r}")
    if len({t["name"] for t in tasks}) != len(tasks):
        raise ValueError(f"{path}: task names are not unique")
    return tasks


def score_items(
    logits: Float[Tensor, "item d_vocab"],
    target_ids: Int[Tensor, " item"],
    distractor_ids: Int[Tensor, " item"],
) -> tuple[Bool[Tensor, " item"], Float[Tensor, " item"]]:
    """Whether each target is the argmax of its logits, and logit(target) - logit(distractor)."""
    rows = torch.arange(len(logits), device=logits.device)
    correct = logits.argmax(dim=-1) == target_ids
    return correct, logits[rows, target_ids] - logits[rows, distractor_ids]


def check_item(tok: Tokenizer, item: dict[str, str], n_ctx: int) -> tuple[list[int], str | None]:
    """Prompt ids, target and distractor ids, or the reason to skip the item."""
    prompt = tok.encode(item["prompt"])
    ids = []
    for key in ("target", "distractor"):
        enc = tok.encode(item[key])
        if len(enc) != 1:
            return [], f"{key} {item[key]!r} is {len(enc)} tokens"
        ids.append(enc[0])
    if tok.encode(item["prompt"] + item["target"]) != [*prompt, ids[0]]:
        return [], "target merges with the end of the prompt"
    if len(prompt) > n_ctx:
        return [], f"prompt of {len(prompt)} tokens exceeds n_ctx {n_ctx}"
    return [*prompt, *ids], None


@torch.no_grad()
def evaluate_behaviours(
    model: Transformer,
    behaviours_path: str | Path = DEFAULT_BEHAVIOURS,
    top_k: int = 3,
    batch_size: int = 32,
) -> dict[str, Any]:
    """Per task: accuracy, mean logit difference, skipped items, most confident items."""
    tok = model.tokenizer
    if tok is None:
        raise ValueError("Behaviour evaluation needs a model with a tokenizer")
    pad = tok.eot_token_id or 0
    results: dict[str, Any] = {}
    for task in load_behaviours(behaviours_path):
        checked = [(item, *check_item(tok, item, model.cfg.n_ctx)) for item in task["items"]]
        kept = [(item, ids) for item, ids, reason in checked if reason is None]
        skipped = [{"prompt": it["prompt"], "reason": why} for it, _, why in checked if why]
        scored = []
        for i in range(0, len(kept), batch_size):
            chunk = kept[i : i + batch_size]
            tokens, mask = pad_batch([ids[:-2] for _, ids in chunk], pad, side="left")
            logits = model(tokens.to(model.device), attention_mask=mask.to(model.device))[:, -1]
            targets = torch.tensor([ids[-2] for _, ids in chunk], device=model.device)
            distractors = torch.tensor([ids[-1] for _, ids in chunk], device=model.device)
            correct, diff = score_items(logits.float(), targets, distractors)
            top1 = logits.argmax(dim=-1).tolist()
            for (item, _), c, d, t in zip(
                chunk, correct.tolist(), diff.tolist(), top1, strict=True
            ):
                top1_str = tok.token_strings([t])[0]
                scored.append({**item, "correct": c, "logit_diff": d, "top1": top1_str})
        n = len(scored)
        results[task["name"]] = {
            "description": task["description"],
            "n_items": n,
            "n_skipped": len(skipped),
            "accuracy": sum(s["correct"] for s in scored) / n if n else None,
            "mean_logit_diff": sum(s["logit_diff"] for s in scored) / n if n else None,
            "most_confident": sorted(scored, key=lambda s: -s["logit_diff"])[:top_k],
            "skipped": skipped,
        }
    return results


# ---- everything together -----------------------------------------------------------------------


def evaluate_model(
    model: Transformer,
    train_tokens: str | Path,
    val_tokens: str | Path,
    behaviours_path: str | Path | None = DEFAULT_BEHAVIOURS,
    n_windows: int = 128,
    seed: int = 0,
    induction_batch: int = 50,
) -> dict[str, Any]:
    """Validation loss with baselines, induction, and behaviours, as a JSON-ready dict."""
    cfg = model.cfg
    result: dict[str, Any] = {
        "model": cfg.to_dict(),
        "validation": {
            "loss": validation_loss(model, val_tokens, n_windows, seed),
            **ngram_baselines(train_tokens, val_tokens, cfg.n_ctx, cfg.d_vocab, n_windows, seed),
            "n_windows": n_windows,
            "n_ctx": cfg.n_ctx,
            "seed": seed,
        },
        "induction": induction_eval(model, batch=induction_batch, seed=seed),
        "behaviours": None,
    }
    if behaviours_path is not None and model.tokenizer is not None:
        result["behaviours"] = evaluate_behaviours(model, behaviours_path)
    return result


def format_report(result: dict[str, Any]) -> str:
    """A plain-text summary of `evaluate_model`'s result."""
    val, ind = result["validation"], result["induction"]
    lines = [
        f"Validation loss ({val['n_windows']} windows x {val['n_ctx']} tokens, nats): "
        f"model {val['loss']:.3f} | bigram {val['bigram_loss']:.3f} | "
        f"unigram {val['unigram_loss']:.3f}",
        f"Induction (batch {ind['batch']}, L={ind['seq_len']}): loss on first repeat "
        f"{ind['loss_first_half']:.3f}, on second repeat {ind['loss_second_half']:.3f}",
    ]
    scores = ("induction_scores", "prev_token_scores")
    rows = ind["induction_scores"]
    heads = [(s, layer, h) for layer, row in enumerate(rows) for h, s in enumerate(row)]
    best = ", ".join(f"L{layer}H{h} {s:.2f}" for s, layer, h in sorted(heads, reverse=True)[:5])
    lines.append(f"Top induction heads: {best}")
    for layer, (row, prev) in enumerate(zip(*map(ind.get, scores), strict=True)):
        lines.append(
            f"  layer {layer} induction: {' '.join(f'{s:.2f}' for s in row)} | "
            f"prev-token: {' '.join(f'{s:.2f}' for s in prev)}"
        )
    behaviours = result.get("behaviours")
    if behaviours:
        lines.append("Behaviours (accuracy, mean logit diff target - distractor, items):")
        for name, task in behaviours.items():
            if task["n_items"] == 0:
                lines.append(f"  {name:<24} no items kept ({task['n_skipped']} skipped)")
                continue
            lines.append(
                f"  {name:<24} acc {task['accuracy']:.2f}  diff {task['mean_logit_diff']:+.2f}  "
                f"n {task['n_items']} (skipped {task['n_skipped']})"
            )
            for item in task["most_confident"]:
                lines.append(
                    f"      {item['logit_diff']:+.2f} {item['prompt'][-50:]!r} -> "
                    f"{item['target']!r} (top-1 {item['top1']!r})"
                )
    return "\n".join(lines)


def find_token_file(data_dir: str | Path, split: str) -> Path:
    """`{data_dir}/tokens/{split}.u16`, or `{data_dir}/{split}.u16`."""
    for path in (Path(data_dir) / "tokens" / f"{split}.u16", Path(data_dir) / f"{split}.u16"):
        if path.is_file():
            return path
    raise FileNotFoundError(f"No {split}.u16 in {data_dir}/tokens or {data_dir}")


def run_eval(
    model_name_or_path: str | Path, data_dir: str | Path, out_json: str | Path | None = None
) -> dict[str, Any]:
    """Load a model, evaluate it on the token files of `data_dir`, optionally write the JSON."""
    from neuron_explainer.models.loading import load_model

    model = load_model(model_name_or_path)
    result = evaluate_model(
        model, find_token_file(data_dir, "train"), find_token_file(data_dir, "validation")
    )
    result["model_name_or_path"] = str(model_name_or_path)
    if out_json is not None:
        Path(out_json).parent.mkdir(parents=True, exist_ok=True)
        Path(out_json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result

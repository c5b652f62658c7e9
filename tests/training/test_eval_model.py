"""Model evaluation: n-gram baselines, induction scores, behaviour suite, report."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from neuron_explainer.models import Transformer, TransformerConfig
from neuron_explainer.models.hooks import HookPoint
from neuron_explainer.models.loading import save_model
from neuron_explainer.models.tokenizers import HfTokenizer
from neuron_explainer.training.eval_model import (
    DEFAULT_BEHAVIOURS,
    bigram_log_probs,
    evaluate_behaviours,
    evaluate_model,
    fit_ngrams,
    format_report,
    induction_eval,
    load_behaviours,
    ngram_baselines,
    repeated_tokens,
    run_eval,
    sampling_vocab,
    score_items,
    unigram_log_probs,
    validation_loss,
)
from tests.tiny_tokenizer import train_tiny_tokenizer

TEXTS = [
    "def f(x):\n    return g(x) + f()\n",
    "import numpy as np\nfor i in range(10):\n    print(len(items))\n",
    "When Mary and John went to the store, John gave a drink to Mary.\n",
    "class Point:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n",
]


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory: pytest.TempPathFactory) -> HfTokenizer:
    return train_tiny_tokenizer(TEXTS, 320, tmp_path_factory.mktemp("tok") / "tokenizer.json")


def tiny_model(tokenizer: HfTokenizer, seed: int = 0, n_ctx: int = 32) -> Transformer:
    torch.manual_seed(seed)
    cfg = TransformerConfig(
        n_layers=2, d_model=32, n_heads=4, d_head=8, d_mlp=64, n_ctx=n_ctx, d_vocab=320
    )
    model = Transformer(cfg).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.normal_(1.0, 0.1) if name.endswith(".w") else p.normal_(0.0, 0.3)
    model.tokenizer = tokenizer
    return model


def write_u16(path: Path, tokens: list[int] | np.ndarray) -> Path:
    np.asarray(tokens, dtype="<u2").tofile(path)
    return path


# ---- n-gram baselines and validation loss ----------------------------------------------------

TRAIN = [0, 1, 2, 1, 2, 3]  # V = 4
# By hand: c(w) = [1, 2, 2, 1], N = 6; bigrams (0,1) (1,2)x2 (2,1) (2,3): 4 types;
# c(v) = [1, 2, 2, 0]; N1+(v.) = [1, 1, 2, 0]; N1+(.w) = [0, 2, 1, 1];
# P_cont = (N1+(.w) + 1) / (4 + 4) = [1/8, 3/8, 2/8, 2/8].
VAL = [1, 2, 0, 3, 3]  # predictions: 2|1, 0|2, 3|0, 3|3
UNIGRAM = [3 / 10, 2 / 10, 2 / 10, 2 / 10]  # (c + 1) / (6 + 4) for 2, 0, 3, 3
BIGRAM = [
    (2 - 0.75) / 2 + 0.75 * 1 / 2 * (2 / 8),  # 2|1: discounted count plus back-off
    0.75 * 2 / 2 * (1 / 8),  # 0|2: unseen pair, back-off only
    0.75 * 1 / 1 * (2 / 8),  # 3|0
    2 / 8,  # 3|3: unseen context, continuation probability
]


def test_ngram_counts_by_hand(tmp_path: Path) -> None:
    counts = fit_ngrams(np.asarray(TRAIN, dtype=np.uint16), 4)
    prev, targets = np.asarray(VAL[:-1]), np.asarray(VAL[1:])
    np.testing.assert_allclose(np.exp(unigram_log_probs(counts, targets)), UNIGRAM)
    np.testing.assert_allclose(np.exp(bigram_log_probs(counts, prev, targets)), BIGRAM)
    # Through the files, on the one window that fits (n_ctx + 1 = len(VAL)).
    result = ngram_baselines(
        write_u16(tmp_path / "train.u16", TRAIN), write_u16(tmp_path / "val.u16", VAL), 4, 4, 3
    )
    assert result["unigram_loss"] == pytest.approx(-np.mean(np.log(UNIGRAM)))
    assert result["bigram_loss"] == pytest.approx(-np.mean(np.log(BIGRAM)))
    assert result["train_tokens"] == len(TRAIN)


def test_ngram_chunking_and_normalisation() -> None:
    tokens = np.random.default_rng(0).integers(0, 7, size=500).astype(np.uint16)
    whole, chunked = fit_ngrams(tokens, 9), fit_ngrams(tokens, 9, chunk=13)
    for field in ("unigram", "bigram_keys", "bigram_counts", "context_types"):
        np.testing.assert_array_equal(getattr(whole, field), getattr(chunked, field))
    assert whole.bigram_counts.sum() == len(tokens) - 1
    # Every conditional distribution sums to one, also for unseen contexts (7, 8).
    grid = np.arange(9)
    for v in range(9):
        probs = np.exp(bigram_log_probs(whole, np.full(9, v), grid))
        assert probs.sum() == pytest.approx(1.0) and (probs > 0).all()
    assert np.exp(unigram_log_probs(whole, grid)).sum() == pytest.approx(1.0)


def test_validation_loss_matches_direct(tokenizer: HfTokenizer, tmp_path: Path) -> None:
    model = tiny_model(tokenizer, n_ctx=16)
    tokens = np.random.default_rng(1).integers(0, 320, size=17)
    loss = validation_loss(model, write_u16(tmp_path / "v.u16", tokens), n_windows=3, seed=5)
    t = torch.from_numpy(tokens.astype(np.int64))
    with torch.no_grad():
        expected = F.cross_entropy(model(t[:-1])[0], t[1:]).item()
    assert loss == pytest.approx(expected, rel=1e-5)


# ---- induction ---------------------------------------------------------------------------------


def test_induction_scores_brute_force(tokenizer: HfTokenizer) -> None:
    model = tiny_model(tokenizer)
    L, batch = 6, 3
    result = induction_eval(model, batch=batch, seq_len=L, seed=2)
    tokens = repeated_tokens(sampling_vocab(model), batch, L, 2, tokenizer.eot_token_id)
    assert tokens[0, 0] == tokenizer.eot_token_id
    assert torch.equal(tokens[:, 1 : L + 1], tokens[:, L + 1 :])
    assert set(tokens[:, 1:].flatten().tolist()).isdisjoint(tokenizer.special_tokens.values())
    _, cache = model.run_with_cache(tokens)
    for layer in range(2):
        pattern = cache[f"blocks.{layer}.attn.hook_pattern"]
        for h in range(4):
            ind = [
                pattern[b, h, q, q - L + 1].item()
                for b in range(batch)
                for q in range(L + 1, 2 * L + 1)
            ]
            prev = [
                pattern[b, h, q, q - 1].item() for b in range(batch) for q in range(1, 2 * L + 1)
            ]
            assert result["induction_scores"][layer][h] == pytest.approx(sum(ind) / len(ind))
            assert result["prev_token_scores"][layer][h] == pytest.approx(sum(prev) / len(prev))
    logits = model(tokens)
    losses = F.cross_entropy(logits[:, :-1].transpose(1, 2), tokens[:, 1:], reduction="none")
    # Targets: tokens 2..L of each repeat (positions 2..L and L+2..2L).
    first = losses[:, 1:L].mean().item()
    second = losses[:, L + 1 : 2 * L].mean().item()
    assert result["loss_first_half"] == pytest.approx(first, rel=1e-5)
    assert result["loss_second_half"] == pytest.approx(second, rel=1e-5)


def test_forced_induction_head_scores_one(tokenizer: HfTokenizer) -> None:
    model = tiny_model(tokenizer)
    L = 7

    def induction_pattern(pattern: torch.Tensor, hook: HookPoint) -> torch.Tensor:
        forced = pattern.clone()
        pos = pattern.shape[-1]
        target = torch.arange(pos)
        target[L + 1 :] = torch.arange(L + 1, pos) - L + 1  # the token after the earlier copy
        forced[:, 2] = F.one_hot(target, pos).to(pattern.dtype)
        return forced

    result = induction_eval(
        model, batch=4, seq_len=L, fwd_hooks=[("blocks.1.attn.hook_pattern", induction_pattern)]
    )
    scores = result["induction_scores"]
    assert scores[1][2] == 1.0
    assert all(
        s < 0.9
        for layer, row in enumerate(scores)
        for h, s in enumerate(row)
        if (layer, h) != (1, 2)
    )
    assert math.isfinite(result["loss_second_half"])


# ---- behaviours --------------------------------------------------------------------------------


def test_score_items_hand_logits() -> None:
    logits = torch.tensor([[1.0, 5.0, 2.0], [3.0, 0.0, 1.0], [0.0, 0.5, 4.0]])
    correct, diff = score_items(logits, torch.tensor([1, 1, 2]), torch.tensor([0, 2, 1]))
    assert correct.tolist() == [True, False, True]
    assert diff.tolist() == [4.0, -1.0, 3.5]


def test_evaluate_behaviours(tokenizer: HfTokenizer, tmp_path: Path) -> None:
    model = tiny_model(tokenizer)
    items = [
        {"prompt": "print(len(items", "target": ")", "distractor": ","},
        {"prompt": "for i in range(10", "target": ":", "distractor": ")"},
        {
            "prompt": "When Mary and John went to the store, John gave a drink to",
            "target": ".",
            "distractor": ",",
        },
        {"prompt": "x = [y", "target": "]", "distractor": ")"},
        {"prompt": "x =", "target": " zqxzqx", "distractor": " y"},  # not one token
        {"prompt": "return f(", "target": ")", "distractor": "x"},  # "()" is one token
    ]
    assert tokenizer.encode("()") != tokenizer.encode("(") + tokenizer.encode(")")
    doc = {"tasks": [{"name": "mixed", "description": "test items", "items": items}]}
    path = tmp_path / "b.json"
    path.write_text(json.dumps(doc))
    task = evaluate_behaviours(model, path, top_k=2, batch_size=3)["mixed"]
    assert task["n_items"] == 4 and task["n_skipped"] == 2
    assert task["skipped"][0]["reason"].startswith("target ' zqxzqx' is ")
    assert "merges" in task["skipped"][1]["reason"]
    # Each prompt on its own (no padding) gives the same accuracy and logit differences.
    correct, diffs = [], []
    for item in items[:4]:
        with torch.no_grad():
            logits = model(tokenizer.encode(item["prompt"]))[0, -1]
        t, d = tokenizer.encode(item["target"])[0], tokenizer.encode(item["distractor"])[0]
        correct.append(int(logits.argmax()) == t)
        diffs.append((logits[t] - logits[d]).item())
    assert task["accuracy"] == pytest.approx(sum(correct) / 4)
    assert task["mean_logit_diff"] == pytest.approx(sum(diffs) / 4, abs=1e-4)
    top = [d["logit_diff"] for d in task["most_confident"]]
    assert top == pytest.approx(sorted(diffs, reverse=True)[:2], abs=1e-4)


def test_behaviours_json_well_formed(tmp_path: Path) -> None:
    tasks = load_behaviours(DEFAULT_BEHAVIOURS)
    assert len(tasks) >= 6 and len({t["name"] for t in tasks}) == len(tasks)
    for task in tasks:
        assert len(task["items"]) >= 15, task["name"]
        assert len({i["prompt"] for i in task["items"]}) == len(task["items"])
        # A prompt that ends in whitespace would split the target's leading space off.
        assert all(not i["prompt"][-1].isspace() for i in task["items"])
    bad = {"tasks": [{"name": "t", "description": "d", "items": [{"prompt": "a", "target": "b"}]}]}
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="bad item"):
        load_behaviours(tmp_path / "bad.json")


# ---- end to end --------------------------------------------------------------------------------


def test_run_eval_end_to_end(tokenizer: HfTokenizer, tmp_path: Path) -> None:
    model = tiny_model(tokenizer)
    save_model(model, tmp_path / "model")
    rng = np.random.default_rng(3)
    (tmp_path / "data/tokens").mkdir(parents=True)
    write_u16(tmp_path / "data/tokens/train.u16", rng.integers(0, 320, size=2000))
    write_u16(tmp_path / "data/tokens/validation.u16", rng.integers(0, 320, size=300))
    result = run_eval(tmp_path / "model", tmp_path / "data", out_json=tmp_path / "out/eval.json")
    assert json.loads((tmp_path / "out/eval.json").read_text()) == json.loads(json.dumps(result))
    val = result["validation"]
    assert val["unigram_loss"] == pytest.approx(math.log(320), abs=0.2)  # uniform random tokens
    assert val["bigram_loss"] > val["unigram_loss"]  # too few counts: the bigram overfits
    assert len(result["induction"]["induction_scores"]) == 2
    assert result["induction"]["seq_len"] == 15  # (n_ctx - 1) // 2
    assert set(result["behaviours"]) == {t["name"] for t in load_behaviours()}
    direct = evaluate_model(
        model,
        tmp_path / "data/tokens/train.u16",
        tmp_path / "data/tokens/validation.u16",
        None,
        n_windows=4,
    )
    assert direct["behaviours"] is None
    report = format_report(result)
    assert "Validation loss" in report and "Induction" in report and "closing_brackets" in report

"""Which contexts of a token file a collation reads, and how they are cut into shards.

The orchestrator (`collate.run_collation`) makes the plan, and the store (`store.write_store`)
records it and finds the examples' token windows with it: both read it from here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from neuron_explainer.datasets.config import CollationConfig


@dataclass(frozen=True)
class CollationPlan:
    """Which contexts of which token file, and how they are cut into shards."""

    tokens_path: str
    token_start: int
    context_size: int
    n_contexts: int
    shard_contexts: int

    @property
    def n_shards(self) -> int:
        return -(-self.n_contexts // self.shard_contexts)

    @property
    def n_tokens(self) -> int:
        return self.n_contexts * self.context_size

    def shard(self, i: int) -> tuple[int, int]:
        """First context and number of contexts of shard i."""
        first = i * self.shard_contexts
        return first, min(self.shard_contexts, self.n_contexts - first)


def make_plan(
    tokens_path: str | Path,
    n_file_tokens: int,
    size: int,
    cfg: CollationConfig,
    token_budget: int | None = None,
    token_start: int = 0,
) -> CollationPlan:
    available = n_file_tokens - token_start
    budget = available if token_budget is None else min(token_budget, available)
    n_contexts = budget // size
    if n_contexts <= 0:
        raise ValueError(
            f"{tokens_path}: {available} tokens after token {token_start}, fewer than one "
            f"context of {size}"
        )
    return CollationPlan(str(tokens_path), token_start, size, n_contexts, cfg.shard_contexts)

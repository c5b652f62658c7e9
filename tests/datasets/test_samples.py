"""Samples read off a shared key order equal the bottom-k by key, on batches large enough for the
chunked scan, with and without a prior."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neuron_explainer.datasets.examples import KEY_EMPTY, Examples, dense_lookup, node_keys
from neuron_explainer.datasets.samples import KeyOrder, positive_sample, random_sample

WINDOW = 3


def windows(comps: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
    return (comps * 100_000 + nodes).float()[:, None].expand(-1, WINDOW).clone()


@pytest.fixture(scope="module")
def batch() -> tuple[torch.Tensor, torch.Tensor]:
    """Rows of every density: dense, medium, sparse, a handful, none."""
    g = torch.Generator().manual_seed(0)
    n = 20_000
    density = torch.tensor([0.9, 0.3, 0.05, 0.004, 0.0008, 0.0, 0.5, 0.01])[:, None]
    values = torch.randn(len(density), n, generator=g).abs() + 0.1
    values *= torch.rand(len(density), n, generator=g) < density
    values -= 0.05 * (torch.rand(len(density), n, generator=g) < 0.1)  # some negatives
    return values, torch.arange(n) * 7 + 3


def expected(values: np.ndarray, keys: np.ndarray, bound: int, k: int, positive: bool) -> list:
    eligible = (keys < bound) & ((values > 0) if positive else True)
    order = np.argsort(np.where(eligible, keys, KEY_EMPTY), kind="stable")
    return order[: min(k, int(eligible.sum()))].tolist()


def check(got: Examples, values: torch.Tensor, ids: torch.Tensor, keys: torch.Tensor,
          bounds: list[int], k: int, positive: bool) -> None:  # fmt: skip
    for c in range(values.shape[0]):
        nodes = expected(values[c].numpy(), keys.numpy(), bounds[c], k, positive)
        m = len(nodes)
        assert got.ids[c, :m].tolist() == ids[nodes].tolist(), c
        assert (got.ids[c, m:] == -1).all() and (got.keys[c, m:] == KEY_EMPTY).all()
        assert got.keys[c, :m].tolist() == keys[nodes].tolist()
        assert torch.equal(got.values[c, :m], values[c, nodes])
        assert torch.equal(got.windows[c, :m, 0], (c * 100_000 + torch.tensor(nodes)).float())


@pytest.mark.parametrize("with_prior", [False, True])
def test_samples_equal_bottom_k(batch, with_prior: bool) -> None:
    values, ids = batch
    c = values.shape[0]
    keys = node_keys(ids, seed=3) ^ 12345
    bounds = [KEY_EMPTY] * c
    prior = None
    if with_prior:  # full priors for some rows: their largest key bounds the batch's
        bounds = [int(b) for b in torch.randint(0, 2**62, (c,), generator=torch.Generator())]
        bounds[1] = KEY_EMPTY
        prior_keys = torch.full((c, 50), 0, dtype=torch.int64)
        prior_keys[:, -1] = torch.tensor(bounds)
        zeros = torch.zeros(c, 50, WINDOW)
        prior = Examples.dense(prior_keys, prior_keys, prior_keys.float(), zeros)
    positives = (values > 0).sum(1)
    for k in (1, 50):
        got = positive_sample(values, positives, ids, KeyOrder(keys), windows, WINDOW, k, prior)
        check(got, values, ids, keys, bounds, k, positive=True)
    got = random_sample(c, dense_lookup(values), ids, KeyOrder(keys), windows, WINDOW, 10, prior)
    check(got, values, ids, keys, bounds, 10, positive=False)

"""A batch's top examples and their merge follow the documented order, value descending and ties
by id ascending, also where many values tie (attention probabilities of exactly 1, say); and
merging examples moves each one's window with it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neuron_explainer.datasets.examples import Examples, batch_top, merge_top, node_keys

WINDOW = 3
K = 5


def windows(comps: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
    return (comps * 100_000 + nodes).float()[:, None].expand(-1, WINDOW).clone()


def expected_top(values: np.ndarray, ids: np.ndarray, k: int) -> list[int]:
    """Brute force: columns sorted by (value descending, id ascending)."""
    return sorted(range(len(ids)), key=lambda j: (-values[j], ids[j]))[:k]


@pytest.fixture(scope="module")
def tied() -> tuple[torch.Tensor, torch.Tensor]:
    """Values from a few levels, so that each row has many ties at its top; ids not in column
    order (as heads' pair ids are not)."""
    g = torch.Generator().manual_seed(1)
    levels = torch.tensor([0.0, 0.25, 0.5, 1.0])
    values = levels[torch.randint(0, 4, (6, 400), generator=g)]
    values[0] = 1.0  # every value tied
    values[1, :] = 0.5
    values[1, 7] = 1.0  # one above many ties
    ids = torch.randperm(400, generator=g) * 3 + 11
    return values, ids


def check(got: Examples, values: torch.Tensor, ids: torch.Tensor, rows: range) -> None:
    for c in rows:
        cols = expected_top(values[c].numpy(), ids.numpy(), K)
        assert got.ids[c].tolist() == ids[cols].tolist(), c
        assert torch.equal(got.values[c], values[c, cols])
        assert torch.equal(got.windows[c, :, 0], (c * 100_000 + torch.tensor(cols)).float())


def test_batch_top_breaks_ties_by_id(tied) -> None:
    values, ids = tied
    keys = node_keys(ids, 0)
    check(batch_top(values, keys, ids, windows, WINDOW, K), values, ids, range(len(values)))


def test_batch_top_with_a_full_prior_admits_only_what_can_enter(tied) -> None:
    values, ids = tied
    keys = node_keys(ids, 0)
    first, second = values[:, :200], values[:, 200:]
    a = batch_top(first, keys[:200], ids[:200], windows, WINDOW, K)
    shifted = lambda comps, nodes: windows(comps, nodes + 200)  # noqa: E731
    b = batch_top(second, keys[200:], ids[200:], shifted, WINDOW, K, prior=a)
    # Only nodes that beat the prior's k-th (value, id) are listed; the merge is the top of all.
    floor = [(float(a.values[c, -1]), int(a.ids[c, -1])) for c in range(len(values))]
    for c in range(len(values)):
        for v, i in zip(b.values[c].tolist(), b.ids[c].tolist(), strict=True):
            assert i < 0 or (-v, i) < (-floor[c][0], floor[c][1])
    check(merge_top(a, b, K), values, ids, range(len(values)))
    check(merge_top(a, b, K, into=True), values, ids, range(len(values)))

"""The node table: the top and bottom k nodes per metric across all families, merged.

Selection is vectorised per site (a top-k per site, then a top-k over the sites' candidates);
Python only loops over sites, metrics and the listed nodes. Nodes whose metric is not finite
(NaN: undefined) or that do not exist (`SiteMetrics.valid`) are never selected by that metric.
Write magnitudes are norms: their bottom k would list dead nodes, so only their top k is taken.

Pinned nodes (the nodes a request ablates, the node it traces) are listed first whatever their
values: an ablated node's values are mostly zero and a traced node is downstream of its own
quantity (not a valid node), so no ranking would list them, yet they are what the user acts on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

import torch
from jaxtyping import Float
from torch import Tensor

from neuron_explainer.activations.families import get_family, selects
from neuron_explainer.activations.metrics import METRICS, MetricName, SiteMetrics
from neuron_explainer.activations.nodes import Node, NodeSite, Selection

T = TypeVar("T")
RankOn = Literal["left", "right", "diff"]
Pin = Literal["ablated", "traced"]  # why a node is pinned to the node table


@dataclass(frozen=True)
class Sides(Generic[T]):
    """A value of the left run, and where there are two runs, of the right run and left - right."""

    left: T
    right: T | None = None
    diff: T | None = None


@dataclass(frozen=True)
class NodeValues:
    activation: float
    write_magnitude: float
    direct_effect: float
    total_effect: float


@dataclass(frozen=True)
class NodeSides:
    """A node's values in the left run, and where there are two runs, in the right run and
    left - right. A run that has no such node (prompts of different lengths, see `alignment`)
    has None, and so has the difference."""

    left: NodeValues | None
    right: NodeValues | None = None
    diff: NodeValues | None = None


@dataclass(frozen=True)
class ListedNode:
    node: Node
    values: NodeSides
    ranked_by: tuple[str, ...]  # e.g. ("total_effect:top", "activation:bottom"); () if pinned only
    pins: tuple[Pin, ...] = ()


def ranking_view(site: SiteMetrics, metric: MetricName, rank_on: RankOn) -> Tensor:
    """The metric of every node of the site as ranked: row 0 (left), row 1 (right) or their
    difference, in the site's node layout."""
    values = site.get(metric)
    if rank_on != "left" and values.shape[0] < 2:
        raise ValueError(f"rank_on={rank_on!r} needs two runs")
    if rank_on == "left":
        return values[0]
    if rank_on == "right":
        return values[1]
    return values[0] - values[1]


def select_nodes(
    sites: Sequence[SiteMetrics],
    k: int,
    rank_on: RankOn = "left",
    pins: Mapping[Node, Sequence[Pin]] | None = None,
    present: Sequence[Tensor] | None = None,
) -> list[ListedNode]:
    """Top k and bottom k nodes per metric across `sites`, each listed once with every metric,
    ordered by the ranked total effect, largest first, after the pinned nodes (`pins`, in the
    order given), which are listed whatever their values and validity. `present` (per site,
    [batch, *nodes]) says where a run has a node; a run without it gets None (default: every
    run has every node)."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    # Flat indices of each site's nodes (None: every entry of the layout is one).
    nodes = [None if bool(s.valid.all()) else s.valid.reshape(-1).nonzero()[:, 0] for s in sites]
    reasons: dict[tuple[int, int], list[str]] = {}
    for metric in METRICS:
        directions = ("top",) if metric == "write_magnitude" else ("top", "bottom")
        for direction, chosen in zip(
            directions, _extremes(sites, nodes, metric, rank_on, k), strict=False
        ):
            for site_i, flat in chosen:
                reasons.setdefault((site_i, flat), []).append(f"{metric}:{direction}")
    pinned = _locate(sites, pins or {})
    listed = _gather(sites, reasons, pinned, present)
    order = {key: i for i, key in enumerate(pinned)}  # pinned first, in the order given

    def sort_key(item: tuple[tuple[int, int], ListedNode]) -> tuple[int, float]:
        key, node = item
        return order.get(key, len(order)), -_rank_value(node, rank_on)

    return [node for _, node in sorted(listed, key=sort_key)]


def _locate(
    sites: Sequence[SiteMetrics], pins: Mapping[Node, Sequence[Pin]]
) -> dict[tuple[int, int], tuple[Pin, ...]]:
    """(site index, flat node index) of each pinned node."""
    where = {NodeSite(s.site.family, s.site.site): i for i, s in enumerate(sites)}
    out = {}
    for node, why in pins.items():
        site = NodeSite(node.family, node.site)
        if site not in where:
            raise ValueError(f"Pinned node {node.id} is at a site that was not measured")
        flat = 0
        for i, n in zip(site.index(node), sites[where[site]].valid.shape, strict=True):
            if not 0 <= i < n:
                raise ValueError(f"Pinned node {node.id} is outside its site's nodes")
            flat = flat * n + i
        out[(where[site], flat)] = tuple(why)
    return out


def _extremes(
    sites: Sequence[SiteMetrics],
    nodes: Sequence[Tensor | None],
    metric: MetricName,
    rank_on: RankOn,
    k: int,
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(site index, flat node index) of the k largest and the k smallest finite values of the
    metric across the sites' nodes (`nodes`: see `select_nodes`)."""
    top: list[tuple[Tensor, Tensor, Tensor]] = []
    bottom: list[tuple[Tensor, Tensor, Tensor]] = []
    for site_i, (site, flat) in enumerate(zip(sites, nodes, strict=True)):
        view = ranking_view(site, metric, rank_on).reshape(-1)
        values = view if flat is None else view.index_select(0, flat)
        if values.numel() == 0:
            continue
        low, high = values.aminmax()
        finite = bool(torch.isfinite(low) & torch.isfinite(high))  # NaN makes both NaN
        for out, fill, largest in ((top, float("-inf"), True), (bottom, float("inf"), False)):
            ranked = values if finite else values.masked_fill(~values.isfinite(), fill)
            best, idx = top_k(ranked, min(k, values.numel()), largest)
            keep = best.isfinite()
            idx = idx[keep] if flat is None else flat[idx[keep]]
            out.append((best[keep], idx, torch.full_like(idx, site_i)))
    return _best(top, k, largest=True), _best(bottom, k, largest=False)


TOPK_ROW = 256  # `top_k` splits a long vector into rows of this many values


def top_k(values: Tensor, n: int, largest: bool = True) -> tuple[Tensor, Tensor]:
    """`values.topk(n, largest=largest)` of a 1-D tensor (equal up to the order of ties), faster
    for long vectors: the n best values lie in the n rows (of TOPK_ROW values) whose best value
    is largest, since every row left out has n better values in the rows taken."""
    rows = values.numel() // TOPK_ROW
    if rows <= 4 * n:
        return values.topk(n, largest=largest)
    body = values[: rows * TOPK_ROW].view(rows, TOPK_ROW)
    row_best = body.amax(1) if largest else body.amin(1)
    taken = row_best.topk(n, largest=largest).indices
    device = values.device
    candidates = (taken[:, None] * TOPK_ROW + torch.arange(TOPK_ROW, device=device)).reshape(-1)
    candidates = torch.cat(
        [candidates, torch.arange(rows * TOPK_ROW, values.numel(), device=device)]
    )
    best, j = values.index_select(0, candidates).topk(n, largest=largest)
    return best, candidates[j]


def _best(
    candidates: list[tuple[Tensor, Tensor, Tensor]], k: int, largest: bool
) -> list[tuple[int, int]]:
    if not candidates:
        return []
    values, flat_ids, site_ids = (torch.cat(parts) for parts in zip(*candidates, strict=True))
    chosen = values.topk(min(k, values.numel()), largest=largest).indices
    return list(zip(site_ids[chosen].tolist(), flat_ids[chosen].tolist(), strict=True))


def _gather(
    sites: Sequence[SiteMetrics],
    reasons: Mapping[tuple[int, int], Sequence[str]],
    pinned: Mapping[tuple[int, int], tuple[Pin, ...]],
    present: Sequence[Tensor] | None,
) -> list[tuple[tuple[int, int], ListedNode]]:
    listed = []
    for site_i, site in enumerate(sites):
        flats = list(dict.fromkeys(f for (s, f) in [*reasons, *pinned] if s == site_i))
        if not flats:
            continue
        idx = torch.tensor(flats, dtype=torch.long)
        shape = site.valid.shape
        per_metric = {m: site.get(m).flatten(1)[:, idx].tolist() for m in METRICS}  # [batch][n]
        here = None if present is None else present[site_i].flatten(1)[:, idx].tolist()
        batch = site.activation.shape[0]
        for j, flat in enumerate(flats):
            rows = [
                NodeValues(*(per_metric[m][r][j] for m in METRICS))
                if here is None or here[r][j]
                else None
                for r in range(batch)
            ]
            index = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), shape))
            key = (site_i, flat)
            node = ListedNode(
                node=site.site.node(index),
                values=_sides(rows),
                ranked_by=tuple(reasons.get(key, ())),
                pins=pinned.get(key, ()),
            )
            listed.append((key, node))
    return listed


def _sides(rows: list[NodeValues | None]) -> NodeSides:
    if len(rows) == 1:
        return NodeSides(rows[0])
    left, right = rows[0], rows[1]
    if left is None or right is None:
        return NodeSides(left, right)
    diff = NodeValues(*(getattr(left, m) - getattr(right, m) for m in METRICS))
    return NodeSides(left, right, diff)


def _rank_value(listed: ListedNode, rank_on: RankOn) -> float:
    values: NodeValues | None = getattr(listed.values, rank_on)
    if values is None:  # a run without the node, or pinned in a single run ranked on "right"
        return float("-inf")
    total = values.total_effect
    return total if total == total else float("-inf")  # NaN last


def token_sums(
    sites: Sequence[SiteMetrics], families: Sequence[Selection], batch: int, pos: int
) -> dict[Selection, Sides[list[float]]]:
    """Per family (or selection), the total effects of its nodes summed per token (heads: per
    key token)."""
    out = {}
    for family in families:
        total: Float[Tensor, "batch pos"] | None = None
        for site in sites:
            if selects(family, site.site):
                sums = get_family(family).token_sums(site.total_effect)
                total = sums if total is None else total + sums
        if total is None:  # a family with no sites in this model (e.g. no autoencoders)
            total = torch.zeros(batch, pos)
        rows = total.tolist()
        if len(rows) == 1:
            out[family] = Sides(rows[0])
        else:
            out[family] = Sides(rows[0], rows[1], (total[0] - total[1]).tolist())
    return out

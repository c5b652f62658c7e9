from __future__ import annotations

import pytest
import torch

from neuron_explainer.activations.nodes import FAMILIES, Node, NodeSite
from neuron_explainer.activations.tables import top_k
from neuron_explainer.models.sites import Site
from tests.activations import node_id_fixture


def write_sublayer(site: str) -> int:
    return Site.parse(site).residual_position


@pytest.mark.parametrize(
    "node, node_id",
    [
        (Node.embedding(4), "embedding:hook_embed:4:0"),
        (Node.neuron(0, 3, 17), "neuron:blocks.0.mlp.hook_post:3:17"),
        (Node.head(1, 2, 5, 3), "head:blocks.1.attn.hook_pattern:5:2:3"),
        (
            Node.latent("blocks.0.hook_resid_post", 6, 40),
            "latent:blocks.0.hook_resid_post.hook_sae_acts_post:6:40",
        ),
    ],
)
def test_ids_round_trip(node: Node, node_id: str) -> None:
    assert node.id == node_id
    assert Node.parse(node_id) == node
    site = NodeSite(node.family, node.site)
    assert site.node(site.index(node)) == node


def test_layers() -> None:
    assert Node.embedding(0).layer is None
    assert Node.head(1, 0, 2, 2).layer == 1
    assert Node.latent("blocks.3.mlp.hook_post", 0, 0).layer == 3


@pytest.mark.parametrize(
    "bad",
    ["neuron:blocks.0.mlp.hook_post:3", "cell:x:1:2", "neuron:blocks.0.mlp.hook_post:a:2", ""],
)
def test_bad_ids_raise(bad: str) -> None:
    with pytest.raises(ValueError):
        Node.parse(bad)


def test_ui_fixture_is_what_the_server_makes_of_node_ids() -> None:
    """The UI's node-id rules are tested against this file (src/lib/nodeIds.test.ts); a change
    to the server's rules fails here until the file is regenerated (see node_id_fixture)."""
    assert node_id_fixture.FIXTURE.read_text() == node_id_fixture.fixture_text(), (
        f"{node_id_fixture.FIXTURE} is out of date with Node: run "
        "`.venv/bin/python -m tests.activations.node_id_fixture` and check the UI's tests"
    )
    for expected in node_id_fixture.fixture()["valid"]:
        parsed = Node.parse(expected["id"])
        assert node_id_fixture.row(parsed) == expected
    families = {row["family"] for row in node_id_fixture.fixture()["valid"]}
    assert families == set(FAMILIES)


@pytest.mark.parametrize("bad", node_id_fixture.INVALID)
def test_ids_the_ui_must_refuse_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        Node.parse(bad)


def test_invalid_nodes_raise() -> None:
    with pytest.raises(ValueError, match="key_token"):
        Node("head", "blocks.0.attn.hook_pattern", 3, 1)
    with pytest.raises(ValueError, match="key token comes at or before"):
        Node.head(0, 1, 2, 3)
    with pytest.raises(ValueError, match="non-negative"):
        Node.neuron(0, -1, 2)


def test_residual_stream_order_of_writes() -> None:
    order = [
        "hook_embed",
        "blocks.0.hook_resid_pre.hook_sae_acts_post",
        "blocks.0.attn.hook_pattern",
        "blocks.0.mlp.hook_post",
        "blocks.1.attn.hook_pattern",
        "blocks.1.hook_mlp_out.hook_sae_acts_post",
    ]
    values = [write_sublayer(s) for s in order]
    assert values == sorted(values) and values == [0, 0, 1, 2, 3, 4]
    # A residual-stream autoencoder before layer 1's attention holds everything written before.
    assert write_sublayer("blocks.1.hook_resid_pre") == write_sublayer("blocks.0.mlp.hook_post")
    with pytest.raises(ValueError):
        write_sublayer("ln_final.hook_scale")


@pytest.mark.parametrize("n", [1, 10])
@pytest.mark.parametrize("size", [7, 3000, 100_003])
def test_top_k_equals_torch_topk(n: int, size: int) -> None:
    values = torch.randn(size, generator=torch.Generator().manual_seed(size))
    values[::97] = 0.5  # ties
    for largest in (True, False):
        best, idx = top_k(values, min(n, size), largest)
        expected, _ = values.topk(min(n, size), largest=largest)
        assert torch.equal(best, expected)
        assert torch.equal(values[idx], best)

"""The node ids shared with the UI: neuron_viewer/src/lib/nodeIds.fixture.json.

The UI parses and formats node ids itself (neuron_viewer/src/lib/nodes.ts). This fixture holds
what the server's `Node` makes of ids of every family and shape, and ids it refuses; a pytest
(tests/activations/test_nodes.py) checks the committed file against `Node`, and a Vitest test
(src/lib/nodeIds.test.ts) checks the UI against the file. After a change to the id format,
regenerate it with

    .venv/bin/python -m tests.activations.node_id_fixture
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from neuron_explainer.activations.nodes import Node

FIXTURE = Path(__file__).parents[2] / "neuron_viewer" / "src" / "lib" / "nodeIds.fixture.json"

# Every family, at several layers (one and two digits) and tokens, heads with the key at, before
# and long before the query, latents on MLP, attention-output and residual-stream sites.
NODES = [
    Node.embedding(0),
    Node.embedding(7),
    Node.neuron(0, 0, 0),
    Node.neuron(1, 3, 17),
    Node.neuron(11, 1023, 3071),
    Node.head(0, 0, 0, 0),
    Node.head(1, 2, 5, 3),
    Node.head(10, 11, 900, 4),
    Node.latent("blocks.0.mlp.hook_post", 4, 9),
    Node.latent("blocks.1.mlp.hook_pre", 0, 32767),
    Node.latent("blocks.1.hook_mlp_out", 2, 5),
    Node.latent("blocks.1.hook_attn_out", 2, 9),
    Node.latent("blocks.0.hook_resid_pre", 6, 40),
    Node.latent("blocks.12.hook_resid_post", 1, 3),
    Node.latent("hook_embed", 3, 1),
]

# Ids the server refuses, each for another reason; the UI must refuse them too.
INVALID = [
    "",
    "neuron",
    "neuron:blocks.0.mlp.hook_post",
    "neuron:blocks.0.mlp.hook_post:3",
    "neuron:blocks.0.mlp.hook_post:3:17:2",
    "embedding:hook_embed:3",
    "head:blocks.1.attn.hook_pattern:5:2",
    "head:blocks.1.attn.hook_pattern:5:2:3:1",
    "cell:blocks.0.mlp.hook_post:3:17",
    "Neuron:blocks.0.mlp.hook_post:3:17",
    "neuron:blocks.0.mlp.hook_post:a:17",
    "neuron:blocks.0.mlp.hook_post:3:",
    "neuron:blocks.0.mlp.hook_post:3:1.5",
    "neuron:blocks.0.mlp.hook_post:-1:17",
    "latent:blocks.0.mlp.hook_post.hook_sae_acts_post:4:-9",
    "head:blocks.1.attn.hook_pattern:3:2:5",
    "head:blocks.1.attn.hook_pattern:5:-2:3",
    "neuron:blocks.0.mlp.hook_post:+1:17",
    "neuron:blocks.0.mlp.hook_post: 1:17",
    "neuron:blocks.0.mlp.hook_post:1_0:17",
    "neuron:blocks.0.mlp.hook_post:-0:17",
    "neuron:blocks.0.mlp.hook_post:\u0663:17",
]


def row(node: Node) -> dict[str, Any]:
    """A node's id and fields, in the UI's names (its `ParsedNode`)."""
    return {
        "id": node.id,
        "family": node.family,
        "site": node.site,
        "layer": node.layer,
        "token": node.token,
        "index": node.index,
        "keyToken": node.key_token,
    }


def fixture() -> dict[str, Any]:
    return {
        "about": "Node ids as the server's Node formats and parses them, and ids it refuses. "
        "Generated: .venv/bin/python -m tests.activations.node_id_fixture",
        "valid": [row(n) for n in NODES],
        "invalid": INVALID,
    }


def fixture_text() -> str:
    return json.dumps(fixture(), indent=2) + "\n"


if __name__ == "__main__":
    FIXTURE.write_text(fixture_text())
    print(f"wrote {FIXTURE}")

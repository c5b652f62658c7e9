"""The attribution engine: nodes, their four metrics, node tables, ablations, verification.

Entry point: `attribute(model, AttributionRequest(...)) -> AttributionResult`.
"""

import neuron_explainer.activations.families  # noqa: F401 (registers the families first)
from neuron_explainer.activations.ablations import Ablation
from neuron_explainer.activations.attribution import (
    AttributionRequest,
    AttributionResult,
    NodeRow,
    attribute,
)
from neuron_explainer.activations.direction import DirectRead, LogitDifference, Objective
from neuron_explainer.activations.metrics import METRICS, SiteMetrics
from neuron_explainer.activations.nodes import FAMILIES, Node
from neuron_explainer.activations.tables import NodeValues, Sides
from neuron_explainer.activations.tracing import TRACE_KINDS, Trace
from neuron_explainer.activations.verification import Verification, VerifiedNode

__all__ = [
    "FAMILIES",
    "METRICS",
    "TRACE_KINDS",
    "Ablation",
    "AttributionRequest",
    "AttributionResult",
    "DirectRead",
    "LogitDifference",
    "Node",
    "NodeRow",
    "NodeValues",
    "Objective",
    "Sides",
    "SiteMetrics",
    "Trace",
    "Verification",
    "VerifiedNode",
    "attribute",
]

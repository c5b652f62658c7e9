"""Activation datasets: top-activating examples, quantile and random samples, moments,
histograms and logit tables of every neuron, attention head and autoencoder latent, collated in
one streaming pass over a corpus split (map: `collate_shard`, merge: `merge`) into a columnar
store (`store`) read back per component (`reader`). Formats: datasets/FORMAT.md."""

from neuron_explainer.datasets.collate import collate_shard, run_collation
from neuron_explainer.datasets.config import CollationConfig, Group
from neuron_explainer.datasets.reader import (
    CollationStore,
    StoreCache,
    layer_summary,
    open_store,
    read_record,
)
from neuron_explainer.datasets.shards import CollationFileError, ShardResult, merge
from neuron_explainer.datasets.store_errors import (
    IndexDefectError,
    StoreDefectError,
    StoreMissingError,
)

__all__ = [
    "CollationConfig",
    "CollationFileError",
    "CollationStore",
    "Group",
    "IndexDefectError",
    "ShardResult",
    "StoreCache",
    "StoreDefectError",
    "StoreMissingError",
    "collate_shard",
    "layer_summary",
    "merge",
    "open_store",
    "read_record",
    "run_collation",
]

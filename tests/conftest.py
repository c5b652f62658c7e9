import os
from collections.abc import Iterator

import pytest
import torch

# Tests never touch the network: Hugging Face libraries must only read local files.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
# A token in the developer's environment would change what `tdb serve`'s parsing gives.
os.environ.pop("TDB_TOKEN", None)

# Check the jaxtyping shape annotations of the package at test time.
from jaxtyping import install_import_hook

install_import_hook("neuron_explainer", "beartype.beartype")


@pytest.fixture(scope="session", autouse=True)
def _flush_denormals() -> Iterator[None]:
    """Denormal floats flushed to zero while tests run, as `tdb` and the server's model thread do
    (the library leaves it to its entry points): tests that call attribution, training or
    collation directly are many times slower on the CPU without it. Threads started later inherit
    it. Not at import: collecting the schemathesis tests draws floats with hypothesis, which
    refuses to where subnormals flush to zero (test_schema.py turns it off for its module)."""
    torch.set_flush_denormal(True)
    yield

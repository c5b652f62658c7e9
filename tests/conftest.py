import os

# Tests never touch the network: Hugging Face libraries must only read local files.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
# A token in the developer's environment would change what `tdb serve`'s parsing gives.
os.environ.pop("TDB_TOKEN", None)

# Check the jaxtyping shape annotations of the package at test time.
from jaxtyping import install_import_hook

install_import_hook("neuron_explainer", "beartype.beartype")

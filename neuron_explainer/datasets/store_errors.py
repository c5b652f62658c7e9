"""What can be wrong with a collation store, as errors a server can report without its paths.

A store is either missing (no `index.json`: never built, or still being written, since the index
is written last) or damaged (a file unreadable, corrupt, or not what `index.json` says). A missing
store is built by `tdb collate`; a damaged one is rebuilt by it. Both are `CollationFileError`s,
whose message starts with the full path; a damaged store's error also holds the file relative to
the store (`component`) and the problem apart, for messages that must not show the server's
directories.
"""

from __future__ import annotations

from neuron_explainer.datasets.shards import CollationFileError
from neuron_explainer.datasets.store import join


class StoreMissingError(CollationFileError):
    """No `index.json`: no store here, or one not finished yet."""


class StoreDefectError(CollationFileError):
    """A file of the store is missing, unreadable, corrupt or inconsistent with `index.json`."""

    def __init__(self, root: str, component: str, problem: str) -> None:
        super().__init__(join(root, component), problem)
        self.root = root
        self.component = component  # e.g. index.json, neuron/blocks.0.mlp.hook_post/x.npy
        self.problem = problem

    @property
    def relative_message(self) -> str:
        """The message with the file named relative to the store."""
        return f"{self.component}: {self.problem}"


class IndexDefectError(StoreDefectError):
    """`index.json` is not valid JSON, or lacks a key, or holds a value of the wrong type."""

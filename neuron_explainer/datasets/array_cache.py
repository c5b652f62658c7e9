"""Arrays read from collation stores, kept in memory up to a number of bytes.

A server reads a group's arrays once and then answers every record of the group from memory; a
large model's store holds gigabytes, so the cache drops the least recently used arrays once the
arrays it holds pass `max_bytes` (their `nbytes`). An array larger than the whole budget is
returned but not kept. Keys name the file and its sha256 from `index.json`, so an array of a
store rebuilt since is never taken for the new one. Safe to share between threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import numpy.typing as npt

DEFAULT_CACHE_BYTES = 512 * 2**20  # 512 MiB


class ArrayCache:
    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        if max_bytes < 0:
            raise ValueError(f"An array cache needs max_bytes >= 0, not {max_bytes}")
        self.max_bytes = max_bytes
        self._arrays: OrderedDict[Hashable, npt.NDArray[Any]] = OrderedDict()
        self._nbytes = 0
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays held now (at most `max_bytes`)."""
        return self._nbytes

    def __len__(self) -> int:
        return len(self._arrays)

    def get(self, key: Hashable) -> npt.NDArray[Any] | None:
        with self._lock:
            array = self._arrays.get(key)
            if array is not None:
                self._arrays.move_to_end(key)
            return array

    def put(self, key: Hashable, array: npt.NDArray[Any]) -> None:
        if array.nbytes > self.max_bytes:
            return
        with self._lock:
            old = self._arrays.pop(key, None)
            if old is not None:
                self._nbytes -= old.nbytes
            self._arrays[key] = array
            self._nbytes += array.nbytes
            while self._nbytes > self.max_bytes:
                _, dropped = self._arrays.popitem(last=False)
                self._nbytes -= dropped.nbytes

    def clear(self) -> None:
        with self._lock:
            self._arrays.clear()
            self._nbytes = 0

"""Bounded LRU of query vectors, keyed by model and the exact text embedded.

The key is the text as the embedder sees it (whitespace already collapsed by `prepare`), not a
case-folded form: e5's tokenizer is cased, so "How" and "how" give different vectors, and a
cache that merged them would make a ranking depend on which was asked first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]


class QueryCache:
    def __init__(self, model: str, size: int) -> None:
        self._model = model
        self._size = size
        self._rows: OrderedDict[tuple[str, str], Vector] = OrderedDict()
        self._lock = threading.Lock()  # searched from many threads

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, text: str) -> Vector | None:
        key = (self._model, text)
        with self._lock:
            row = self._rows.get(key)
            if row is not None:
                self._rows.move_to_end(key)
            return row

    def put(self, text: str, vector: Vector) -> None:
        if self._size <= 0:
            return
        vector.setflags(write=False)  # shared by every caller that hits it
        with self._lock:
            self._rows[(self._model, text)] = vector
            self._rows.move_to_end((self._model, text))
            while len(self._rows) > self._size:
                self._rows.popitem(last=False)

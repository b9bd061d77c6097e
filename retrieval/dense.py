"""Exact inner-product search over L2-normalised vectors in FAISS, restricted to allowed rows.

Rows belong to entries (`row_entry`); the visibility filter is a FAISS `IDSelectorBitmap`, so a
row that is not allowed is never scored, let alone returned, whatever k is.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import numpy.typing as npt

from retrieval.embedders import Vectors

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class DenseField:
    def __init__(self, index: faiss.IndexFlat, row_entry: IntArray) -> None:
        self._index = index
        self.row_entry = row_entry

    @classmethod
    def build(cls, vectors: Vectors, row_entry: IntArray) -> DenseField:
        index = faiss.IndexFlatIP(vectors.shape[1])
        if len(vectors):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index, np.asarray(row_entry, dtype=np.int64))

    @property
    def dim(self) -> int:
        return int(self._index.d)

    @property
    def vectors(self) -> Vectors:
        """A zero-copy view of the vectors FAISS holds (kept alive by this object)."""
        n, d = int(self._index.ntotal), int(self._index.d)
        if n == 0:
            return np.zeros((0, d), dtype=np.float32)
        return faiss.rev_swig_ptr(self._index.get_xb(), n * d).reshape(n, d)

    def row_filter(self, allowed_entries: BoolArray) -> RowFilter:
        return RowFilter(allowed_entries[self.row_entry])

    def nearest_entries(self, query: Vectors, rows: RowFilter | None, n: int) -> IntArray:
        """Entries owning the `n` rows most similar to `query`; only `rows` are searched."""
        total = int(self._index.ntotal)
        if total == 0 or n <= 0:
            return np.zeros(0, dtype=np.int64)
        params = None
        if rows is not None:
            params = faiss.SearchParameters()
            params.sel = rows.selector
        _, rows_found = self._index.search(query.reshape(1, -1), min(n, total), params=params)
        found = rows_found[0][rows_found[0] >= 0]
        return np.unique(self.row_entry[found])
    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, row_entry: IntArray) -> DenseField:
        index = faiss.read_index(str(path))
        if not isinstance(index, faiss.IndexFlat):
            raise ValueError(f"{path.name}: not a flat FAISS index")
        if index.ntotal != len(row_entry):
            raise ValueError(f"{path.name}: {index.ntotal} vectors for {len(row_entry)} rows")
        return cls(index, np.asarray(row_entry, dtype=np.int64))


class RowFilter:
    """The rows a search may look at, as the bitmap FAISS reads while scanning."""

    def __init__(self, allowed_rows: BoolArray) -> None:
        # FAISS keeps only a pointer to the bitmap: the array must live as long as the selector.
        self._bits = np.packbits(allowed_rows, bitorder="little")
        self.selector = faiss.IDSelectorBitmap(len(allowed_rows), faiss.swig_ptr(self._bits))

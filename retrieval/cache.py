"""Embedding cache keyed by a hash of (model, role, text), stored as JSON keys + a NumPy matrix.

Editing one knowledge file changes only that file's texts, so only they miss the cache and get
embedded again; everything else is read back from disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from retrieval.embedders import Embedder, Vectors

_KEYS = "keys.json"
_VECTORS = "vectors.npy"


def cache_folder(base: Path, model: str) -> Path:
    """One sub-folder per model, named readably but uniquely."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", model)[:48]
    return base / f"{readable}-{hashlib.sha256(model.encode()).hexdigest()[:8]}"


def text_key(model: str, role: str, text: str) -> str:
    return hashlib.sha256(f"{model}\x00{role}\x00{text}".encode()).hexdigest()


class EmbeddingCache:
    """In-memory map of key -> vector, loaded from and saved to a folder (one per model)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        self._rows: dict[str, np.ndarray] = {}
        self._used: set[str] = set()
        self._dirty = False
        if folder is not None:
            self._load(folder)

    def __len__(self) -> int:
        return len(self._rows)

    def passages(self, embedder: Embedder, texts: Sequence[str]) -> Vectors:
        """Passage vectors for `texts`, embedding only those not seen before (in one batch)."""
        return self._vectors(embedder, "passage", texts)

    def queries(self, embedder: Embedder, texts: Sequence[str]) -> Vectors:
        """Query-side vectors (for question-to-question similarity), cached the same way."""
        return self._vectors(embedder, "query", texts)

    def _vectors(self, embedder: Embedder, role: str, texts: Sequence[str]) -> Vectors:
        keys = [text_key(embedder.name, role, t) for t in texts]
        self._used.update(keys)
        todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in self._rows}
        missing = sorted(todo.items())
        if missing:
            encode = embedder.embed_queries if role == "query" else embedder.embed_passages
            fresh = encode([t for _, t in missing])
            for (key, _), row in zip(missing, fresh, strict=True):
                self._rows[key] = row
            self._dirty = True
        if not keys:
            return np.zeros((0, embedder.dim), dtype=np.float32)
        return np.stack([self._rows[k] for k in keys]).astype(np.float32, copy=False)

    def start_build(self) -> None:
        """Begin tracking which vectors a build uses (see `drop_unused`)."""
        self._used.clear()

    def drop_unused(self) -> int:
        """Forget vectors the last build did not use (edited-away texts); returns how many."""
        stale = [key for key in self._rows if key not in self._used]
        for key in stale:
            del self._rows[key]
        self._dirty = self._dirty or bool(stale)
        return len(stale)

    def save(self) -> None:
        """Write the cache atomically (a crash mid-write leaves the previous files)."""
        if self.folder is None or not self._dirty:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        keys = list(self._rows)
        matrix = np.stack([self._rows[k] for k in keys]) if keys else np.zeros((0, 0), np.float32)
        tmp_vectors = self.folder / f".{_VECTORS}.tmp"
        with tmp_vectors.open("wb") as fh:
            np.save(fh, matrix.astype(np.float32), allow_pickle=False)
        tmp_keys = self.folder / f".{_KEYS}.tmp"
        tmp_keys.write_text(json.dumps(keys), encoding="utf-8")
        # Vectors first, keys last: keys.json is the commit point and its length is checked on load.
        os.replace(tmp_vectors, self.folder / _VECTORS)
        os.replace(tmp_keys, self.folder / _KEYS)
        self._dirty = False

    def _load(self, folder: Path) -> None:
        keys_path, vectors_path = folder / _KEYS, folder / _VECTORS
        if not keys_path.is_file() or not vectors_path.is_file():
            return
        try:
            keys = json.loads(keys_path.read_text(encoding="utf-8"))
            matrix = np.load(vectors_path, allow_pickle=False)
        except (OSError, ValueError):
            return  # an unreadable cache only costs re-embedding
        if len(keys) != len(matrix):
            return
        self._rows = dict(zip(keys, matrix, strict=True))

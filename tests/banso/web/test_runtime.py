"""Background parts of `banso serve`: the knowledge watcher, start/stop order, Slack status."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, func, select

from banso.knowledge import load_retriever
from banso.runtime import Runtime, seed_demo_if_empty, slack_status
from banso.watcher import KnowledgeWatcher
from core.settings import Settings
from retrieval.models import Visibility
from retrieval.service import Retriever
from tests.services import services_for

NEW_FAQ = """---
id: api-rate-limit
title: APIの呼び出し回数に上限はありますか
visibility: public
---
1分あたり600回までです。
"""


def test_watcher_reloads_the_index_when_a_knowledge_file_is_added(
    tmp_path: Path, knowledge_root: Path
) -> None:
    root = tmp_path / "knowledge"
    shutil.copytree(knowledge_root, root)
    retriever = load_retriever(Settings(data_dir=tmp_path / "var", knowledge_dir=root))
    reloaded = threading.Event()

    def reload() -> bool:
        changed = retriever.reload_if_changed()
        if changed:
            reloaded.set()
        return changed

    watcher = KnowledgeWatcher(root, reload, poll_seconds=60)
    watcher.start()
    try:
        assert _touch_until(root / "faq" / "api-rate-limit.md", NEW_FAQ, reloaded)
    finally:
        watcher.stop()

    hit = retriever.search("APIの呼び出し回数の上限", Visibility.PUBLIC).top
    assert hit is not None and hit.entry.id == "api-rate-limit"


def test_watcher_survives_a_failing_reload(tmp_path: Path) -> None:
    calls: list[int] = []
    second = threading.Event()

    def reload() -> bool:
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("broken file")
        second.set()
        return True

    watcher = KnowledgeWatcher(tmp_path, reload, poll_seconds=60)
    watcher.start()
    try:
        assert _touch_until(tmp_path / "a.md", "one", second)
    finally:
        watcher.stop()
    assert len(calls) >= 2
    assert not watcher._thread.is_alive()


def _touch_until(path: Path, text: str, done: threading.Event) -> bool:
    """Write the file until the watcher reacts: the first write may land before the watch is
    registered (there is no ready signal), and a change must then still be seen."""
    for attempt in range(30):
        path.write_text(text + "\n" * attempt, encoding="utf-8")
        if done.wait(timeout=1):
            return True
    return False


class Recorder:
    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log

    def start(self) -> None:
        self.log.append(f"start {self.name}")

    def shutdown(self, wait: bool = True) -> None:
        self.log.append(f"shutdown {self.name} wait={wait}")

    def run_jobs_now(self) -> None:
        self.log.append(f"run now {self.name}")

    def connect(self) -> None:
        self.log.append(f"connect {self.name}")

    def close(self) -> None:
        self.log.append(f"close {self.name}")


def test_runtime_stops_parts_in_reverse_order_waiting_for_the_running_job(
    settings: Settings, engine: Engine,
) -> None:
    log: list[str] = []
    services = services_for(settings, engine)
    runtime = Runtime(services, scheduler=Recorder("scheduler", log),
                      connect_socket_mode=lambda: Recorder("socket", log))
    runtime.start()
    runtime.stop()
    runtime.stop()  # a second stop (signal during shutdown) does nothing

    assert log == ["start scheduler", "close socket",
                   "shutdown scheduler wait=True"]


def test_slack_status_names_the_missing_variables(settings: Settings) -> None:
    nothing = slack_status(settings)
    half = slack_status(settings.model_copy(update={"slack_bot_token": SecretStr("xoxb-1")}))
    socket = slack_status(settings.model_copy(update={
        "slack_bot_token": SecretStr("xoxb-1"), "slack_app_token": SecretStr("xapp-1")}))
    http = slack_status(settings.model_copy(update={
        "slack_bot_token": SecretStr("xoxb-1"), "slack_signing_secret": SecretStr("s")}))

    assert "missing SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET" in nothing
    assert "missing SLACK_SIGNING_SECRET" in half and "SLACK_BOT_TOKEN," not in half
    assert socket == "Slack enabled via Socket Mode"
    assert http == "Slack enabled via HTTP (POST /slack/events)"


def test_demo_seed_fills_an_empty_database_once_and_never_touches_real_data(
    settings: Settings, engine: Engine, retriever: Retriever
) -> None:
    from cs.accounts.models import Account

    services = services_for(settings, engine, retriever=retriever)
    first = seed_demo_if_empty(services)
    second = seed_demo_if_empty(services)

    assert first is not None and first.startswith("demo data: 300 accounts")
    assert second is None
    with services.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 300


def test_a_failed_start_stops_what_had_started(settings: Settings, engine: Engine) -> None:
    log: list[str] = []

    def broken_socket() -> Recorder:
        raise ConnectionError("Slack unreachable")

    services = services_for(settings, engine)
    runtime = Runtime(services, scheduler=Recorder("scheduler", log),
                      connect_socket_mode=broken_socket)

    with pytest.raises(ConnectionError):
        runtime.start()
    assert log == ["start scheduler", "shutdown scheduler wait=True"]


def test_demo_serve_runs_the_alert_jobs_at_start_and_stores_their_alerts(
    settings: Settings, engine: Engine, retriever: Retriever
) -> None:
    from cs.alerts.models import Alert
    from jobs.scheduler import build_scheduler

    services = services_for(settings, engine, retriever=retriever)
    seed_demo_if_empty(services)
    runtime = Runtime(services=services, scheduler=build_scheduler(services),
                      run_jobs_at_start=True)
    runtime.start()
    try:
        kinds: set[str] = set()
        for _ in range(300):  # the jobs run on the scheduler's threads: wait up to 30 s
            with services.session_factory() as session:
                kinds = set(session.scalars(select(Alert.kind).distinct()))
            if {"at_risk", "renewal"} <= kinds:
                break
            threading.Event().wait(0.1)
    finally:
        runtime.stop()
    assert {"at_risk", "renewal"} <= kinds

"""kill -9 in the middle of delivering 240 cards, twice, then a restart: every card is in Slack
exactly once (counted by the dedupe key in each message's metadata on the stand-in).

The delivery runs as a real `banso jobs run at_risk` process against the test database
(SQLite, or PostgreSQL on the PostgreSQL pass) and the Slack stand-in. The first kill lands
while Slack has stored a card but holds back its answer — the case that used to post twice;
the second lands wherever the process happens to be.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings
from cs.alerts.models import Alert, OutboxMessage, OutboxOp, OutboxStatus
from tests.cs.alerts_support import JST, TOKEN, account_row, seed, usage_rows
from tests.slack_stub import SlackStub

CARDS = 240
TIMEOUT = 2  # BANSO_SLACK_TIMEOUT_SECONDS of the delivering process
CLAIM = 4  # BANSO_OUTBOX_CLAIM_SECONDS: a killed worker's cards are taken over after this
BANSO = Path(sys.executable).parent / "banso"

pytestmark = pytest.mark.slow


def _env(settings: Settings, stub: SlackStub) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BANSO_", "SLACK_"))}
    return env | {
        "BANSO_DATABASE_URL": settings.database_url, "BANSO_DATA_DIR": str(settings.data_dir),
        "BANSO_KNOWLEDGE_DIR": str(settings.knowledge_dir), "BANSO_SCHEDULER_ENABLED": "false",
        "BANSO_CSM_CHANNEL": "CDEFAULT", "BANSO_STAFF_USERS": "UOWNER",
        "SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": stub.url,
        "BANSO_SLACK_TIMEOUT_SECONDS": str(TIMEOUT), "BANSO_OUTBOX_CLAIM_SECONDS": str(CLAIM),
        "BANSO_LOG_FORMAT": "console",
    }


def _start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([str(BANSO), "jobs", "run", "at_risk"], env=env,
                                stdout=out, stderr=subprocess.STDOUT)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=10) == -signal.SIGKILL


def _wait(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def _seed(factory: sessionmaker[Session]) -> None:
    now = datetime.now(UTC)
    today = now.astimezone(JST).date()
    ids = [f"K{i:03d}" for i in range(CARDS)]
    seed(factory, [account_row(i) for i in ids],
         [u for i in ids for u in usage_rows(i, last_login_days_ago=30, days=1, today=today)],
         now=now)


def test_kill_9_twice_mid_delivery_then_restart_posts_every_card_exactly_once(
    alert_settings: Settings, session_factory: sessionmaker[Session], stub: SlackStub,
    tmp_path: Path,
) -> None:
    _seed(session_factory)
    env, log = _env(alert_settings, stub), tmp_path / "delivery.log"

    # Kill 1: Slack stored card ~100 and holds its answer; the process dies waiting for it.
    first = _start(env, log)
    stub.wait_for("chat.postMessage", 100, timeout=40)
    stub.slow_next("chat.postMessage", seconds=TIMEOUT * 5)
    _wait(lambda: stub.holding() > 0, 10, "no answer held back")
    _kill(first)
    time.sleep(CLAIM + 0.5)  # the dead worker's claim runs out

    # Kill 2: wherever the restarted process is after a few more cards.
    second = _start(env, log)
    seen = len(stub.calls_to("chat.postMessage"))
    stub.wait_for("chat.postMessage", seen + 50, timeout=40)
    _kill(second)
    time.sleep(CLAIM + 0.5)

    third = _start(env, log)
    assert third.wait(timeout=40) == 0, log.read_text()

    with session_factory() as session:
        rows = session.scalars(select(OutboxMessage)
                               .where(OutboxMessage.op == OutboxOp.POST_ALERT.value)).all()
        ts_of = {f"post:{a.dedupe_key}": a.ts for a in session.scalars(select(Alert))}
    keys = {row.dedupe_key for row in rows}
    posted = Counter(stub.posted_keys())
    duplicates = sum(n - 1 for n in posted.values())
    lost = len(keys - set(posted))
    print(f"kill -9 run: {len(keys)} cards, {len(posted)} delivered, "
          f"{duplicates} duplicates, {lost} lost")
    assert len(keys) == CARDS
    assert duplicates == 0 and lost == 0 and set(posted) == keys
    assert all(row.status == OutboxStatus.SENT.value for row in rows)
    # Each alert points at the one message in Slack, so its later updates land there.
    assert {m["metadata"]["event_payload"]["key"]: m["ts"] for m in stub.posted()} == ts_of
    assert "already in Slack" in log.read_text()

"""Two `banso serve` replicas on one database behave as one service.

Run against PostgreSQL with BANSO_TEST_DATABASE_URL set (the scale-out setup); on SQLite the
two processes share one database file, which checks the same contract.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings
from jobs.models import SchedulerLease
from tests.banso.web.server import ServerProcess, start_server


@pytest.fixture
def replicas(
    settings: Settings, knowledge_root: Path, tmp_path: Path, engine: Engine
) -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    try:
        for name in ("a", "b"):
            started.append(start_server({
                # Each replica has its own disk (index, caches), as two containers would.
                "BANSO_DATA_DIR": str(tmp_path / name),
                "BANSO_DATABASE_URL": settings.resolved_database_url,
                "BANSO_KNOWLEDGE_DIR": str(knowledge_root),
                "BANSO_SCHEDULER_ENABLED": "true",
            }))
        yield started
    finally:
        for server in started:
            if server.proc.poll() is None:
                server.terminate()


def test_both_replicas_answer_alike_and_only_one_leads_the_scheduler(
    replicas: list[ServerProcess], session_factory: sessionmaker[Session]
) -> None:
    questions = ["パスワードを忘れました", "How do I export data to CSV?", "請求書がほしい"]
    answers = [
        [_ranked(httpx.post(r.url + "/api/ask", json={"question": q}, timeout=30))
         for q in questions]
        for r in replicas
    ]
    leaders = [
        next(line for line in r.lines if line["msg"] == "scheduler started")["leader"]
        for r in replicas
    ]
    with session_factory() as session:
        leases = session.scalars(select(SchedulerLease)).all()

    assert answers[0] == answers[1]
    assert answers[0][0][0] == "password-reset"
    assert sorted(leaders) == [False, True]
    leader = replicas[leaders.index(True)]
    assert [lease.holder.split(":")[1] for lease in leases] == [str(leader.proc.pid)]
    # Feedback on an answer given by one replica is accepted by the other (shared database).
    answer_id = httpx.post(replicas[0].url + "/api/ask", json={"question": "請求書"},
                           timeout=30).json()["answer_id"]
    other = httpx.post(replicas[1].url + "/api/feedback",
                       json={"answer_id": answer_id, "helpful": True}, timeout=30)
    assert other.status_code == 200
    for server in replicas:
        assert server.terminate() == 0


def _ranked(resp: httpx.Response) -> list[str]:
    assert resp.status_code == 200
    return [entry["id"] for entry in resp.json()["entries"]]

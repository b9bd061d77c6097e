"""The MRR bridge of a small book whose history is back-filled through the CLI and the API.

Every month from the first contract to the last change is reported by `banso report --json` and
by GET /api/metrics/cs, and each is checked against an independent replay of the history
written in this file: start + new + expansion + reactivation - contraction - churn = end, to
the yen, with the right accounts on each line, the logos reconciling the same way and each
month starting where the one before ended. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from banso.cli.app import app as cli_app
from banso.web import cs_metrics, ingest
from core.settings import Settings
from tests.services import services_for

AUTH = {"Authorization": "Bearer s3cret"}

# Imported with `banso import accounts`: one row per change, oldest first.
HISTORY_CSV = """\
id,name,mrr,contract_start,status,effective_date,churn_date,churn_reason
K01,株式会社あおば,300000,2025-10-01,active,,,
K02,さくら商事株式会社,100000,2025-11-15,active,,,
K03,ひまわり合同会社,80000,2026-01-20,active,,,
K01,株式会社あおば,450000,2025-10-01,active,2026-02-10,,
K04,みどり株式会社,0,2026-03-01,trial,,,
K02,さくら商事株式会社,100000,2025-11-15,churned,,2026-03-31,Couldn't use it
K04,みどり株式会社,60000,2026-03-01,active,2026-04-01,,
K03,ひまわり合同会社,80000,2026-01-20,churned,,2026-05-31,price
K01,株式会社あおば,380000,2025-10-01,active,2026-07-01,,
K02,さくら商事株式会社,120000,2025-11-15,active,2026-08-05,,
K02,さくら商事株式会社,120000,2025-11-15,churned,,2026-10-20,budget_cut
"""

# Sent to POST /api/accounts afterwards: a new account with its own back-dated history, and a
# correction of K03's churn (a month earlier, another reason).
API_ROWS: list[dict[str, Any]] = [
    {"id": "K05", "name": "Blue Ocean LLC", "mrr": 200_000, "contract_start": "2026-06-10"},
    {"id": "K05", "name": "Blue Ocean LLC", "mrr": 250_000, "contract_start": "2026-06-10",
     "effective_date": "2026-09-01"},
    {"id": "K03", "name": "ひまわり合同会社", "mrr": 80_000, "contract_start": "2026-01-20",
     "status": "churned", "churn_date": "2026-04-30", "churn_reason": "no_roi"},
]

# The truth, written independently of the importer: (account, day the change is effective,
# MRR after it). A change effective on day D counts from the start of D + 1 (docs/metrics.md).
TRUTH = [
    ("K01", "2025-10-01", 300_000), ("K01", "2026-02-10", 450_000),
    ("K01", "2026-07-01", 380_000),
    ("K02", "2025-11-15", 100_000), ("K02", "2026-03-31", 0), ("K02", "2026-08-05", 120_000),
    ("K02", "2026-10-20", 0),
    ("K03", "2026-01-20", 80_000), ("K03", "2026-04-30", 0),
    ("K04", "2026-04-01", 60_000),
    ("K05", "2026-06-10", 200_000), ("K05", "2026-09-01", 250_000),
]
MONTHS = [f"{y}-{m:02d}" for y in (2025, 2026) for m in range(1, 13)
          if "2025-10" <= f"{y}-{m:02d}" <= "2026-11"]
ADDS = ("new", "expansion", "reactivation")


def truth_mrr(account: str, day: date) -> int:
    mrr = 0
    for who, effective, after in TRUTH:
        if who == account and date.fromisoformat(effective) < day:
            mrr = after
    return mrr


def month_days(label: str) -> tuple[date, date]:
    year, month = (int(part) for part in label.split("-"))
    start = date(year, month, 1)
    return start, date(year + month // 12, month % 12 + 1, 1)


def expected_lines(label: str) -> dict[str, dict[str, int]]:
    """Each account's movement over the month, classified from TRUTH alone."""
    start, end = month_days(label)
    lines: dict[str, dict[str, int]] = {k: {} for k in (
        "new", "expansion", "reactivation", "contraction", "churn", "scheduled_churn")}
    for account in sorted({who for who, _, _ in TRUTH}):
        before, after = truth_mrr(account, start), truth_mrr(account, end)
        history_before = any(w == account and date.fromisoformat(d) < start for w, d, _ in TRUTH)
        if before == after:
            continue
        if before and not after:
            lines["churn"][account] = before
        elif before:
            lines["expansion" if after > before else "contraction"][account] = abs(after - before)
        else:
            lines["reactivation" if history_before else "new"][account] = after
    return lines


@pytest.fixture
def env(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("BANSO_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("BANSO_DATA_DIR", str(settings.data_dir))
    monkeypatch.delenv("BANSO_CONFIG", raising=False)
    return settings.model_copy(update={"api_token": SecretStr("s3cret")})


@pytest.fixture
def api(env: Settings, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    web = FastAPI()
    web.state.services = services_for(env, session_factory.kw["bind"])
    web.include_router(ingest.router)
    web.include_router(cs_metrics.router)
    with TestClient(web) as client:
        yield client


def build_book(tmp_path: Path, api: TestClient) -> None:
    csv = tmp_path / "history.csv"
    csv.write_text(HISTORY_CSV, encoding="utf-8")
    imported = CliRunner().invoke(cli_app, ["import", "accounts", str(csv)])
    assert imported.exit_code == 0, imported.output
    assert "0 rejected" in imported.stdout
    reply = api.post("/api/accounts", json={"rows": API_ROWS}, headers=AUTH)
    assert reply.status_code == 200 and reply.json()["rejected"] == 0, reply.json()


def cli_report(month: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli_app, ["report", "--json", "--period", month])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def assert_bridge_matches_the_truth(month: str, body: dict[str, Any]) -> None:
    bridge = body["bridge"]
    start, end = month_days(month)
    accounts = sorted({who for who, _, _ in TRUTH})
    want_start = sum(truth_mrr(a, start) for a in accounts)
    want_end = sum(truth_mrr(a, end) for a in accounts)
    assert (bridge["start_mrr"], bridge["end_mrr"]) == (want_start, want_end), month
    signed = sum(line["mrr"] * line["sign"] for line in bridge["lines"])
    assert bridge["start_mrr"] + signed == bridge["end_mrr"], month  # to the yen
    assert bridge["balanced"] is True
    got = {line["movement"]: {a["account_id"]: a["mrr"] for a in line["accounts"]}
           for line in bridge["lines"]}
    assert got == expected_lines(month), month
    for line in bridge["lines"]:
        assert line["mrr"] == sum(a["mrr"] for a in line["accounts"])
        assert line["logos"] == len(line["accounts"])
        assert line["sign"] == (1 if line["movement"] in ADDS else -1)
    logos = {line["movement"]: line["logos"] for line in bridge["lines"]}
    assert (bridge["start_logos"] + logos["new"] + logos["reactivation"] - logos["churn"]
            - logos["scheduled_churn"]) == bridge["end_logos"], month
    assert bridge["end_logos"] == sum(1 for a in accounts if truth_mrr(a, end) > 0)
    churn = body["churn"]
    assert (churn["mrr_at_start"], churn["mrr_at_end"]) == (want_start, want_end)
    assert churn["reactivated_mrr"] == sum(got["reactivation"].values())


def test_bridge_of_a_back_dated_book_balances_every_month_in_the_cli_and_the_api(
    env: Settings, api: TestClient, tmp_path: Path
) -> None:
    build_book(tmp_path, api)
    previous_end: int | None = None
    for month in MONTHS:
        from_cli = cli_report(month)
        from_api = api.get("/api/metrics/cs", params={"period": month}, headers=AUTH).json()
        for body in (from_cli, from_api):
            assert_bridge_matches_the_truth(month, body)
        assert from_cli["bridge"] == from_api["bridge"]
        if previous_end is not None:
            assert from_cli["bridge"]["start_mrr"] == previous_end  # months join up
        previous_end = from_cli["bridge"]["end_mrr"]
    # The corrected churn moved from May to April, with its new reason; each of K02's churns
    # keeps its own reason although the customer came back in between.
    april, may = cli_report("2026-04"), cli_report("2026-05")
    assert april["avoidable_churn"]["by_reason"] == {"no_roi": 1}
    assert may["churn"]["churned_logos"] == 0
    assert cli_report("2026-03")["avoidable_churn"]["by_reason"] == {"couldnt_use": 1}
    assert cli_report("2026-10")["avoidable_churn"]["by_reason"] == {"budget_cut": 1}
    text = CliRunner().invoke(cli_app, ["report", "--period", "2026-08", "--lang", "en"])
    assert text.exit_code == 0, text.output
    assert "reactivation             +        120,000 JPY (1 account): さくら商事株式会社" \
           in text.stdout
    assert "end MRR                  =        760,000 JPY (4 accounts)" in text.stdout


def test_a_churn_booked_for_later_this_month_is_shown_apart_from_churns_that_happened(
    env: Settings, session_factory: sessionmaker[Session]
) -> None:
    now = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 20 November in Tokyo
    web = FastAPI()
    web.state.services = services_for(env, session_factory.kw["bind"], now=lambda: now)
    web.include_router(ingest.router)
    web.include_router(cs_metrics.router)
    client = TestClient(web)
    rows = [{"id": "L1", "name": "L1社", "mrr": 100_000, "contract_start": "2026-01-05"},
            {"id": "L2", "name": "L2社", "mrr": 50_000, "contract_start": "2026-01-05"},
            {"id": "L1", "name": "L1社", "mrr": 100_000, "contract_start": "2026-01-05",
             "status": "churned", "churn_date": "2026-11-10", "churn_reason": "price"},
            {"id": "L2", "name": "L2社", "mrr": 50_000, "contract_start": "2026-01-05",
             "status": "churned", "churn_date": "2026-11-30", "churn_reason": "no_roi"}]
    assert client.post("/api/accounts", json={"rows": rows}, headers=AUTH).json()["rejected"] == 0
    body = client.get("/api/metrics/cs", params={"period": "2026-11"}, headers=AUTH).json()
    lines = {line["movement"]: line for line in body["bridge"]["lines"]}
    assert [a["account_id"] for a in lines["churn"]["accounts"]] == ["L1"]
    assert [a["account_id"] for a in lines["scheduled_churn"]["accounts"]] == ["L2"]
    assert body["churn"]["churned_logos"] == 1 and body["churn"]["scheduled_churn_logos"] == 1
    assert body["churn"]["logo_churn_rate"] == pytest.approx(0.5)
    assert body["avoidable_churn"]["by_reason"] == {"price": 1}
    assert body["bridge"]["balanced"] and body["bridge"]["end_mrr"] == 0

"""Community activity where people look: the owner's App Home and `banso report`."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import typer
from pydantic import SecretStr
from slack_sdk import WebClient
from typer.testing import CliRunner

from banso.cli.report import register
from core.rules_config import load_rules
from core.slack.ids import ActionId
from cs.community.activity import sync_activity
from cs.kpis.digest import build_cs_digest
from tests.banso.web.test_cs_metrics import client_for
from tests.cs.community.conftest import (
    ALICE,
    ANSWERABLE,
    BOB,
    NOW,
    OWNER,
    UNANSWERABLE,
    Harness,
    ask,
    seed_book,
)
from tests.cs.community.test_activity import _click
from tests.services import services_for


def _activity(app: Harness) -> None:
    seed_book(app.session_factory, app.stub)
    ask(app, UNANSWERABLE[0], ALICE)
    answer = ask(app, ANSWERABLE, BOB)
    _click(app, answer, ActionId.HELPFUL, BOB)
    client = WebClient(token="xoxb-test", base_url=app.stub.url)
    sync_activity(services_for(app.settings, app.session_factory.kw["bind"], slack=client,
                               now=app.clock), NOW)


def test_app_home_shows_the_owners_accounts_community_activity(app: Harness) -> None:
    _activity(app)
    app.event({"type": "app_home_opened", "user": OWNER, "channel": "D1", "tab": "home"})
    app.drain()

    view = app.stub.calls_to("views.publish")[-1].args["view"]
    (block,) = [b for b in view["blocks"] if b.get("block_id") == "community"]
    text = block["text"]["text"]
    assert "コミュニティ (直近7日)" in text
    assert "株式会社A1" in text and "質問 2件 (回答 1 / 候補 0 / 未回答 1)" in text
    assert "👍 1 👎 0" in text
    assert UNANSWERABLE[0] not in text  # counts, never a member's words
    assert not app.stub.violations


def test_report_shows_deflection_by_segment_and_by_account(
    app: Harness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    _activity(app)
    monkeypatch.setenv("BANSO_DATABASE_URL", app.settings.resolved_database_url)
    monkeypatch.setenv("BANSO_DATA_DIR", str(tmp_path / "var"))
    cli = typer.Typer()
    register(cli)
    runner = CliRunner()

    result = runner.invoke(cli, ["report", "--json", "--period", "2026-11"])
    assert result.exit_code == 0, result.output
    community = json.loads(result.stdout)["community"]
    high = next(r for r in community["by_segment"] if r["key"] == "high")
    assert (high["questions"], high["answered"], high["unanswered"]) == (2, 1, 1)
    assert high["deflection_rate"] == 0.5
    (account,) = community["by_account"]
    assert (account["key"], account["helpful"], account["deflection_rate"]) == ("A1", 1, 0.5)

    text = runner.invoke(cli, ["report", "--period", "2026-11", "--lang", "en"])
    assert text.exit_code == 0 and "Community (2026-11-01 – 2026-12-01" in text.output
    assert "株式会社A1" in text.output and "deflection 50%" in text.output
    japanese = runner.invoke(cli, ["report", "--period", "2026-11", "--lang", "ja"])
    assert "コミュニティ (2026-11-01 – 2026-12-01" in japanese.output
    assert "自己解決率 50%" in japanese.output and "deflection" not in japanese.output


def test_cs_metrics_api_carries_the_community_figures(app: Harness) -> None:
    _activity(app)
    settings = app.settings.model_copy(update={"api_token": SecretStr("s3cret")})
    client = client_for(settings, app.session_factory)

    reply = client.get("/api/metrics/cs", params={"period": "2026-11"},
                       headers={"Authorization": "Bearer s3cret"})
    assert reply.status_code == 200
    community = reply.json()["community"]
    high = next(r for r in community["by_segment"] if r["key"] == "high")
    assert (high["questions"], high["answered"], high["suggested"], high["unanswered"],
            high["escalations_open"], high["deflection_rate"]) == (2, 1, 0, 1, 0, 0.5)
    assert UNANSWERED_WORDS.isdisjoint(reply.text.split())  # counts, never the question
    assert client.get("/api/metrics/cs").status_code == 401  # still behind the token


UNANSWERED_WORDS = frozenset(UNANSWERABLE)


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", ("*Community*", "2 asked — 1 answered / 0 suggested / 1 unanswered",
            "deflection high-touch 50%", "0 escalations open")),
    ("ja", ("*コミュニティ*", "2件 — 回答 1 / 候補 0 / 未回答 1", "自己解決率 ハイタッチ 50%",
            "未解決のエスカレーション 0件")),
])
def test_weekly_cs_digest_has_a_community_line_in_its_language(
    app: Harness, lang: str, expected: tuple[str, ...],
) -> None:
    _activity(app)
    rules = load_rules(app.settings.rules_file)
    rules = rules.model_copy(update={"jobs": rules.jobs.model_copy(update={"lang": lang})})
    services = services_for(app.settings, app.session_factory.kw["bind"], now=app.clock,
                            rules=rules)

    digest = build_cs_digest(services, NOW + timedelta(days=1))  # the 30 days up to today
    (line,) = [b["text"]["text"] for b in digest.blocks
               if b["type"] == "section" and "text" in b and expected[0] in b["text"]["text"]]
    for part in expected[1:]:
        assert part in line
    assert UNANSWERABLE[0] not in line

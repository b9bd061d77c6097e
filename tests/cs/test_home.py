"""App Home through a real bolt App with signed requests and the local Slack stand-in."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.i18n import as_lang
from core.settings import Settings
from core.slack.ids import ActionId
from cs.alerts.models import Alert
from cs.alerts.routing import RoutingScope, set_scope
from cs.home.listeners import HomeTab, register
from cs.home.view import StaffHome, guest_view, staff_view
from tests.cs.kpis.test_report import add_account
from tests.services import services_for
from tests.slack_stub import MAX_VIEW_BLOCKS, SlackStub, check_blocks, sign

SECRET = "home-secret"
NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


def bolt_app(settings: Settings, engine: Engine, session_factory: sessionmaker[Session],
             stub: SlackStub) -> App:
    client = WebClient(token="xoxb-test", base_url=stub.url)
    app = App(client=client, signing_secret=SECRET, token_verification_enabled=False)
    register(app, HomeTab(services_for(settings, engine, slack=client, now=lambda: NOW)))
    return app


def home_opened(app: App, user: str, *, secret: str = SECRET) -> int:
    body = json.dumps({
        "type": "event_callback", "team_id": "T0001", "api_app_id": "A1", "event_id": "Ev1",
        "event_time": int(NOW.timestamp()),
        "event": {"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"},
    })
    headers: dict[str, str | Sequence[str]] = {**sign(secret, body),
                                               "content-type": "application/json"}
    return app.dispatch(BoltRequest(body=body, headers=headers)).status


def alert(account: str, kind: str, priority: int, **fields: object) -> Alert:
    evidence = {"account_name": f"株式会社{account}", "touch_model": "high", "mrr": 600_000,
                "health_score": 30, "health_band": "at_risk", "reasons": ["14日ログインなし"]}
    values: dict[str, object] = {"owner_user_id": "U1", "opened_at": NOW - timedelta(days=1)}
    values |= fields
    return Alert(account_id=account, kind=kind, dedupe_key=f"{kind}:{account}:{priority}",
                 priority=priority, evidence=evidence, **values)


def test_staff_home_lists_own_open_alerts_worst_first_with_the_alert_buttons(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session], stub: SlackStub
) -> None:
    settings = settings.model_copy(update={"staff_users": ["U1"]})
    with session_factory.begin() as session:
        add_account(session, "A", [("2025-01-01", 600_000)])
        add_account(session, "B", [("2025-01-01", 80_000)])
        add_account(session, "O", [("2025-01-01", 80_000)], owner="U2")
        session.add_all([
            alert("B", "renewal", 200),
            alert("A", "at_risk", 300),
            alert("A", "cadence", 100, status="resolved"),
            alert("B", "expansion", 150, status="snoozed", snoozed_until=NOW + timedelta(days=3)),
            alert("O", "at_risk", 999, owner_user_id="U2"),
        ])
    assert home_opened(bolt_app(settings, engine, session_factory, stub), "U1") == 200
    (call,) = stub.wait_for("views.publish")
    assert call.args["user_id"] == "U1" and not stub.violations
    blocks = call.args["view"]["blocks"]
    text = json.dumps(blocks, ensure_ascii=False)
    assert "未対応のアラート* (2件" in text
    headlines = [b["text"]["text"] for b in blocks
                 if b["type"] == "section" and "株式会社" in b.get("text", {}).get("text", "")
                 and "*" in b["text"]["text"][:2]]
    assert headlines[0].startswith("*🚨 要注意アカウント: 株式会社A*")  # priority 300 first
    assert "📅 更新リマインド: 株式会社B" in headlines[1]
    assert "株式会社O" not in text  # someone else's alert and account
    action_ids = {e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]}
    assert ActionId.ACKNOWLEDGE.value in action_ids and ActionId.RESOLVE.value in action_ids
    assert "担当アカウント (ヘルス別)* 2社" in text and "株式会社A —" in text


def test_customer_home_explains_how_to_ask_in_japanese_by_default(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session], stub: SlackStub
) -> None:
    assert home_opened(bolt_app(settings, engine, session_factory, stub), "U9") == 200
    (call,) = stub.wait_for("views.publish")
    text = json.dumps(call.args["view"], ensure_ascii=False)
    assert "/ask" in text and "DM" in text and "質問" in text
    assert "未対応のアラート" not in text


def test_english_locale_gets_the_english_guide() -> None:
    assert as_lang("en-US") == "en" and as_lang("ja-JP") == "ja"
    assert as_lang(None) == "ja"
    assert "DM" in json.dumps(guest_view("en")) and "Ask a human" in json.dumps(guest_view("en"))


def test_unsigned_home_request_is_refused_and_nothing_is_published(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session], stub: SlackStub
) -> None:
    app = bolt_app(settings, engine, session_factory, stub)
    assert home_opened(app, "U1", secret="wrong") == 401
    assert stub.calls_to("views.publish") == []


def test_many_alerts_fit_in_the_100_block_view_with_a_count_of_the_rest() -> None:
    alerts = [alert(f"A{i}", "at_risk", 1000 - i) for i in range(60)]
    for i, a in enumerate(alerts):
        a.id = i + 1
    alerts.insert(0, Alert(id=99, account_id="X", kind="at_risk", dedupe_key="x", evidence={}))
    view = staff_view(StaffHome(alerts, [], 0), "ja")  # the broken one is left out, not fatal
    assert len(view["blocks"]) <= MAX_VIEW_BLOCKS
    assert check_blocks(view["blocks"], MAX_VIEW_BLOCKS) == []
    text = json.dumps(view, ensure_ascii=False)
    shown = sum(1 for b in view["blocks"] if b["type"] == "actions")
    assert 10 < shown < 60 and f"ほか {61 - shown}件" in text


def test_an_account_in_an_unknown_currency_is_left_out_not_the_whole_home(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session], stub: SlackStub
) -> None:
    settings = settings.model_copy(update={"staff_users": ["U1"]})
    with session_factory.begin() as session:
        add_account(session, "A", [("2025-01-01", 600_000)])
        add_account(session, "Z", [("2025-01-01", 900)], currency="CHF")
    assert home_opened(bolt_app(settings, engine, session_factory, stub), "U1") == 200
    (call,) = stub.wait_for("views.publish")
    text = json.dumps(call.args["view"], ensure_ascii=False)
    assert "株式会社A —" in text and "株式会社Z" not in text


def test_lead_who_chose_all_sees_the_whole_teams_alerts_in_home(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session], stub: SlackStub
) -> None:
    settings = settings.model_copy(update={"staff_users": ["U1", "U2"], "lead_users": ["U1"]})
    with session_factory.begin() as session:
        add_account(session, "A", [("2025-01-01", 600_000)])
        add_account(session, "O", [("2025-01-01", 80_000)], owner="U2")
        session.add_all([alert("A", "at_risk", 300),
                         alert("O", "renewal", 999, owner_user_id="U2")])
        set_scope(session, settings, "U1", RoutingScope.ALL, NOW)
    assert home_opened(bolt_app(settings, engine, session_factory, stub), "U1") == 200
    text = json.dumps(stub.wait_for("views.publish")[0].args["view"], ensure_ascii=False)
    assert "株式会社O" in text and "株式会社A" in text

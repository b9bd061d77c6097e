"""What a CSM reads on a card, as the alert job posts it to the Slack stand-in: the facts the
next step needs, in Japanese and in English, escaped and within Slack's limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from core.db import session_scope
from core.i18n import Lang
from core.settings import Settings
from cs.accounts.service import record_touchpoint
from jobs.alert_jobs import alert_contact_changes, run_alert_job
from tests.cs.alerts.test_calendar import card_text
from tests.cs.alerts_support import (
    NOW,
    OWNER,
    STAFF,
    SlackApp,
    account_row,
    alerts,
    client_for,
    job_context,
    seed,
    usage_rows,
)
from tests.slack_stub import SlackStub

CONTACTS = {
    "ja": ("前任: 山田 花子 (yamada@example.jp)", "異動先: 経理部 &lt;!here&gt; — 営業に共有",
           "新任: 佐藤 一郎 (sato@example.jp) — 連絡して面談を設定", "変更日: 2026-11-24 (1日前)"),
    "en": ("Former contact: 山田 花子 (yamada@example.jp)",
           "Moved to: 経理部 &lt;!here&gt; — tell sales",
           "New contact: 佐藤 一郎 (sato@example.jp) — reach out, set a meeting",
           "Changed on 2026-11-24 (1 day ago)"),
}


def _contact_change(slack_app: SlackApp, moved_to: str | None = "経理部 <!here>") -> list[int]:
    factory = slack_app.services.session_factory
    seed(factory, [account_row("A1")], usage_rows("A1", last_login_days_ago=1))
    seed(factory, [], contacts=[{"account_id": "A1", "name": "山田 花子",
                                 "email": "yamada@example.jp"}], now=NOW - timedelta(days=90))
    return seed(factory, [], contacts=[{"account_id": "A1", "name": "佐藤 一郎",
                                        "email": "sato@example.jp", "moved_to": moved_to}],
                now=NOW - timedelta(days=1))


@pytest.mark.parametrize("card_lang", ["ja", "en"])
def test_contact_change_card_names_former_contact_where_they_went_and_the_new_one(
    slack_app: SlackApp, stub: SlackStub, card_lang: Lang
) -> None:
    changes = _contact_change(slack_app)

    alert_contact_changes(job_context(slack_app.services.settings,
                                      slack_app.services.session_factory, client_for(stub),
                                      lang=card_lang), changes, NOW)

    (post,) = stub.calls_to("chat.postMessage")
    text = card_text(post.args)
    for line in CONTACTS[card_lang]:
        assert line in text
    assert "<!here>" not in text  # customer text is escaped: no channel-wide ping
    assert not stub.violations


def test_contact_change_card_says_when_nobody_knows_where_they_moved(
    slack_app: SlackApp, stub: SlackStub
) -> None:
    changes = _contact_change(slack_app, moved_to=None)

    alert_contact_changes(job_context(slack_app.services.settings,
                                      slack_app.services.session_factory, client_for(stub)),
                          changes, NOW)

    (post,) = stub.calls_to("chat.postMessage")
    assert "異動先: 不明" in card_text(post.args)


@pytest.mark.parametrize(("card_lang", "first", "next_day"), [
    ("ja", "最終ログイン 30日前 (基準 14日) — 新たに検出",
     "最終ログイン 31日前 (基準 14日) — 悪化 (前回 30)"),
    ("en", "Last login 30 days ago (limit 14 days) — newly detected",
     "Last login 31 days ago (limit 14 days) — worse (was 30)"),
])
def test_at_risk_card_shows_each_signal_with_its_figure_and_trend(
    slack_app: SlackApp, stub: SlackStub, card_lang: Lang, first: str, next_day: str
) -> None:
    factory = slack_app.services.session_factory
    seed(factory, [account_row("A1")], usage_rows("A1", last_login_days_ago=30, active=2))
    ctx = job_context(slack_app.services.settings, factory, client_for(stub), lang=card_lang)

    run_alert_job("at_risk", ctx, NOW)
    run_alert_job("at_risk", ctx, NOW + timedelta(days=1))

    (post,) = stub.calls_to("chat.postMessage")
    assert first in card_text(post.args)
    update = stub.calls_to("chat.update")[-1]
    assert update.args["ts"] == alerts(factory)[0].ts
    assert next_day in card_text(update.args)


@pytest.mark.parametrize(("card_lang", "health", "reason", "raw"), [
    ("ja", "*ヘルス*\n", "ヘルスの主な要因: 最終ログイン 30日前", "(at_risk)"),
    ("en", "*Health*\n", "Main reasons for health: Last login 30 days ago", "(at_risk)"),
])
def test_every_card_has_owner_tier_health_in_its_language_and_links(
    slack_app: SlackApp, stub: SlackStub, card_lang: Lang, health: str, reason: str, raw: str
) -> None:
    factory = slack_app.services.session_factory
    seed(factory, [account_row("A/1 x")],
         usage_rows("A/1 x", last_login_days_ago=30, active=2, setup=50))
    with session_scope(factory) as session:
        record_touchpoint(session, "A/1 x", "meeting", STAFF, NOW - timedelta(days=12))
    settings = slack_app.services.settings.model_copy(update={
        "account_url_template": "https://crm.example.com/accounts/{account_id}?tab=cs&v=1"})

    run_alert_job("at_risk", job_context(settings, factory, client_for(stub), lang=card_lang),
                  NOW)

    (post,) = stub.calls_to("chat.postMessage")
    text = card_text(post.args)
    band = {"ja": "要注意", "en": "at risk"}[card_lang]
    assert f"<@{OWNER}>" in text and health in text and f"({band})" in text
    assert raw not in text and "healthy" not in text.replace("Health", "")
    assert reason in text
    assert {"ja": "ハイタッチ", "en": "high-touch"}[card_lang] in text
    assert "<https://crm.example.com/accounts/A%2F1%20x?tab=cs&amp;v=1|" in text
    assert {"ja": "最近のタッチ: ミーティング 2026-11-13 (12日前) <@USTAFF>",
            "en": "Recent touches: meeting 2026-11-13 (12 days ago) <@USTAFF>"}[card_lang] in text
    # far from renewal (2027-06-30): no countdown on a card outside the renewal phase
    assert {"ja": "更新まで", "en": "Renewal in"}[card_lang] not in text


@pytest.mark.parametrize(("card_lang", "lines"), [
    ("ja", ("*更新まで*\n90日 (2027-02-23)", "年間契約額: 7,200,000 JPY (MRR 600,000 JPY)",
            "更新日: 2027-02-23 (あと90日)", "最終タッチ: 電話 2026-11-01 (24日前) <@UOWNER>")),
    ("en", ("*Renewal in*\n90 days (2027-02-23)",
            "Annual contract value: 7,200,000 JPY (MRR 600,000 JPY)",
            "Renewal date: 2027-02-23 (90 days left)",
            "Last touch: call 2026-11-01 (24 days ago) <@UOWNER>")),
])
def test_renewal_card_has_contract_value_renewal_date_and_last_touch(
    slack_app: SlackApp, stub: SlackStub, card_lang: Lang, lines: tuple[str, ...]
) -> None:
    factory = slack_app.services.session_factory
    seed(factory, [account_row("A1", renewal="2027-02-23")],
         usage_rows("A1", last_login_days_ago=1))
    with session_scope(factory) as session:
        record_touchpoint(session, "A1", "call", OWNER, NOW - timedelta(days=24))

    run_alert_job("renewals", job_context(slack_app.services.settings, factory,
                                          client_for(stub), lang=card_lang), NOW)

    (post,) = stub.calls_to("chat.postMessage")
    text = card_text(post.args)
    for line in lines:
        assert line in text


def test_card_of_the_longest_customer_texts_stays_within_slacks_limits(
    slack_app: SlackApp, stub: SlackStub
) -> None:
    factory = slack_app.services.session_factory
    long = "株" * 200  # the import's longest name, department and contact name
    seed(factory, [account_row("A1", name=long)], usage_rows("A1", last_login_days_ago=1))
    seed(factory, [], contacts=[{"account_id": "A1", "name": long,
                                 "email": "a@example.jp"}], now=NOW - timedelta(days=9))
    changes = seed(factory, [], contacts=[{"account_id": "A1", "name": "<" * 200,
                                           "email": "b@example.jp", "moved_to": "&" * 200}],
                   now=NOW - timedelta(days=1))

    alert_contact_changes(job_context(slack_app.services.settings, factory, client_for(stub)),
                          changes, NOW)

    (post,) = stub.calls_to("chat.postMessage")
    assert not stub.violations
    assert "&lt;" * 200 in card_text(post.args)


@pytest.mark.parametrize("template", ["crm.example.com/{account_id}", "https://crm/{id}",
                                      "https://crm/{account_id}/{0}"])
def test_a_bad_account_url_template_stops_start_up_naming_the_setting(template: str) -> None:
    with pytest.raises(ValidationError, match="account_url_template"):
        Settings(account_url_template=template)

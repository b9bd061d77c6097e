"""Alert cards and digests as data: what a CSM sees, in Japanese and English, within limits."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from core.i18n import Lang
from cs.alerts.blocks import (
    AlertRef,
    SnoozeViewRef,
    alert_card,
    digest,
    fallback_text,
    snooze_form,
    thread_text,
)
from cs.alerts.models import Alert, AlertKind, AlertStatus, AlertSummary, DigestPage
from tests.slack_stub import check_blocks, check_view

AT = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


def _alert(kind: AlertKind = AlertKind.AT_RISK, status: AlertStatus = AlertStatus.OPEN,
           **fields: object) -> tuple[Alert, AlertSummary]:
    summary = AlertSummary(
        account_name="アクメ株式会社", touch_model="high", mrr=600_000, health_score=32,
        health_band="at_risk", reasons=["最終ログイン 30日前 (基準 14日)", "ヘルススコア 32"],
        days_to_renewal=96, renewal_date=date(2027, 3, 1), phase="renewal",
    )
    alert = Alert(id=42, account_id="A1", kind=kind.value, status=status.value,
                  owner_user_id="UOWNER", evidence=summary.model_dump(mode="json"), **fields)
    return alert, summary


def _text(blocks: list[dict[str, Any]]) -> str:
    parts = []
    for block in blocks:
        for key in ("text",):
            if isinstance(block.get(key), dict):
                parts.append(block[key]["text"])
        parts += [f["text"] for f in block.get("fields", [])]
        if block["type"] == "context":
            parts += [e.get("text", "") for e in block["elements"]]
    return "\n".join(parts)


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("kind", list(AlertKind))
@pytest.mark.parametrize("status", list(AlertStatus))
def test_every_card_is_accepted_by_slack(lang: Lang, kind: AlertKind, status: AlertStatus) -> None:
    alert, summary = _alert(kind, status, acknowledged_by="USTAFF", acknowledged_at=AT,
                            snoozed_until=AT, resolved_at=AT, last_action="snooze",
                            last_action_by="USTAFF", last_action_at=AT)

    assert check_blocks(alert_card(alert, summary, lang)) == []


def test_open_card_mentions_the_owner_and_shows_reasons_and_all_actions() -> None:
    alert, summary = _alert()

    blocks = alert_card(alert, summary, "ja")

    text = _text(blocks)
    assert "<@UOWNER>" in text and "要注意アカウント: アクメ株式会社" in text
    assert "最終ログイン 30日前" in text and "600,000 JPY" in text and "96日" in text
    (actions,) = [b for b in blocks if b["type"] == "actions"]
    ids = [e["action_id"] for e in actions["elements"]]
    assert ids == ["alert_acknowledge", "alert_assign", "alert_log_touch", "alert_snooze",
                   "alert_snooze_until", "alert_snooze_form", "alert_resolve", "alert_not_useful"]
    buttons = [e for e in actions["elements"] if e["type"] == "button"]
    assert all(AlertRef.model_validate_json(b["value"]).alert_id == 42 for b in buttons)
    assert "<@UOWNER>" in fallback_text(alert, summary, "ja")


def test_resolved_card_has_no_buttons_and_says_who_resolved_it() -> None:
    alert, summary = _alert(status=AlertStatus.RESOLVED, resolved_by="USTAFF", resolved_at=AT)

    blocks = alert_card(alert, summary, "ja")

    assert not any(b["type"] == "actions" for b in blocks)
    assert "<@USTAFF> が解決" in _text(blocks)


def test_auto_resolved_card_says_the_condition_ended() -> None:
    alert, summary = _alert(status=AlertStatus.RESOLVED, resolved_at=AT)

    assert "Resolved automatically" in _text(alert_card(alert, summary, "en"))


def test_english_card_uses_english_labels() -> None:
    alert, summary = _alert(AlertKind.RENEWAL, AlertStatus.ACKNOWLEDGED,
                            acknowledged_by="USTAFF", acknowledged_at=AT)

    blocks = alert_card(alert, summary, "en")

    text = _text(blocks)
    assert "Renewal reminder: アクメ株式会社" in text and "Acknowledged by <@USTAFF>" in text
    labels = [e.get("text", e.get("placeholder", {})).get("text")
              for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert "Acknowledge" in labels and "Snooze" in labels and "Log touch" in labels


def test_huge_evidence_is_clipped_to_slack_limits() -> None:
    alert, summary = _alert()
    summary = summary.model_copy(update={"reasons": ["理由" * 400] * 20,
                                         "account_name": "長" * 300})

    assert check_blocks(alert_card(alert, summary, "ja")) == []


def _digest_items(n: int) -> list[tuple[Alert, AlertSummary]]:
    items = []
    for i in range(n):
        alert, summary = _alert(priority=i)
        alert.id = i + 1
        name, reasons = f"会社{i:03d}" + "長" * 300, ["ログインなし" * 600]  # clipped, not refused
        items.append((alert, summary.model_copy(
            update={"account_name": name, "reasons": reasons})))
    return items


def _item_buttons(blocks: list[dict[str, Any]]) -> dict[str, list[str]]:
    return {b["block_id"]: [e["action_id"] for e in b["elements"]]
            for b in blocks if b["type"] == "actions"}


def test_a_full_digest_page_gives_every_item_its_buttons_within_slack_limits() -> None:
    page = DigestPage(alert_ids=list(range(1, 25)), day=date(2026, 11, 25), pages=5, total=120)

    blocks = digest(_digest_items(24), page, "ja")

    assert check_blocks(blocks) == [] and len(blocks) == 50
    assert blocks[0]["text"]["text"] == "テックタッチ通知まとめ 2026-11-25 (120件)"
    assert blocks[1]["text"]["text"].startswith("• *会社023")  # the worst first
    assert _item_buttons(blocks) == {
        f"digest:{i}": ["alert_digest_take_over", "alert_digest_not_useful"] for i in range(1, 25)}
    assert blocks[-1]["elements"][0]["text"] == "1/5: 残り 96件はこのスレッドに"


def test_a_later_digest_page_says_which_part_it_is() -> None:
    page = DigestPage(alert_ids=[1, 2], day=date(2026, 11, 25), page=5, pages=5, total=98,
                      parent="digest:C1:2026-11-25")

    blocks = digest(_digest_items(2), page, "en")

    assert check_blocks(blocks) == []
    assert blocks[0]["elements"][0]["text"] == "Tech-touch digest 2026-11-25, continued (5/5)"
    assert [b["type"] for b in blocks[1:]] == ["section", "actions"] * 2


def test_a_digest_queued_before_pages_existed_still_renders_within_slack_limits() -> None:
    page = DigestPage(alert_ids=list(range(1, 601)), day=date(2026, 11, 25))

    blocks = digest(_digest_items(600), page, "ja")

    assert check_blocks(blocks) == []
    assert blocks[0]["text"]["text"] == "テックタッチ通知まとめ 2026-11-25 (600件)"
    assert len(_item_buttons(blocks)) == 24
    assert blocks[-1]["elements"][0]["text"] == "ほか 576件"


def test_small_digest_shows_every_item() -> None:
    items = [_alert(priority=p) for p in (1, 2)]

    blocks = digest(items, DigestPage(alert_ids=[42, 42], day=date(2026, 11, 25)), "en")

    # each item: its line, then its buttons (take over / not useful)
    assert [b["type"] for b in blocks] == ["header", "section", "actions", "section", "actions"]
    assert [b["text"]["text"].count("• ") for b in blocks[1::2]] == [1, 1]


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_snooze_form_is_a_modal_slack_accepts_naming_the_alert(lang: Lang) -> None:
    alert, summary = _alert()

    view = snooze_form(alert, summary, lang, SnoozeViewRef(alert_id=42, channel="CCSM"))

    assert check_view(view) == []
    assert view["type"] == "modal" and view["callback_id"] == "alert_snooze_view"
    assert SnoozeViewRef.model_validate_json(view["private_metadata"]) == SnoozeViewRef(
        alert_id=42, channel="CCSM")
    assert "アクメ株式会社" in view["blocks"][0]["text"]["text"]
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert list(inputs) == ["snooze_choice", "snooze_date", "snooze_note"]
    choices = [o["value"] for o in inputs["snooze_choice"]["element"]["options"]]
    assert choices == ["1d", "1w", "30d", "date"]
    assert not inputs["snooze_choice"].get("optional")
    assert inputs["snooze_date"]["optional"] and inputs["snooze_note"]["optional"]
    assert inputs["snooze_note"]["element"]["max_length"] == 500


def test_snoozed_card_shows_until_who_and_the_reason_made_inert() -> None:
    alert, summary = _alert(status=AlertStatus.SNOOZED, snoozed_until=AT,
                            snooze_note="予算確定待ち <!channel> & <@UX>",
                            last_action="snooze", last_action_by="USTAFF", last_action_at=AT)

    text = _text(alert_card(alert, summary, "en"))

    assert "Snoozed until <!date^" in text and "by <@USTAFF> — 予算確定待ち" in text
    assert "&lt;!channel&gt; &amp; &lt;@UX&gt;" in text and "<!channel>" not in text


def test_snoozed_card_without_a_reason_has_no_dangling_dash() -> None:
    alert, summary = _alert(status=AlertStatus.SNOOZED, snoozed_until=AT,
                            last_action="snooze", last_action_by="USTAFF", last_action_at=AT)

    assert "—" not in _text(alert_card(alert, summary, "ja"))


def test_thread_line_of_a_snooze_carries_its_reason() -> None:
    assert thread_text("snooze", "en", note="on leave", user="<@U1>", until="Dec 1") == (
        "<@U1> snoozed until Dec 1 — on leave")
    assert thread_text("snooze", "ja", user="<@U1>", until="12/1") == (
        "<@U1> が 12/1 までスヌーズしました")

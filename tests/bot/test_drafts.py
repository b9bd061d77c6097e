"""Message shortcut "Save as FAQ draft": thread → internal draft file + curator announcement."""

from __future__ import annotations

from typing import Any

from retrieval.documents import check_file
from retrieval.models import Kind, Visibility
from tests.bot.conftest import COMMUNITY, CURATORS, CUSTOMER, STAFF, Harness, card_text, posted

ROOT = "1700005000.000100"


def _thread(harness: Harness) -> None:
    harness.stub.threads[(COMMUNITY, ROOT)] = [
        {"ts": ROOT, "user": CUSTOMER,
         "text": "こんにちは。シフト表を *PDF* で印刷する方法はありますか？ よろしく。"},
        {"ts": "1700005001.000100", "user": STAFF, "thread_ts": ROOT,
         "text": "<@UCUSTOMER> [シフト] → [印刷] から PDF で出力できます。"
                 "詳しくは <https://help.example.com/print|印刷ガイド> をご覧ください。"},
        {"ts": "1700005002.000100", "bot_id": "BBOT", "thread_ts": ROOT, "text": "自動回答です"},
        {"ts": "1700005003.000100", "user": STAFF, "thread_ts": ROOT,
         "text": "• 用紙サイズは A4 / A3 を選べます"},
    ]


def _shortcut(harness: Harness, user: str, message_ts: str = "1700005001.000100") -> Any:
    return harness.interact({
        "type": "message_action", "callback_id": "banso_save_faq_draft", "trigger_id": "t.1",
        "response_url": f"{harness.stub.base}/response/draft", "team": {"id": "T0001"},
        "user": {"id": user}, "channel": {"id": COMMUNITY}, "message_ts": message_ts,
        "message": {"ts": message_ts, "thread_ts": ROOT, "user": STAFF, "text": "..."},
    })


def test_staff_saves_a_thread_as_an_internal_draft_and_curators_hear_of_it(
    harness: Harness,
) -> None:
    _thread(harness)
    assert _shortcut(harness, STAFF).status_code == 200
    harness.drain()
    (path,) = sorted(harness.settings.drafts_dir.glob("*.md"))
    check = check_file(path, Kind.FAQ)
    assert check.errors == [] and check.entry is not None
    entry = check.entry
    assert entry.title == "シフト表を PDF で印刷する方法はありますか？"
    assert entry.visibility is Visibility.INTERNAL and entry.lang == "ja"
    assert "[印刷ガイド](https://help.example.com/print)" in entry.body
    assert "- 用紙サイズは A4 / A3 を選べます" in entry.body
    assert "自動回答です" not in entry.body and "UCUSTOMER" not in entry.body
    assert entry.links == (f"https://test.slack.com/archives/{COMMUNITY}/p{ROOT.replace('.', '')}",)
    assert entry.owner == STAFF and entry.updated == harness.clock().date()
    (announcement,) = posted(harness.stub, CURATORS)
    text = card_text(announcement["blocks"])
    assert path.name in text and "visibility: internal" in text and f"<@{STAFF}>" in text
    told = harness.stub.calls_to("response_url")[-1].args["text"]
    assert told.startswith("FAQ の下書きを保存しました") and path.name in told
    assert not harness.stub.violations


def test_saving_the_same_thread_again_updates_one_draft(harness: Harness) -> None:
    _thread(harness)
    _shortcut(harness, STAFF)
    harness.drain()
    _shortcut(harness, STAFF, message_ts=ROOT)
    harness.drain()
    assert len(list(harness.settings.drafts_dir.glob("*.md"))) == 1


def test_customers_cannot_save_drafts(harness: Harness) -> None:
    _thread(harness)
    _shortcut(harness, CUSTOMER)
    harness.drain()
    assert not harness.settings.drafts_dir.exists() or not any(
        harness.settings.drafts_dir.iterdir())
    assert posted(harness.stub, CURATORS) == []
    assert harness.stub.calls_to("response_url")[-1].args["text"] == \
        "FAQ の下書きを作成できるのはスタッフのみです。"


def test_a_thread_without_replies_is_not_a_draft(harness: Harness) -> None:
    harness.stub.threads[(COMMUNITY, ROOT)] = [
        {"ts": ROOT, "user": CUSTOMER, "text": "ログインできません"}]
    _shortcut(harness, STAFF, message_ts=ROOT)
    harness.drain()
    assert posted(harness.stub, CURATORS) == []
    told = harness.stub.calls_to("response_url")[-1].args["text"]
    assert "下書きにできる内容がありません" in told


def test_a_failed_draft_write_leaves_no_temporary_file_and_apologises(harness: Harness) -> None:
    _thread(harness)
    # The draft's own file name is taken by a folder: the final rename fails.
    drafts = harness.settings.drafts_dir
    (drafts / f"draft-{COMMUNITY.lower()}-{ROOT.replace('.', '-')}.md").mkdir(parents=True)

    assert _shortcut(harness, STAFF).status_code == 200
    harness.drain()

    assert sorted(p.name for p in drafts.iterdir()) == [
        f"draft-{COMMUNITY.lower()}-{ROOT.replace('.', '-')}.md"]  # no .draft-*.tmp left
    assert posted(harness.stub, CURATORS) == []
    told = harness.stub.calls_to("response_url")[-1].args["text"]
    assert "FAQ の下書きを保存しました" not in told

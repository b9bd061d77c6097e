"""Weekly digests delivered through the local Slack stand-in, chart and all."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import matplotlib.image
import pytest
from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from bot.models import Feedback, Question
from core.services import Services
from core.settings import Settings
from cs.kpis.digest import change
from jobs.digests import send_cs_digest, send_curation_digest
from tests.cs.kpis.test_report import add_account, add_questions
from tests.services import services_for
from tests.slack_stub import SlackStub


def _services(settings: Settings, session_factory: sessionmaker[Session],
              client: WebClient | None) -> Services:
    return services_for(settings, session_factory.kw["bind"], slack=client)

NOW = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # Monday 09:00 in Tokyo
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def client(stub: SlackStub) -> WebClient:
    return WebClient(token="xoxb-test", base_url=stub.url)


def seed_book(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        add_account(session, "A", [("2025-01-01", 600_000)])
        add_account(session, "B", [("2025-06-01", 200_000), ("2026-11-10", 0)], reason="no_roi")
        add_account(session, "C", [("2026-01-10", 100_000), ("2026-10-05", 150_000)], owner="U2")
        add_account(session, "D", [("2026-02-01", 80_000)])
        add_questions(session, NOW - timedelta(days=2))


def test_cs_digest_posts_kpis_and_uploads_a_real_png_chart_to_the_csm_channel(
    settings: Settings, session_factory: sessionmaker[Session], client: WebClient,
    stub: SlackStub,
) -> None:
    seed_book(session_factory)
    settings = settings.model_copy(update={"csm_channel": "CCSM"})
    result = send_cs_digest(_services(settings, session_factory, client), NOW)
    assert result.sent and result.channel == "CCSM" and result.file_id
    (post,) = stub.calls_to("chat.postMessage")
    assert post.args["channel"] == "CCSM" and not stub.violations
    text = json.dumps(post.args["blocks"], ensure_ascii=False)
    assert "ロゴ解約率" in text and "25.00% (1社)" in text  # B of A, B, C, D churned
    assert "警戒ライン" in text
    assert "株式会社A" in text  # the live accounts needing attention are listed
    bridge = next(b["text"]["text"] for b in post.args["blocks"]
                  if b.get("text", {}).get("text", "").startswith("*MRR ブリッジ*"))
    assert "解約" in bridge and "株式会社B 200,000" in bridge  # B churned on 10 November
    assert "期末 MRR" in bridge and bridge.endswith("```")

    (complete,) = stub.calls_to("files.completeUploadExternal")
    assert complete.args["channel_id"] == "CCSM"
    (png,) = stub.uploads.values()
    assert png.startswith(PNG_SIGNATURE)
    image = matplotlib.image.imread(io.BytesIO(png), format="png")
    assert image.shape[:2] == (400, 1400)  # 14 x 4 inches at 100 dpi


def test_cs_digest_with_an_empty_book_still_sends_n_a_figures(
    settings: Settings, session_factory: sessionmaker[Session], client: WebClient,
    stub: SlackStub,
) -> None:
    settings = settings.model_copy(update={"csm_channel": "CCSM"})
    assert send_cs_digest(_services(settings, session_factory, client), NOW).sent
    text = json.dumps(stub.calls_to("chat.postMessage")[0].args["blocks"], ensure_ascii=False)
    assert "n/a" in text and "該当なし" in text
    assert next(iter(stub.uploads.values())).startswith(PNG_SIGNATURE)


def test_failed_chart_upload_still_leaves_the_figures_posted(
    settings: Settings, session_factory: sessionmaker[Session], client: WebClient,
    stub: SlackStub,
) -> None:
    seed_book(session_factory)
    stub.fail_next("files.getUploadURLExternal", status=403)
    settings = settings.model_copy(update={"csm_channel": "CCSM"})
    result = send_cs_digest(_services(settings, session_factory, client), NOW)
    assert result.sent and result.file_id is None and result.ts
    assert len(stub.calls_to("chat.postMessage")) == 1 and stub.uploads == {}


def test_digests_are_skipped_without_a_channel(
    settings: Settings, session_factory: sessionmaker[Session], client: WebClient,
    stub: SlackStub,
) -> None:
    assert not send_cs_digest(_services(settings, session_factory, client), NOW).sent
    assert not send_curation_digest(_services(settings, session_factory, client), NOW).sent
    assert not send_cs_digest(_services(settings.model_copy(update={"csm_channel": "C1"}),
                                        session_factory, None), NOW).sent
    assert stub.calls == []


def test_change_marks_a_rise_in_churn_as_worse_and_a_rise_in_nrr_as_better() -> None:
    assert change(0.05, 0.03, worse_when_up=True) == "前期比 +2.0pt ⚠"
    assert change(1.05, 1.00, worse_when_up=False) == "前期比 +5.0pt"
    assert change(None, 0.03, worse_when_up=True) == "前期比 n/a"


def write_entry(root: Path, entry_id: str, title: str, updated: str | None) -> None:
    folder = root / "faq"
    folder.mkdir(parents=True, exist_ok=True)
    dated = f"updated: {updated}\n" if updated else ""
    (folder / f"{entry_id}.md").write_text(
        f"---\nid: {entry_id}\ntitle: {title}\nvisibility: public\nlang: ja\n{dated}"
        "---\n本文です。\n",
        encoding="utf-8",
    )


def test_curation_digest_lists_gaps_downvotes_stale_entries_and_drafts(
    settings: Settings, session_factory: sessionmaker[Session], client: WebClient,
    stub: SlackStub, tmp_path: Path,
) -> None:
    knowledge = tmp_path / "knowledge"
    write_entry(knowledge, "faq-password", "パスワードを忘れたら", "2026-10-01")
    write_entry(knowledge, "faq-invoice", "請求書の再発行", "2025-01-15")  # > 6 months old
    write_entry(knowledge, "faq-undated", "日付のないエントリ", None)
    settings = settings.model_copy(update={"curator_channel": "CCUR", "knowledge_dir": knowledge})
    settings.drafts_dir.mkdir(parents=True)
    (settings.drafts_dir / "draft-sso.md").write_text(
        "---\nid: draft-sso\ntitle: SSOは使えますか\n---\nSAMLに対応しています。\n",
        encoding="utf-8")
    (settings.drafts_dir / "broken.md").write_text("---\ntitle: [unclosed\n", encoding="utf-8")
    with session_factory.begin() as session:
        add_questions(session, NOW - timedelta(days=1))  # two similar abstains, one 👎
        old = Question(surface="slack", text="古い未回答の質問", lang="ja", visibility="public",
                       decision="abstain", created_at=NOW - timedelta(days=20))
        session.add(old)
        session.flush()
        session.add(Feedback(question_id=old.id, user="U7", helpful=False, entry_id="faq-invoice",
                             updated_at=NOW - timedelta(days=20)))

    result = send_curation_digest(_services(settings, session_factory, client), NOW)
    assert result.sent and result.channel == "CCUR"
    (post,) = stub.calls_to("chat.postMessage")
    assert not stub.violations
    text = json.dumps(post.args["blocks"], ensure_ascii=False)
    assert "×2 請求書の宛名を変更したい" in text
    assert "古い未回答の質問" not in text  # outside this week
    assert "`faq-password` パスワードを忘れたら — 👎1 👍0" in text
    assert "faq-invoice` 請求書の再発行 — 2025-01-15" in text
    assert "faq-undated` 日付のないエントリ — 更新日なし" in text
    assert "`faq-password` パスワードを忘れたら — 2026" not in text  # fresh entry not stale
    assert "SSOは使えますか (draft-sso.md," in text and "レビュー待ちの下書き* (2件)" in text
    assert "broken.md (broken.md," in text  # an unreadable draft is still listed, by name


def test_digests_follow_the_rules_language_english(
    settings: Settings, session_factory: sessionmaker[Session], client: WebClient,
    stub: SlackStub, tmp_path: Path,
) -> None:
    seed_book(session_factory)
    rules = tmp_path / "rules.yaml"
    rules.write_text("jobs:\n  lang: en\n", encoding="utf-8")
    settings = settings.model_copy(update={"csm_channel": "CCSM", "curator_channel": "CCUR",
                                           "rules_file": rules})
    send_cs_digest(_services(settings, session_factory, client), NOW)
    send_curation_digest(_services(settings, session_factory, client), NOW)
    cs, curation = stub.calls_to("chat.postMessage")
    cs_text = json.dumps(cs.args["blocks"], ensure_ascii=False)
    assert "Weekly CS digest" in cs_text and "Logo churn" in cs_text
    assert "25.00% (1 account)" in cs_text and "MRR bridge" in cs_text
    assert "ロゴ解約率" not in cs_text
    assert "Unanswered questions* (2, similar ones grouped)" in json.dumps(
        curation.args["blocks"], ensure_ascii=False)
    assert not stub.violations

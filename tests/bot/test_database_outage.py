"""Slack questions while the database is gone (signed events over HTTP): the asker is told at
once, with a reference the operator finds in the log, and gets the answer in the same thread
when the database returns — once, however many times Slack delivered the message."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot.models import Question
from tests.bot.conftest import COMMUNITY, RANDOM, Harness, message, posted
from tests.outage import Outage

REF = re.compile(r"(?:Reference|参照番号): ([0-9a-f]{8})")


def _questions(factory: sessionmaker[Session]) -> list[Question]:
    with factory() as session:
        return list(session.scalars(select(Question)))


def _apologies(harness: Harness) -> list[str]:
    return [p["text"] for p in posted(harness.stub) if REF.search(p.get("text", ""))]


def test_a_question_during_an_outage_is_apologised_for_then_answered_when_the_database_returns(
    harness: Harness, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    event = message("<@UBOT> パスワードを忘れました。再設定するには？", channel=RANDOM,
                    kind="app_mention")
    with caplog.at_level(logging.INFO), Outage(engine):
        assert harness.event(event).status_code == 200
        harness.drain()
        (apology,) = posted(harness.stub)

    assert apology["thread_ts"] == event["ts"] and "データベース" in apology["text"]
    ref = REF.search(apology["text"])
    assert ref is not None
    held = [r for r in caplog.records if r.getMessage() == "question held: database unavailable"]
    assert [getattr(r, "ref", None) for r in held] == [ref.group(1)]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

    # The held question is answered by the retry thread (its 👀 goes last).
    harness.stub.wait_for("reactions.remove", 1, timeout=15)
    answer = posted(harness.stub)[1]
    assert answer["thread_ts"] == event["ts"] and answer["blocks"]
    (question,) = _questions(harness.session_factory)
    assert question.top_entry_id == "password-reset" and question.reply_ts


def test_a_message_delivered_three_times_during_an_outage_gets_one_apology_and_one_answer(
    harness: Harness, engine: Engine
) -> None:
    # A mention in an auto-answer channel arrives as app_mention and message; Slack retries too.
    text = "<@UBOT> 請求書をダウンロードする方法は？"
    mention = message(text, channel=COMMUNITY, kind="app_mention")
    plain = message(text, channel=COMMUNITY, ts=mention["ts"])
    with Outage(engine):
        harness.event(mention, event_id="EvOUT1")
        harness.event(plain, event_id="EvOUT2")
        harness.event(mention, event_id="EvOUT1", retry=1)
        harness.drain()
        assert len(_apologies(harness)) == 1

    harness.stub.wait_for("reactions.remove", 1, timeout=15)
    answers = [p for p in posted(harness.stub) if p.get("blocks")]
    assert len(answers) == 1 and answers[0]["thread_ts"] == mention["ts"]
    assert len(_questions(harness.session_factory)) == 1


def test_a_question_whose_record_fails_after_its_claim_is_still_answered_once(
    harness: Harness, engine: Engine
) -> None:
    event = message("<@UBOT> How do I invite a teammate?", channel=RANDOM, kind="app_mention")
    with Outage(engine, when=lambda sql: sql.startswith("INSERT INTO bot_questions")) as down:
        harness.event(event)
        harness.drain()
        assert down.failed >= 1
        (apology,) = _apologies(harness)
        assert "database is unavailable" in apology  # in the asker's language

    # The first try reacted 👀 and took it back; the retry thread does the same once more.
    harness.stub.wait_for("reactions.remove", 2, timeout=15)
    answers = [p for p in posted(harness.stub) if p.get("blocks")]
    assert len(answers) == 1 and answers[0]["thread_ts"] == event["ts"]
    assert len(_questions(harness.session_factory)) == 1


def test_an_ask_command_during_an_outage_is_apologised_for_then_answered_through_its_response_url(
    harness: Harness, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO), Outage(engine):
        assert harness.command("パスワードを忘れました。再設定するには？").status_code == 200
        harness.drain()
        (apology,) = [c.args for c in harness.stub.calls_to("response_url")]

    assert apology["response_type"] == "ephemeral" and "データベース" in apology["text"]
    ref = REF.search(apology["text"])
    assert ref is not None
    held = [r for r in caplog.records if r.getMessage() == "question held: database unavailable"]
    assert [getattr(r, "ref", None) for r in held] == [ref.group(1)]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

    # The retry thread answers through the same response_url, still only for the asker.
    harness.stub.wait_for("response_url", 2, timeout=15)
    _apology, answer = harness.stub.calls_to("response_url")
    assert answer.args["response_type"] == "ephemeral" and answer.args["blocks"]
    assert posted(harness.stub) == []
    (question,) = _questions(harness.session_factory)
    assert question.surface == "ask-command" and question.top_entry_id == "password-reset"

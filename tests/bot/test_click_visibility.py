"""A button's result follows the channel where it is clicked and the clicker, not the stored
question: a crafted (signed) value naming a staff DM's question shows nothing internal in a
community channel."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.models import Question
from bot.payloads import AnswerRef
from core.slack.ids import ActionId
from tests.bot.conftest import (
    COMMUNITY,
    CUSTOMER,
    INTERNAL,
    STAFF,
    Harness,
    card_text,
    message,
    posted,
)

INTERNAL_ID = "refund-policy-internal"
INTERNAL_TEXT = "社内限定"
STAFF_DM = "DSTAFF"


def _staff_dm_question(harness: Harness) -> int:
    """Staff asks the internal question in their DM with the bot; returns its question id."""
    harness.event(message("返金に応じる社内基準は？", channel=STAFF_DM, user=STAFF,
                          channel_type="im"))
    harness.drain()
    (reply,) = posted(harness.stub, STAFF_DM)
    assert INTERNAL_TEXT in card_text(reply["blocks"])  # staff do see it, in their DM
    with harness.session_factory() as session:
        question = session.scalars(select(Question).where(Question.channel == STAFF_DM)).one()
        assert question.visibility == "internal"
        return question.id


def _crafted(action: ActionId, question_id: int, entry: str | None = INTERNAL_ID
             ) -> dict[str, Any]:
    return {"action_id": str(action), "value": AnswerRef(q=question_id, e=entry).encode()}


def _everything_sent(harness: Harness) -> str:
    return "\n".join(str(c.args) for c in harness.stub.calls)


@pytest.mark.parametrize("clicker", [CUSTOMER, STAFF])
@pytest.mark.parametrize("action", [ActionId.SHOW_ANSWER, ActionId.HELPFUL,
                                    ActionId.NOT_HELPFUL, ActionId.MORE_ANSWERS,
                                    ActionId.SHARE])
def test_a_crafted_button_in_a_community_channel_shows_nothing_internal(
    harness: Harness, clicker: str, action: ActionId,
) -> None:
    question_id = _staff_dm_question(harness)
    harness.stub.reset()

    for ephemeral in (False, True):
        reply = harness.click(_crafted(action, question_id), user=clicker, channel=COMMUNITY,
                              message_ts=None if ephemeral else "1700009999.000100",
                              ephemeral=ephemeral)
        assert reply.status_code == 200
    harness.drain()

    sent = _everything_sent(harness)
    assert INTERNAL_TEXT not in sent and INTERNAL_ID not in sent and "返金" not in sent
    assert not posted(harness.stub, COMMUNITY)  # nothing shared into the channel either


def test_more_answers_in_a_community_channel_lists_public_candidates_only(
    harness: Harness,
) -> None:
    question_id = _staff_dm_question(harness)
    harness.stub.reset()

    harness.click(_crafted(ActionId.MORE_ANSWERS, question_id, entry=None), user=STAFF,
                  channel=COMMUNITY, ephemeral=True)
    harness.drain()

    sent = _everything_sent(harness)
    assert INTERNAL_ID not in sent and "返金" not in sent


def test_the_same_button_in_the_staff_dm_still_shows_the_internal_answer(
    harness: Harness,
) -> None:
    question_id = _staff_dm_question(harness)
    harness.stub.reset()

    harness.click(_crafted(ActionId.SHOW_ANSWER, question_id), user=STAFF, channel=STAFF_DM,
                  message_ts="1700009999.000200")
    harness.drain()

    (update,) = [c.args for c in harness.stub.calls_to("chat.update")]
    assert INTERNAL_TEXT in card_text(update["blocks"])


def test_an_internal_channel_shows_it_only_for_an_internal_question(harness: Harness) -> None:
    question_id = _staff_dm_question(harness)
    harness.event(message("<@UBOT> パスワードを忘れました。再設定するには？", channel=COMMUNITY,
                          kind="app_mention"))
    harness.drain()
    with harness.session_factory() as session:
        public_id = session.scalars(select(Question.id).where(
            Question.channel == COMMUNITY)).one()
    harness.stub.reset()

    harness.click(_crafted(ActionId.SHOW_ANSWER, question_id), user=CUSTOMER, channel=INTERNAL,
                  message_ts="1700009999.000300")
    harness.click(_crafted(ActionId.SHOW_ANSWER, public_id), user=STAFF, channel=INTERNAL,
                  message_ts="1700009999.000400")
    harness.drain()

    updates = [c.args for c in harness.stub.calls_to("chat.update")]
    # The internal channel and the internal question: shown; a public question's button may
    # not be turned into a way to reach internal entries.
    assert len(updates) == 1 and INTERNAL_TEXT in card_text(updates[0]["blocks"])


def test_share_by_anyone_but_the_asker_is_refused(harness: Harness) -> None:
    harness.command("パスワードを忘れました。再設定するには？", user=CUSTOMER, channel=COMMUNITY)
    harness.drain()
    with harness.session_factory() as session:
        question_id = session.scalars(select(Question.id)).one()
    harness.stub.reset()

    harness.click(_crafted(ActionId.SHARE, question_id, entry="password-reset"),
                  user="UOTHER", channel=COMMUNITY, ephemeral=True)
    harness.drain()

    assert not posted(harness.stub, COMMUNITY)

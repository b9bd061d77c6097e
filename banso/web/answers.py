"""The website chat's questions and feedback clicks, stored through the bot's service.

One table for every surface (`bot.models.Question`, surface "web"), so the curator's reports
and the KPIs see web and Slack answers alike.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from bot import service as bot_service
from bot.models import Surface
from cs.community.web import record_web_question as record_account_question
from retrieval.models import Decision, Hit, SearchResult, Visibility


class UnknownAnswer(LookupError):
    """Feedback for an answer id that was never given on this surface."""


def record_web_question(
    session: Session, result: SearchResult, shown: list[Hit], decision: Decision, now: datetime
) -> int:
    """Store the question with exactly what the visitor was shown; returns the answer id."""
    question = bot_service.record_question(
        session, surface=Surface.WEB, result=replace(result, hits=shown, decision=decision),
        visibility=Visibility.PUBLIC, now=now,
    )
    return question.id


@dataclass
class _Pending:
    result: SearchResult
    shown: list[Hit]
    decision: Decision
    now: datetime
    account: str | None
    answer_id: Future[int] = field(default_factory=Future)


class AnswerLog:
    """Stores web answers in batches: one transaction for the questions that arrived together.

    Profiled under 8 clients on SQLite, the per-request commit (its WAL sync) and session setup
    were the largest cost after the embedding; concurrent requests now share one. Each request
    still waits for its own row, because the answer id it returns is the row's id. A question
    asked for a verified account is counted for it in the same transaction: both or neither.
    """

    def __init__(self, factory: sessionmaker[Session], tz: ZoneInfo, *, batch: int = 32,
                 timeout: float = 30.0) -> None:
        self._factory = factory
        self._tz = tz
        self._batch = batch
        self._timeout = timeout
        self._queue: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None

    def record(self, result: SearchResult, shown: list[Hit], decision: Decision,
               now: datetime, account: str | None = None) -> int:
        """Store the question with what the visitor was shown (and count it for `account`, a
        verified account id); returns the answer id."""
        pending = _Pending(result, shown, decision, now, account)
        self._start()
        self._queue.put(pending)
        return pending.answer_id.result(timeout=self._timeout)

    def _start(self) -> None:
        with self._lock:
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="answer-log",
                                                daemon=True)
                self._worker.start()

    def _work(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self._batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)

    def _write(self, batch: list[_Pending]) -> None:
        try:
            with self._factory() as session:
                ids = [self._store(session, pending) for pending in batch]
                session.commit()
        except Exception as exc:  # each waiting request reports it; the writer goes on
            for pending in batch:
                pending.answer_id.set_exception(exc)
            return
        for pending, answer_id in zip(batch, ids, strict=True):
            pending.answer_id.set_result(answer_id)

    def _store(self, session: Session, pending: _Pending) -> int:
        answer_id = record_web_question(
            session, pending.result, pending.shown, pending.decision, pending.now)
        if pending.account is not None:
            record_account_question(session, answer_id, pending.account, self._tz)
        return answer_id


def record_web_feedback(
    session: Session, answer_id: int, helpful: bool, user: str, now: datetime
) -> None:
    try:
        question = bot_service.get_question(session, answer_id)
    except bot_service.UnknownQuestion:
        raise UnknownAnswer(answer_id) from None
    # Only web answers: an anonymous visitor must not vote on Slack answers by guessing ids.
    if question.surface != Surface.WEB.value:
        raise UnknownAnswer(answer_id)
    bot_service.record_feedback(session, answer_id, user, helpful, now=now)

"""POST /api/ask and POST /api/feedback: the website chat's API (public knowledge only)."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError

from banso.web.answers import AnswerLog, UnknownAnswer, record_web_feedback
from banso.web.deps import ServicesDep, SessionDep
from banso.web.markdown import to_html
from banso.web.ratelimit import RateLimiter
from banso.web.schemas import (
    AnswerEntry,
    AskRequest,
    AskResponse,
    ErrorBody,
    FeedbackRequest,
    FeedbackResponse,
    Lang,
)
from banso.web.validation import StrictJsonRoute
from core.i18n import t
from core.services import Services
from cs.community.web import verified_account
from retrieval.models import Decision, Hit, SearchResult, Visibility
from retrieval.queries import PreparedQuery
from retrieval.query_cache import Vector
from retrieval.service import QueryBusy, QueryError

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api", tags=["chat"], route_class=StrictJsonRoute)

MAX_ENTRIES = 5
_Admitted = tuple[PreparedQuery, "Future[Vector]"]

def client_key(request: Request) -> str:
    # request.client is the real visitor only when ProxyHeadersMiddleware trusted the proxy
    # (BANSO_TRUSTED_PROXIES); otherwise X-Forwarded-For is ignored, as anyone can send it.
    return request.client.host if request.client else "unknown"


def _charge(request: Request, cost: float) -> None:
    limit(request, request.app.state.ask_limiter, "questions", cost)


def limit(request: Request, limiter: RateLimiter, what: str, cost: float = 1.0) -> None:
    """429 with Retry-After once this client has used up its bucket (`cost` tokens a request)."""
    retry_after = limiter.acquire(client_key(request), cost)
    if retry_after:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many {what}; retry in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )


def rate_limit(request: Request) -> None:
    limit(request, request.app.state.ask_limiter, "questions")


def feedback_rate_limit(request: Request) -> None:
    # Its own bucket: votes are cheap, but unlimited ones would let one client flood the
    # answer log and skew the curators' down-vote report.
    limit(request, request.app.state.feedback_limiter, "feedback clicks")


def _question_error(kind: str, message: str) -> RequestValidationError:
    # Same shape as pydantic's own errors, so clients parse one 422 format.
    return RequestValidationError(
        [{"type": kind, "loc": ("body", "question"), "msg": message, "input": None}]
    )


def _prepare(services: Services, question: str) -> PreparedQuery:
    limit = services.settings.ask_max_chars
    if len(question) > limit:
        raise _question_error(
            "string_too_long", f"question is {len(question)} characters; the limit is {limit}"
        )
    try:
        return services.retriever.prepare(question)
    except QueryError as exc:
        raise _question_error("value_error", str(exc)) from None


def _busy(busy: QueryBusy) -> HTTPException:
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE, f"busy; retry in {busy.retry_after} s",
        headers={"Retry-After": str(busy.retry_after)},
    )


def _admit(request: Request, services: Services, question: str) -> _Admitted:
    """Check, charge and queue a question (in a worker thread: tokenizing is CPU work)."""
    prepared = _prepare(services, question)
    _charge(request, prepared.cost)
    try:
        return prepared, services.retriever.queries.submit(prepared, client_key(request))
    except QueryBusy as busy:
        raise _busy(busy) from None


async def _vector(services: Services, pending: Future[Vector]) -> Vector:
    # Awaited, not blocked on: a question waiting for the embedder holds no thread, so the
    # embedder's bounded queue, not the threadpool's size, is what admits questions.
    pool = services.retriever.queries
    try:
        return await asyncio.wait_for(asyncio.wrap_future(pending), pool.limits.timeout)
    except TimeoutError:
        raise _busy(pool.gave_up(pending)) from None


def _public_hits(result: SearchResult, suggest_threshold: float) -> list[Hit]:
    if result.decision is Decision.ABSTAIN:
        return []
    # The retriever already filters; checked again here because this surface is anonymous.
    public = [h for h in result.hits if h.entry.visibility is Visibility.PUBLIC]
    # Below the suggest threshold a candidate is noise to a visitor ("other answers" that
    # answer something else); the best hit stays, it is what the decision is about.
    return [h for i, h in enumerate(public) if i == 0 or h.score >= suggest_threshold][
        :MAX_ENTRIES
    ]


def _entry(hit: Hit) -> AnswerEntry:
    return AnswerEntry(
        id=hit.entry.id, title=hit.entry.title, answer=hit.entry.body,
        answer_html=to_html(hit.entry.body),
        score=round(hit.score, 4), links=list(hit.entry.links),
    )


@router.post(
    "/ask",
    response_model=AskResponse,
    responses={
        413: {"model": ErrorBody, "description": "Body far larger than any allowed question."},
        429: {"model": ErrorBody, "description": "Rate limit (long questions cost more); "
              "see Retry-After."},
        503: {"model": ErrorBody, "description": "Search queue full or database unavailable; "
              "see Retry-After."},
    },
    summary="Answer a question from the public knowledge base",
)
async def ask(body: AskRequest, request: Request, services: ServicesDep) -> AskResponse:
    question, pending = await run_in_threadpool(_admit, request, services, body.question)
    vector = await _vector(services, pending)
    return await run_in_threadpool(_answer, request, services, body, question, vector)


def _answer(request: Request, services: Services, body: AskRequest, question: PreparedQuery,
            vector: Vector) -> AskResponse:
    retriever = services.retriever
    result = retriever.search_vector(question, vector, Visibility.PUBLIC, k=MAX_ENTRIES)
    hits = _public_hits(result, retriever.scoring.suggest_threshold)
    decision = result.decision if hits else Decision.ABSTAIN
    lang: Lang = body.lang or ("en" if result.lang == "en" else "ja")
    answers: AnswerLog = request.app.state.answer_log
    account = _verified_account(services, body.account_token)
    answer_id = answers.record(result, hits, decision, services.now(), account)
    # Never the question text at INFO: visitors type personal data into chat boxes.
    log.info("answered", extra={"decision": decision.value, "entries": len(hits),
                                "chars": len(body.question), "answer_id": answer_id})
    return AskResponse(
        answer_id=answer_id, decision=decision, lang=lang,
        message=t(f"web.{decision.value}", lang), entries=[_entry(h) for h in hits],
    )


def _verified_account(services: Services, token: str | None) -> str | None:
    """The account a page vouched for with a valid signed token: its questions count for that
    account's community activity (unsigned or expired tokens are ignored)."""
    secret = services.settings.chat_account_secret
    return verified_account(token, secret.get_secret_value() if secret else None,
                            services.now())


@router.post(
    "/feedback",
    response_model=FeedbackResponse,
    dependencies=[Depends(feedback_rate_limit)],
    responses={
        404: {"model": ErrorBody, "description": "No such answer_id."},
        429: {"model": ErrorBody, "description": "Rate limit; see Retry-After."},
    },
    summary="Record a helpful / not-helpful click on an answer",
)
def feedback(
    body: FeedbackRequest, request: Request, services: ServicesDep, session: SessionDep,
) -> FeedbackResponse:
    try:
        record_web_feedback(
            session, body.answer_id, body.helpful, f"web:{client_key(request)}", services.now()
        )
    except UnknownAnswer:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such answer_id") from None
    session.commit()
    log.info("feedback", extra={"answer_id": body.answer_id, "helpful": body.helpful})
    return FeedbackResponse()

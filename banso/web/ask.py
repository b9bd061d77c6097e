"""POST /api/ask and POST /api/feedback: the website chat's API (public knowledge only)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError

from banso.web.answers import UnknownAnswer, record_web_feedback, record_web_question
from banso.web.deps import ServicesDep, SessionDep
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
from retrieval.models import Decision, Hit, SearchResult, Visibility
from retrieval.service import QueryError

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api", tags=["chat"], route_class=StrictJsonRoute)

MAX_ENTRIES = 5

def client_key(request: Request) -> str:
    # request.client is the real visitor only when ProxyHeadersMiddleware trusted the proxy
    # (BANSO_TRUSTED_PROXIES); otherwise X-Forwarded-For is ignored, as anyone can send it.
    return request.client.host if request.client else "unknown"


def rate_limit(request: Request) -> None:
    limiter: RateLimiter = request.app.state.ask_limiter
    retry_after = limiter.acquire(client_key(request))
    if retry_after:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many questions; retry in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )


def _question_error(kind: str, message: str) -> RequestValidationError:
    # Same shape as pydantic's own errors, so clients parse one 422 format.
    return RequestValidationError(
        [{"type": kind, "loc": ("body", "question"), "msg": message, "input": None}]
    )


def _search(services: Services, question: str) -> SearchResult:
    limit = services.settings.ask_max_chars
    if len(question) > limit:
        raise _question_error(
            "string_too_long", f"question is {len(question)} characters; the limit is {limit}"
        )
    try:
        return services.retriever.search(question, Visibility.PUBLIC, k=MAX_ENTRIES)
    except QueryError as exc:
        raise _question_error("value_error", str(exc)) from None


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
        score=round(hit.score, 4), links=list(hit.entry.links),
    )


@router.post(
    "/ask",
    response_model=AskResponse,
    dependencies=[Depends(rate_limit)],
    responses={
        413: {"model": ErrorBody, "description": "Body far larger than any allowed question."},
        429: {"model": ErrorBody, "description": "Rate limit; see Retry-After."},
    },
    summary="Answer a question from the public knowledge base",
)
def ask(body: AskRequest, services: ServicesDep, session: SessionDep) -> AskResponse:
    result = _search(services, body.question)
    hits = _public_hits(result, services.retriever.scoring.suggest_threshold)
    decision = result.decision if hits else Decision.ABSTAIN
    lang: Lang = body.lang or ("en" if result.lang == "en" else "ja")
    answer_id = record_web_question(session, result, hits, decision, services.now())
    session.commit()
    # Never the question text at INFO: visitors type personal data into chat boxes.
    log.info("answered", extra={"decision": decision.value, "entries": len(hits),
                                "chars": len(body.question), "answer_id": answer_id})
    return AskResponse(
        answer_id=answer_id, decision=decision, lang=lang,
        message=t(f"web.{decision.value}", lang), entries=[_entry(h) for h in hits],
    )


@router.post(
    "/feedback",
    response_model=FeedbackResponse,
    responses={404: {"model": ErrorBody, "description": "No such answer_id."}},
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

"""POST /api/handoff (a visitor asks for a person) and GET /api/handoffs (staff, bearer token).

The request is stored, then posted to BANSO_SUPPORT_CHANNEL when Slack is on; either way the
visitor is told where the reply will come from, and staff find it in Slack or in the list.
Names and e-mail addresses are never logged.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from banso.web.ask import client_key, limit
from banso.web.deps import ServicesDep, SessionDep, require_api_token
from banso.web.schemas import (
    ErrorBody,
    HandoffItem,
    HandoffList,
    HandoffRequest,
    HandoffResponse,
)
from bot import handoffs
from bot import service as bot_service
from bot.models import Surface
from core.i18n import t

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api", tags=["chat"])


def rate_limit(request: Request) -> None:
    limit(request, request.app.state.handoff_limiter, "requests")


@router.post(
    "/handoff", response_model=HandoffResponse, dependencies=[Depends(rate_limit)],
    responses={429: {"model": ErrorBody, "description": "Rate limit; see Retry-After."}},
    summary="Ask a person: send the question and contact details to the support team",
)
def handoff(body: HandoffRequest, request: Request, services: ServicesDep,
            session: SessionDep) -> HandoffResponse:
    lang = body.lang or services.lang
    row = handoffs.create(session, question=body.question, name=body.name, email=body.email,
                          lang=lang, answer_id=_web_answer(session, body.answer_id),
                          now=services.now())
    session.commit()  # stored before Slack is tried: a Slack failure loses nothing
    handoffs.deliver(row, services.slack, services.settings.support_channel, services.lang)
    session.commit()
    log.info("hand-off", extra={"handoff_id": row.id, "status": row.status,
                                "client": client_key(request)})
    return HandoffResponse(id=row.id, status=row.status,
                           message=t("handoff.received", lang, email=body.email))


def _web_answer(session: SessionDep, answer_id: int | None) -> int | None:
    # Only an answer given on the web links a hand-off; a guessed Slack id is dropped.
    if answer_id is None:
        return None
    try:
        question = bot_service.get_question(session, answer_id)
    except bot_service.UnknownQuestion:
        return None
    return answer_id if question.surface == Surface.WEB.value else None


@router.get(
    "/handoffs", response_model=HandoffList, dependencies=[Depends(require_api_token)],
    responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}},
    summary="Hand-off requests, newest first (staff: Bearer BANSO_API_TOKEN)",
)
def list_handoffs(session: SessionDep,
                  count: Annotated[int, Query(ge=1, le=500)] = 100) -> HandoffList:
    rows = handoffs.recent(session, count)
    return HandoffList(handoffs=[HandoffItem.model_validate(r, from_attributes=True)
                                 for r in rows])

"""GET /api/examples: a few example questions for the empty chat page, from public FAQ entries."""

from __future__ import annotations

from fastapi import APIRouter, Query

from banso.web.deps import ServicesDep
from banso.web.schemas import Examples, Lang
from retrieval.models import Kind, Visibility

router = APIRouter(prefix="/api", tags=["chat"])

COUNT = 4


@router.get("/examples", response_model=Examples,
            summary="Example questions from the public knowledge base")
def examples(services: ServicesDep, lang: Lang = Query("ja")) -> Examples:
    entries = [e for e in services.retriever.entries
               if e.visibility is Visibility.PUBLIC and e.kind is Kind.FAQ and e.lang == lang]
    # The most recently reviewed entries first: the ones curators vouch for today.
    entries.sort(key=lambda e: (str(e.updated or ""), e.id), reverse=True)
    return Examples(lang=lang, questions=[e.title for e in entries[:COUNT]])

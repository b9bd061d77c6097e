"""Request and response models of the public HTTP API (they are the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.i18n import Lang
from core.plain_text import plain_text
from retrieval.models import Decision


class AskRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"question": "パスワードを忘れました", "lang": "ja"}]}
    )

    question: str = Field(
        min_length=1,
        description="The visitor's question, Japanese or English. Longer than the server's "
        "BANSO_ASK_MAX_CHARS is refused with 422.",
    )
    lang: Lang | None = Field(
        None, description="Language for the reply text; omitted means detected from the question."
    )
    account_token: str | None = Field(
        None, max_length=500, description="Optional: the visitor's account, signed by the "
        "embedding site with BANSO_CHAT_ACCOUNT_SECRET (docs/slack.md); invalid ones are ignored.",
    )

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        text = value.strip()
        if not text:
            raise ValueError("question is empty")
        if "\x00" in text:
            raise ValueError("question contains a NUL character")
        return text


class AnswerEntry(BaseModel):
    id: str = Field(description="Knowledge entry id.")
    title: str = Field(description="The entry's question / title.")
    answer: str = Field(description="The entry's body, Markdown.")
    answer_html: str = Field(description="The body rendered and sanitised (safe to insert).")
    score: float = Field(description="Match score in [0, 1], comparable across questions.")
    links: list[str] = Field(default_factory=list, description="Pages the answer comes from.")


class AskResponse(BaseModel):
    answer_id: int = Field(description="Pass to POST /api/feedback.")
    decision: Decision = Field(
        description="answer: the first entry answers it; suggest: candidates; abstain: none fit."
    )
    lang: Lang = Field(description="Language of the reply.")
    message: str = Field(description="One line for the visitor, in `lang`.")
    entries: list[AnswerEntry] = Field(description="Public entries, best first.")


class FeedbackRequest(BaseModel):
    # bot_questions.id is a 32-bit INTEGER: a larger id would be a database error, not a 404.
    answer_id: int = Field(ge=1, le=2**31 - 1, description="From the /api/ask answer.")
    helpful: bool


class FeedbackResponse(BaseModel):
    stored: bool = True


class ErrorBody(BaseModel):
    detail: str


EMAIL = r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$"


class HandoffRequest(BaseModel):
    """A visitor's request for a person: what they asked and how to reach them."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "question": "請求書の宛名を変更したい", "name": "佐藤 花子",
        "email": "hanako@example.co.jp", "consent": True, "lang": "ja", "answer_id": 12}]})

    question: str = Field(min_length=1, max_length=2000, description="What they need help with.")
    name: str = Field(min_length=1, max_length=100, description="How to address them.")
    email: str = Field(max_length=254, pattern=EMAIL, description="Where support replies.")
    consent: bool = Field(description="They agree to be contacted by email; must be true.")
    lang: Lang | None = Field(None, description="Language of the reply text.")
    answer_id: int | None = Field(None, ge=1, le=2**31 - 1,
                                  description="The /api/ask answer this follows, if any.")

    @field_validator("question", "name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        text = value.strip()
        if not text:
            raise ValueError("must not be empty")
        return str(plain_text(text))

    @field_validator("email")
    @classmethod
    def _storable(cls, value: str) -> str:
        return str(plain_text(value))

    @field_validator("consent")
    @classmethod
    def _consented(cls, value: bool) -> bool:
        if not value:
            raise ValueError("consent is required to contact you")
        return value


class HandoffResponse(BaseModel):
    id: int = Field(description="The hand-off's number (staff see it in Slack or the list).")
    status: str = Field(description="sent: posted to the support channel; stored: waiting "
                        "for staff (GET /api/handoffs, `banso handoffs list`).")
    message: str = Field(description="One line for the visitor, in their language.")


class HandoffItem(BaseModel):
    id: int
    created_at: datetime
    status: str
    question: str
    name: str
    email: str
    lang: str
    answer_id: int | None
    channel: str | None
    error: str | None


class HandoffList(BaseModel):
    handoffs: list[HandoffItem]


class Examples(BaseModel):
    lang: Lang
    questions: list[str] = Field(description="Example questions from the public knowledge base.")

"""Typed data that crosses the retrieval boundary: knowledge entries and search results."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class Visibility(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"


class Kind(StrEnum):
    FAQ = "faq"
    CASE = "case"
    PLAYBOOK = "playbook"


class Decision(StrEnum):
    ANSWER = "answer"    # confident: show the top entry's answer
    SUGGEST = "suggest"  # plausible: show the top few titles
    ABSTAIN = "abstain"  # no good match: say so, offer a human


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    body: str
    kind: Kind = Kind.FAQ
    visibility: Visibility = Visibility.PUBLIC
    aliases: tuple[str, ...] = ()
    phase: str | None = None
    tags: tuple[str, ...] = ()
    lang: str = "ja"
    owner: str | None = None
    updated: date | None = None
    links: tuple[str, ...] = ()
    path: str | None = None  # source file, relative to the knowledge root


@dataclass(frozen=True)
class Hit:
    entry: Entry
    score: float  # fused score in [0, 1], comparable across queries (the re-ranker may
    # re-order the first hits; past them this orders the hits)
    lexical: float = 0.0
    dense: float = 0.0


@dataclass(frozen=True)
class SearchResult:
    query: str
    decision: Decision
    hits: list[Hit] = field(default_factory=list)
    lang: str = "ja"  # language of the query: the bot answers in it
    # P(the top entry answers the question), calibrated (retrieval.confidence); 0 without hits.
    confidence: float = 0.0

    @property
    def top(self) -> Hit | None:
        return self.hits[0] if self.hits else None

"""The demo question set (bench/demo_questions.jsonl): loading, and judging one search of it.

Each line: id, text, expected (an entry id, or "none" when no entry the asker may see answers),
accept (other entries that answer it too, e.g. the same entry in the other language), lang,
visibility (who asks: "public" community member or "internal" staff), kind (answerable,
internal, internal-in-public, uncovered: about the product but no entry answers it, off-topic)
and split ("tune" may be used for fitting; "holdout" and "fresh" never are: "fresh" was written
later, after the first measurements, to score changes found on the other two).
"""

from __future__ import annotations

import difflib
import json
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from retrieval.models import Decision, Entry, SearchResult, Visibility

PATH = Path(__file__).with_name("demo_questions.jsonl")
# A question this close (difflib ratio, NFKC, lower-case) to a title or alias is a copy of it,
# not the way a member asks; to a question of another split, a repeat of it. The first 174
# questions reach 0.75 at most to a title or alias.
COPY_RATIO = 0.8


@dataclass(frozen=True)
class DemoQuestion:
    id: str
    text: str
    expected: str | None  # None: nothing the asker may see answers it
    accept: tuple[str, ...]
    lang: str
    visibility: Visibility
    kind: str
    split: str

    @property
    def answerable(self) -> bool:
        return self.expected is not None

    def right(self, entry_id: str) -> bool:
        return entry_id == self.expected or entry_id in self.accept


def load(path: Path = PATH, split: str | None = None) -> list[DemoQuestion]:
    questions = []
    for line in path.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        question = DemoQuestion(
            id=row["id"], text=row["text"],
            expected=None if row["expected"] == "none" else row["expected"],
            accept=tuple(row["accept"]), lang=row["lang"],
            visibility=Visibility(row["visibility"]), kind=row["kind"], split=row["split"],
        )
        if split is None or question.split == split:
            questions.append(question)
    return questions


def copies(questions: list[DemoQuestion], entries: Iterable[Entry],
           limit: float = COPY_RATIO) -> list[tuple[DemoQuestion, str, float]]:
    """Questions within `limit` of an entry's title or alias, or of a question of another split.

    A question of one split that repeats one of another would score what it was tuned on.
    """
    wordings = [(_plain(w), "") for e in entries for w in (e.title, *e.aliases)]
    wordings += [(_plain(q.text), q.split) for q in questions]
    found = []
    for q in questions:
        text = _plain(q.text)
        ratio, wording = max((difflib.SequenceMatcher(None, text, w).ratio(), w)
                             for w, split in wordings if split != q.split)
        if ratio >= limit:
            found.append((q, wording, ratio))
    return found


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


@dataclass(frozen=True)
class Judged:
    question: DemoQuestion
    decision: Decision
    top: str | None
    top3: tuple[str, ...]
    confidence: float
    internal_shown: bool  # an internal entry among the hits of a public search

    @property
    def answered_right(self) -> bool:
        return self.decision is Decision.ANSWER and self.top is not None and (
            self.question.right(self.top))

    @property
    def answered_wrong(self) -> bool:
        return self.decision is Decision.ANSWER and not self.answered_right

    @property
    def right_in_top3(self) -> bool:
        return any(self.question.right(entry) for entry in self.top3)


def judge(question: DemoQuestion, result: SearchResult) -> Judged:
    public = question.visibility is Visibility.PUBLIC
    return Judged(
        question=question,
        decision=result.decision,
        top=result.hits[0].entry.id if result.hits else None,
        top3=tuple(h.entry.id for h in result.hits[:3]),
        confidence=result.confidence,
        internal_shown=public and any(
            h.entry.visibility is Visibility.INTERNAL for h in result.hits),
    )

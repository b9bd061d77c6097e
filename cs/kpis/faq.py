"""FAQ KPIs: questions asked, how they were handled, deflection, feedback per entry, gaps.

Pure functions over plain rows; formulas documented in docs/metrics.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from cs.kpis.clusters import QuestionCluster, cluster_questions


@dataclass(frozen=True)
class QuestionRow:
    id: int
    text: str
    decision: str  # "answer" | "suggest" | "abstain"
    top_entry_id: str | None
    escalated: bool
    created_at: datetime
    lang: str = "ja"


@dataclass(frozen=True)
class FeedbackRow:
    entry_id: str
    helpful: bool


@dataclass(frozen=True)
class EntryFeedback:
    entry_id: str
    helpful: int
    not_helpful: int

    @property
    def net(self) -> int:
        return self.helpful - self.not_helpful


@dataclass(frozen=True)
class FaqKpis:
    asked: int
    answered: int
    suggested: int
    abstained: int
    escalated: int
    deflected: int  # answered and never escalated
    deflection_rate: float | None
    unanswered_rate: float | None
    feedback: list[EntryFeedback] = field(default_factory=list)  # most down-voted first
    top_unanswered: list[QuestionCluster] = field(default_factory=list)


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def entry_feedback(rows: Iterable[FeedbackRow]) -> list[EntryFeedback]:
    """Votes per entry, the most down-voted (then least up-voted) first."""
    up: Counter[str] = Counter()
    down: Counter[str] = Counter()
    for row in rows:
        (up if row.helpful else down)[row.entry_id] += 1
    entries = [EntryFeedback(e, up[e], down[e]) for e in set(up) | set(down)]
    return sorted(entries, key=lambda f: (-f.not_helpful, f.helpful, f.entry_id))


def faq_kpis(
    questions: Iterable[QuestionRow],
    feedback: Iterable[FeedbackRow],
    top_clusters: int = 10,
) -> FaqKpis:
    rows = list(questions)
    decisions = Counter(q.decision for q in rows)
    deflected = sum(1 for q in rows if q.decision == "answer" and not q.escalated)
    abstained = [q for q in rows if q.decision == "abstain"]
    return FaqKpis(
        asked=len(rows),
        answered=decisions["answer"],
        suggested=decisions["suggest"],
        abstained=decisions["abstain"],
        escalated=sum(1 for q in rows if q.escalated),
        deflected=deflected,
        deflection_rate=_ratio(deflected, len(rows)),
        unanswered_rate=_ratio(decisions["abstain"], len(rows)),
        feedback=entry_feedback(feedback),
        top_unanswered=cluster_questions([q.text for q in abstained])[:top_clusters],
    )

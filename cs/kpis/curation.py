"""What the knowledge curator should look at this week: gaps, down-votes, stale entries, drafts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings
from cs.kpis import queries
from cs.kpis.clusters import QuestionCluster, cluster_questions
from cs.kpis.faq import EntryFeedback, entry_feedback
from cs.kpis.formulas import Period
from cs.kpis.service import local_midnight
from retrieval.documents import load_knowledge
from retrieval.models import Entry

TOP_CLUSTERS = 10
TOP_DOWNVOTED = 5
MAX_LISTED = 10


@dataclass(frozen=True)
class StaleEntry:
    entry_id: str
    title: str
    updated: date | None  # None: the file has no `updated` date at all
    path: str | None


@dataclass(frozen=True)
class Draft:
    name: str
    modified: datetime
    title: str | None = None  # the question, from the draft's front matter


@dataclass
class CurationReport:
    period: Period
    stale_months: int
    unanswered: list[QuestionCluster] = field(default_factory=list)
    abstained: int = 0
    downvoted: list[EntryFeedback] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)  # entry id -> title, for display
    stale: list[StaleEntry] = field(default_factory=list)
    stale_total: int = 0
    drafts: list[Draft] = field(default_factory=list)


def months_before(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):  # clamp 31 March - 1 month to 28/29 February
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def stale_entries(entries: list[Entry], today: date, months: int) -> list[StaleEntry]:
    """Entries last updated more than `months` months ago, or never dated; oldest first."""
    cutoff = months_before(today, months)
    stale = [
        StaleEntry(e.id, e.title, e.updated, e.path)
        for e in entries if e.updated is None or e.updated < cutoff
    ]
    return sorted(stale, key=lambda s: (s.updated or date.min, s.entry_id))


def waiting_drafts(drafts_dir: Path, tz: ZoneInfo) -> list[Draft]:
    """Draft files waiting for review, oldest first (a missing folder means none)."""
    if not drafts_dir.is_dir():
        return []
    files = [p for p in drafts_dir.rglob("*") if p.is_file() and not p.name.startswith(".")]
    drafts = [
        Draft(str(p.relative_to(drafts_dir)), datetime.fromtimestamp(p.stat().st_mtime, tz),
              draft_title(p))
        for p in files
    ]
    return sorted(drafts, key=lambda d: (d.modified, d.name))


def draft_title(path: Path) -> str | None:
    """The `title` of a draft's YAML front matter; None when it has none or is unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
        if not text.startswith("---"):
            return None
        front = yaml.safe_load(text[3:].split("\n---", 1)[0])
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    title = front.get("title") if isinstance(front, dict) else None
    return str(title) if title else None


def build_curation_report(
    settings: Settings, session_factory: sessionmaker[Session], now: datetime, days: int = 7
) -> CurationReport:
    tz = ZoneInfo(settings.timezone)
    today = now.astimezone(tz).date()
    period = Period.days_ending(today, days)
    first, last = local_midnight(period.start, tz), local_midnight(period.end, tz)
    with session_factory() as session:
        asked = list(queries.questions(session, first, last))
        votes = list(queries.feedback(session, first, last))
    gaps = [q.text for q in asked if q.decision == "abstain"]
    entries = load_knowledge(settings.knowledge_dir).entries
    stale = stale_entries(entries, today, settings.curation_stale_months)
    return CurationReport(
        period=period,
        stale_months=settings.curation_stale_months,
        unanswered=cluster_questions(gaps)[:TOP_CLUSTERS],
        abstained=len(gaps),
        downvoted=[f for f in entry_feedback(votes) if f.not_helpful][:TOP_DOWNVOTED],
        titles={e.id: e.title for e in entries},
        stale=stale[:MAX_LISTED],
        stale_total=len(stale),
        drafts=waiting_drafts(settings.drafts_dir, tz),
    )

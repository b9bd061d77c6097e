"""Weekly digests: the CS digest (KPIs vs last period, a chart, five accounts needing attention)
to settings.csm_channel, and the curation digest to settings.curator_channel.

Blocks are pure functions of typed data; `send_*` are the scheduled jobs' entry points. Each
returns what it did, and skips (with a log line) when its channel or Slack is not configured.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session, sessionmaker

from banso.settings import Settings
from jobs.kpis.chart import render_png, trend
from jobs.kpis.curation import CurationReport, build_curation_report
from jobs.kpis.formulas import Period
from jobs.kpis.report import minutes, money, rate
from jobs.kpis.service import (
    Attention,
    CsMetrics,
    kpi_config,
    last_complete_month,
    load_book,
    metrics_for,
)
from jobs.kpis.texts import tr
from jobs.rules.config import RulesConfig, load_rules
from jobs.rules.models import HealthBand, TouchModel

log = logging.getLogger(__name__)

Block = dict[str, Any]
DIGEST_DAYS = 30
TREND_MONTHS = 6
SECTION_LIMIT = 3000
BANDS = frozenset(b.value for b in HealthBand)
TOUCHES = frozenset(t.value for t in TouchModel)


@dataclass(frozen=True)
class DigestResult:
    sent: bool
    channel: str | None = None
    ts: str | None = None
    file_id: str | None = None
    reason: str = ""


# --- blocks ------------------------------------------------------------------------------------


def _last_day(end: date) -> date:
    return end - timedelta(days=1)


def _clip(text: str, limit: int = SECTION_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text)}}


def _header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": _clip(text, 150)}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(text)}]}


def change(now: float | None, before: float | None, worse_when_up: bool, lang: str = "ja") -> str:
    """A rate's change in percentage points ('+0.5pt'); ⚠ marks a change for the worse."""
    if now is None or before is None:
        return tr(lang, "vs_prev", delta="n/a")
    points = (now - before) * 100
    if abs(points) < 0.05:
        return tr(lang, "vs_prev", delta="±0.0pt")
    worse = (points > 0) == worse_when_up
    return tr(lang, "vs_prev", delta=f"{points:+.1f}pt{' ⚠' if worse else ''}")


def _field(label: str, value: str, delta: str = "") -> dict[str, str]:
    text = f"*{label}*\n{value}" + (f"\n{delta}" if delta else "")
    return {"type": "mrkdwn", "text": _clip(text, 2000)}


def kpi_fields(cur: CsMetrics, prev: CsMetrics, lang: str = "ja") -> list[dict[str, str]]:
    c, p, cy = cur.churn, prev.churn, cur.currency
    ack = cur.alerts.ack_all
    mean = "n/a" if cur.book.mean_per_csm is None else f"{cur.book.mean_per_csm:.1f}"

    def delta(now: float | None, before: float | None, worse_when_up: bool) -> str:
        return change(now, before, worse_when_up, lang)

    def logos(n: int) -> str:
        return tr(lang, "logos", n=f"{n:,}")

    return [
        _field(tr(lang, "logo_churn"), f"{rate(c.logo_churn_rate, 2)} ({logos(c.churned_logos)})",
               delta(c.logo_churn_rate, p.logo_churn_rate, True)),
        _field(tr(lang, "mrr_churn"), rate(c.mrr_churn_rate, 2),
               delta(c.mrr_churn_rate, p.mrr_churn_rate, True)),
        _field("NRR / GRR", f"{rate(cur.retention.nrr)} / {rate(cur.retention.grr)}",
               delta(cur.retention.nrr, prev.retention.nrr, False)),
        _field(tr(lang, "avoidable"), f"{logos(cur.avoidable_churn.count)} / "
               f"{money(cur.avoidable_churn.mrr, cy)}"),
        _field(tr(lang, "new_back"), f"{logos(c.new_logos)} ({money(c.new_mrr, cy)}) / "
               f"{logos(c.reactivated_logos)}"),
        _field(tr(lang, "live"), f"{logos(cur.book.accounts)} ({tr(lang, 'per_csm')} {mean})"),
        _field(tr(lang, "tta"), f"{tr(lang, 'median')} {minutes(ack.median_minutes)} / p90 "
               f"{minutes(ack.p90_minutes)}",
               f"{tr(lang, 'prev_median')} {minutes(prev.alerts.ack_all.median_minutes)}"),
        _field(tr(lang, "deflection"), rate(cur.faq.deflection_rate),
               delta(cur.faq.deflection_rate, prev.faq.deflection_rate, False)),
        _field(tr(lang, "unanswered_rate"),
               f"{rate(cur.faq.unanswered_rate)} ({cur.faq.abstained}/{cur.faq.asked})",
               delta(cur.faq.unanswered_rate, prev.faq.unanswered_rate, True)),
    ]


def attention_line(a: Attention, lang: str = "ja") -> str:
    owner = f"<@{a.owner_user_id}>" if a.owner_user_id else tr(lang, "unowned")
    why = tr(lang, "list_sep").join(a.risks[:2]) or tr(lang, "no_risk")
    band = tr(lang, f"band.{a.health_band}") if a.health_band in BANDS else a.health_band
    touch = tr(lang, f"touch.{a.touch_model}") if a.touch_model in TOUCHES else a.touch_model
    return (f"• *{a.name}* — {band} ({tr(lang, 'points', n=a.health_score)}), {touch}, "
            f"{money(a.mrr, a.currency)} / {tr(lang, 'owner', owner=owner)}\n    {why}")


def cs_digest_blocks(
    cur: CsMetrics, prev: CsMetrics, attention: list[Attention], lang: str = "ja"
) -> list[Block]:
    days = (cur.end - cur.start).days
    blocks = [
        _header(tr(lang, "cs_title", start=f"{cur.start:%m/%d}",
                   end=f"{_last_day(cur.end):%m/%d}", days=days)),
        {"type": "section", "fields": kpi_fields(cur, prev, lang)},
    ]
    if cur.churn.above_warning:
        blocks.append(_section(tr(lang, "warning", line=rate(cur.churn.warning_line))))
    lines = "\n".join(attention_line(a, lang) for a in attention) or tr(lang, "none")
    blocks.append(_section(f"{tr(lang, 'attention')}\n{lines}"))
    blocks.append(_context(tr(lang, "cs_footer", start=prev.start, end=_last_day(prev.end))))
    return blocks


def cs_digest_text(cur: CsMetrics, lang: str = "ja") -> str:
    return tr(lang, "cs_text", logo=rate(cur.churn.logo_churn_rate, 2), nrr=rate(cur.retention.nrr))


def curation_blocks(report: CurationReport, lang: str = "ja") -> list[Block]:
    p = report.period
    gaps = "\n".join(f"• ×{c.count} {c.representative}" for c in report.unanswered)
    down = "\n".join(
        f"• `{f.entry_id}` {report.titles.get(f.entry_id, tr(lang, 'deleted'))} — "
        f"👎{f.not_helpful} 👍{f.helpful}" for f in report.downvoted
    )
    stale = "\n".join(
        f"• `{s.entry_id}` {s.title} — {s.updated or tr(lang, 'undated')}" for s in report.stale
    )
    more = report.stale_total - len(report.stale)
    if more > 0:
        stale += "\n" + tr(lang, "more", n=more)
    drafts = "\n".join(f"• {d.title or d.name} ({d.name}, {d.modified:%Y-%m-%d})"
                       for d in report.drafts[:10])
    nothing = tr(lang, "nothing")
    return [
        _header(tr(lang, "cur_title", start=f"{p.start:%m/%d}", end=f"{_last_day(p.end):%m/%d}")),
        _section(f"{tr(lang, 'gaps', n=report.abstained)}\n{gaps or tr(lang, 'no_gaps')}"),
        _section(f"{tr(lang, 'downvoted')}\n{down or nothing}"),
        _section(f"{tr(lang, 'stale', months=report.stale_months, n=report.stale_total)}\n"
                 f"{stale or nothing}"),
        _section(f"{tr(lang, 'drafts', n=len(report.drafts))}\n{drafts or nothing}"),
    ]


# --- delivery ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Digest:
    """A digest ready to post: what `send_*` sends and `banso digest --dry-run` prints."""

    text: str
    blocks: list[Block]
    chart: bytes | None = None  # PNG
    chart_name: str = ""
    chart_title: str = ""


def build_cs_digest(
    settings: Settings, session_factory: sessionmaker[Session], now: datetime
) -> Digest:
    """Last 30 days vs the 30 before, the five accounts needing attention, the trend chart."""
    tz = ZoneInfo(settings.timezone)
    rules = load_rules(settings.rules_file)
    config = kpi_config(settings, rules)
    period = Period.days_ending(now.astimezone(tz).date(), DIGEST_DAYS)
    with session_factory() as session:
        book = load_book(session, now.astimezone(tz), rules, config)
        cur = metrics_for(session, book, period, config=config, tz=tz, now=now)
        prev = metrics_for(session, book, period.previous(), config=config, tz=tz, now=now)
    months = trend(book.log, last_complete_month(now, tz), TREND_MONTHS, config)
    lang = digest_lang(rules)
    return Digest(
        text=cs_digest_text(cur, lang),
        blocks=cs_digest_blocks(cur, prev, book.attention, lang),
        chart=render_png(months, cur.book.by_health_band, config.churn_warning),
        chart_name=f"cs-digest-{period.end}.png",
        chart_title=f"CS trend {months[0].label}..{months[-1].label}",
    )


def build_curation_digest(
    settings: Settings, session_factory: sessionmaker[Session], now: datetime
) -> Digest:
    report = build_curation_report(settings, session_factory, now)
    lang = digest_lang(load_rules(settings.rules_file))
    return Digest(text=tr(lang, "cur_text", n=report.abstained),
                  blocks=curation_blocks(report, lang))


def send_cs_digest(
    settings: Settings,
    session_factory: sessionmaker[Session],
    client: WebClient | None,
    now: datetime,
) -> DigestResult:
    """The weekly CS digest to settings.csm_channel (a scheduled job)."""
    channel = settings.csm_channel
    if client is None or channel is None:
        return _skipped("cs digest", "Slack or BANSO_CSM_CHANNEL not configured")
    return post_digest(client, channel, build_cs_digest(settings, session_factory, now))


def send_curation_digest(
    settings: Settings,
    session_factory: sessionmaker[Session],
    client: WebClient | None,
    now: datetime,
) -> DigestResult:
    """The weekly curation digest to settings.curator_channel (a scheduled job)."""
    channel = settings.curator_channel
    if client is None or channel is None:
        return _skipped("curation digest", "Slack or BANSO_CURATOR_CHANNEL not configured")
    return post_digest(client, channel, build_curation_digest(settings, session_factory, now))


def post_digest(client: WebClient, channel: str, digest: Digest) -> DigestResult:
    """Post the message, then its chart (if any) in the same channel."""
    posted = client.chat_postMessage(channel=channel, text=digest.text, blocks=digest.blocks)
    file_id = upload_chart(client, channel, digest) if digest.chart else None
    log.info("digest sent", extra={"channel": channel, "file_id": file_id})
    return DigestResult(True, channel, posted.get("ts"), file_id)


def upload_chart(client: WebClient, channel: str, digest: Digest) -> str | None:
    """Upload the chart after the message; a failed upload (e.g. no files:write scope) leaves
    the figures posted and is logged, instead of failing the whole digest."""
    try:
        upload = client.files_upload_v2(
            channel=channel, content=digest.chart, filename=digest.chart_name,
            title=digest.chart_title,
        )
    except SlackApiError as exc:
        log.warning("cs digest chart upload failed", extra={"error": exc.response.get("error")})
        return None
    file_id: str | None = (upload.get("file") or {}).get("id")
    return file_id


def digest_lang(rules: RulesConfig) -> str:
    """The alert cards' language (`jobs.lang` in the rules file), so one setting covers both."""
    lang = str(rules.jobs.get("lang", "ja"))
    return lang if lang in ("ja", "en") else "ja"


def _skipped(job: str, reason: str) -> DigestResult:
    log.info("%s skipped: %s", job, reason)
    return DigestResult(False, reason=reason)

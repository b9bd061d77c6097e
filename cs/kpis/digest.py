"""Weekly digests: the CS digest (KPIs vs last period, a chart, five accounts needing attention)
to settings.csm_channel, and the curation digest to settings.curator_channel.

Blocks are pure functions of typed data; `send_*` are the scheduled jobs' entry points. Each
returns what it did, and skips (with a log line) when its channel or Slack is not configured.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from core.i18n import Lang, t
from core.services import Services
from core.slack.blocks import SECTION_LIMIT, Block, clip, context, escape, header, section
from cs.community.report import CommunityReport
from cs.kpis.chart import render_png, trend
from cs.kpis.curation import CurationReport, build_curation_report
from cs.kpis.formulas import Period, bridge
from cs.kpis.report import band_name, bridge_lines, minutes, money, rate, touch_name
from cs.kpis.service import (
    Attention,
    CsMetrics,
    kpi_config,
    last_complete_month,
    load_book,
    metrics_for,
)

log = logging.getLogger(__name__)

DIGEST_DAYS = 30
FIELD_LIMIT = 2000  # Slack: a section field's text
TREND_MONTHS = 6


@dataclass(frozen=True)
class DigestResult:
    sent: bool
    channel: str | None = None
    ts: str | None = None
    file_id: str | None = None
    reason: str = ""

    @property
    def outcome(self) -> str:
        return "ok" if self.sent else "skipped"

    def summary(self) -> str:
        if not self.sent:
            return f"not sent: {self.reason}"
        return f"sent to {self.channel} (ts {self.ts}" + (
            f", chart {self.file_id})" if self.file_id else ")")


# --- blocks ------------------------------------------------------------------------------------


def _last_day(end: date) -> date:
    return end - timedelta(days=1)


def change(now: float | None, before: float | None, worse_when_up: bool, lang: Lang = "ja") -> str:
    """A rate's change in percentage points ('+0.5pt'); ⚠ marks a change for the worse."""
    if now is None or before is None:
        return t("kpis.vs_prev", lang, delta="n/a")
    points = (now - before) * 100
    if abs(points) < 0.05:
        return t("kpis.vs_prev", lang, delta="±0.0pt")
    worse = (points > 0) == worse_when_up
    return t("kpis.vs_prev", lang, delta=f"{points:+.1f}pt{' ⚠' if worse else ''}")


def _field(label: str, value: str, delta: str = "") -> dict[str, str]:
    text = f"*{label}*\n{value}" + (f"\n{delta}" if delta else "")
    return {"type": "mrkdwn", "text": clip(text, FIELD_LIMIT)}


def kpi_fields(cur: CsMetrics, prev: CsMetrics, lang: Lang = "ja") -> list[dict[str, str]]:
    c, p, cy = cur.churn, prev.churn, cur.currency
    ack = cur.alerts.ack_all
    mean = "n/a" if cur.book.mean_per_csm is None else f"{cur.book.mean_per_csm:.1f}"

    def delta(now: float | None, before: float | None, worse_when_up: bool) -> str:
        return change(now, before, worse_when_up, lang)

    def logos(n: int) -> str:
        return t("kpis.logos", lang, n=n)

    return [
        _field(t("kpis.logo_churn", lang),
               f"{rate(c.logo_churn_rate, 2)} ({logos(c.churned_logos)})",
               delta(c.logo_churn_rate, p.logo_churn_rate, True)),
        _field(t("kpis.mrr_churn", lang), rate(c.mrr_churn_rate, 2),
               delta(c.mrr_churn_rate, p.mrr_churn_rate, True)),
        _field("NRR / GRR", f"{rate(cur.retention.nrr)} / {rate(cur.retention.grr)}",
               delta(cur.retention.nrr, prev.retention.nrr, False)),
        _field(t("kpis.avoidable", lang), f"{logos(cur.avoidable_churn.count)} / "
               f"{money(cur.avoidable_churn.mrr, cy)}"),
        _field(t("kpis.new_back", lang), f"{logos(c.new_logos)} ({money(c.new_mrr, cy)}) / "
               f"{logos(c.reactivated_logos)}"),
        _field(t("kpis.live", lang),
               f"{logos(cur.book.accounts)} ({t('kpis.per_csm', lang)} {mean})"),
        _field(t("kpis.tta", lang),
               f"{t('kpis.median', lang)} {minutes(ack.median_minutes, lang)} / p90 "
               f"{minutes(ack.p90_minutes, lang)}",
               f"{t('kpis.prev_median', lang)} "
               f"{minutes(prev.alerts.ack_all.median_minutes, lang)}"),
        _field(t("kpis.deflection", lang), rate(cur.faq.deflection_rate),
               delta(cur.faq.deflection_rate, prev.faq.deflection_rate, False)),
        _field(t("kpis.unanswered_rate", lang),
               f"{rate(cur.faq.unanswered_rate)} ({cur.faq.abstained}/{cur.faq.asked})",
               delta(cur.faq.unanswered_rate, prev.faq.unanswered_rate, True)),
    ]


def attention_line(a: Attention, lang: Lang = "ja") -> str:
    owner = f"<@{a.owner_user_id}>" if a.owner_user_id else t("kpis.unowned", lang)
    why = escape(t("kpis.list_sep", lang).join(a.risks[:2])) or t("kpis.no_risk", lang)
    band, touch = band_name(a.health_band, lang), touch_name(a.touch_model, lang)
    return (f"• *{escape(a.name)}* — {band} ({t('kpis.points', lang, n=a.health_score)}), "
            f"{touch}, "
            f"{money(a.mrr, a.currency)} / {t('kpis.owner', lang, owner=owner)}\n    {why}")


def cs_digest_blocks(
    cur: CsMetrics, prev: CsMetrics, attention: list[Attention], lang: Lang = "ja"
) -> list[Block]:
    days = (cur.end - cur.start).days
    blocks = [
        header(t("kpis.cs_title", lang, start=f"{cur.start:%m/%d}",
                   end=f"{_last_day(cur.end):%m/%d}", days=days)),
        {"type": "section", "fields": kpi_fields(cur, prev, lang)},
    ]
    if cur.churn.above_warning:
        blocks.append(section(t("kpis.warning", lang, line=rate(cur.churn.warning_line))))
    blocks.append(bridge_section(cur, lang))
    blocks.append(section(community_line(cur.community, lang)))
    lines = "\n".join(attention_line(a, lang) for a in attention) or t("kpis.none", lang)
    blocks.append(section(f"{t('kpis.attention', lang)}\n{lines}"))
    blocks.append(context(t("kpis.cs_footer", lang, start=prev.start, end=_last_day(prev.end))))
    return blocks


def community_line(report: CommunityReport, lang: Lang = "ja") -> str:
    """Linked members' questions in the period: outcomes, deflection by touch model, open
    escalations. Counts only: a member's words never leave the staff views."""
    every = report.total()
    segments = t("kpis.list_sep", lang).join(
        f"{touch_name(r.key, lang)} {rate(r.deflection_rate, 0)}"
        for r in report.by_segment if r.questions)
    return t("kpis.community", lang, questions=every.questions, answered=every.answered,
             suggested=every.suggested, abstained=every.unanswered,
             segments=segments or t("kpis.none", lang), open=every.escalations_open)


def bridge_section(m: CsMetrics, lang: Lang = "ja") -> Block:
    """The period's MRR bridge as the report prints it, in a code block so the columns align."""
    title, *lines = bridge_lines(m.bridge, m.currency, lang)[1:]
    # Clipped inside the fence, so a long list of account names never breaks the code block.
    body = clip(escape("\n".join(lines)), SECTION_LIMIT - len(title) - 16)
    return section(f"*{title}*\n```{body}```")


def cs_digest_text(cur: CsMetrics, lang: Lang = "ja") -> str:
    return t("kpis.cs_text", lang, logo=rate(cur.churn.logo_churn_rate, 2),
             nrr=rate(cur.retention.nrr))


def curation_blocks(report: CurationReport, lang: Lang = "ja") -> list[Block]:
    p = report.period
    # Visitors' questions and draft titles: inert in mrkdwn, or `<!here>` in a web question
    # would notify the whole curator channel.
    gaps = "\n".join(f"• ×{c.count} {escape(c.representative)}" for c in report.unanswered)
    down = "\n".join(
        f"• `{f.entry_id}` {escape(report.titles.get(f.entry_id, t('kpis.deleted', lang)))} — "
        f"👎{f.not_helpful} 👍{f.helpful}" for f in report.downvoted
    )
    stale = "\n".join(
        f"• `{s.entry_id}` {escape(s.title)} — {s.updated or t('kpis.undated', lang)}"
        for s in report.stale
    )
    more = report.stale_total - len(report.stale)
    if more > 0:
        stale += "\n" + t("kpis.more", lang, n=more)
    drafts = "\n".join(f"• {escape(d.title or d.name)} ({escape(d.name)}, {d.modified:%Y-%m-%d})"
                       for d in report.drafts[:10])
    nothing = t("kpis.nothing", lang)
    return [
        header(t("kpis.cur_title", lang, start=f"{p.start:%m/%d}",
                 end=f"{_last_day(p.end):%m/%d}")),
        section(f"{t('kpis.gaps', lang, n=report.abstained)}\n{gaps or t('kpis.no_gaps', lang)}"),
        section(f"{t('kpis.downvoted', lang)}\n{down or nothing}"),
        section(f"{t('kpis.stale', lang, months=report.stale_months, n=report.stale_total)}\n"
                 f"{stale or nothing}"),
        section(f"{t('kpis.drafts', lang, n=len(report.drafts))}\n{drafts or nothing}"),
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


def build_cs_digest(services: Services, now: datetime) -> Digest:
    """Last 30 days vs the 30 before, the five accounts needing attention, the trend chart."""
    tz, rules = services.timezone, services.rules
    config = kpi_config(services.settings, rules)
    period = Period.days_ending(now.astimezone(tz).date(), DIGEST_DAYS)
    with services.session_factory() as session:
        book = load_book(session, now.astimezone(tz), rules, config, services.lang)
        cur = metrics_for(session, book, period, config=config, rules=rules, tz=tz, now=now)
        prev = metrics_for(session, book, period.previous(), config=config, rules=rules, tz=tz,
                           now=now)
    last_month = last_complete_month(now, tz)
    months = trend(book.log, last_month, TREND_MONTHS, config)
    month_bridge = bridge(book.log, last_month, now.astimezone(tz).date())
    lang = services.lang
    return Digest(
        text=cs_digest_text(cur, lang),
        blocks=cs_digest_blocks(cur, prev, book.attention, lang),
        chart=render_png(months, cur.book.by_health_band, config.churn_warning, month_bridge,
                         last_month.label, lang),
        chart_name=f"cs-digest-{period.end}.png",
        chart_title=f"CS trend {months[0].label}..{months[-1].label}",
    )


def build_curation_digest(services: Services, now: datetime) -> Digest:
    report = build_curation_report(services.settings, services.session_factory, now)
    lang = services.lang
    return Digest(text=t("kpis.cur_text", lang, n=report.abstained),
                  blocks=curation_blocks(report, lang))


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

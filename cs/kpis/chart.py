"""The weekly digest's chart: churn and NRR by month, last month's MRR bridge as a waterfall,
and the health-band mix, as PNG bytes.

Rendered with matplotlib's Agg backend on a private Figure (not pyplot), so it needs no display
and keeps no global figure state between scheduled runs. Labels are in the digest's language:
matplotlib's bundled fonts have no Japanese glyphs, so the IPAex Gothic font that the
`matplotlib-fontja` package ships is registered (by file: importing that package would switch
every figure's font at import time) and used for this figure only.
"""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from matplotlib import font_manager, rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from core.i18n import Lang, t
from cs.kpis.formulas import (
    ChurnKpis,
    KpiConfig,
    Movement,
    MrrBridge,
    MrrLog,
    Period,
    RetentionKpis,
    churn,
    retention,
)

WIDTH_IN, HEIGHT_IN, DPI = 14.0, 4.0, 100
UP, DOWN, TOTAL = "#5cb85c", "#d9534f", "#5b2c83"
BAND_COLORS = {"at_risk": "#d9534f", "middle": "#f0ad4e", "healthy": "#5cb85c"}
JAPANESE_FONT = "IPAexGothic"  # the family in matplotlib-fontja's fonts/ipaexg.ttf


@cache
def font_family() -> list[str]:
    """IPAex Gothic (registered once), then matplotlib's default for Latin text."""
    spec = importlib.util.find_spec("matplotlib_fontja")  # found, not imported (see above)
    folders = spec.submodule_search_locations if spec else None
    font = Path(next(iter(folders))) / "fonts" / "ipaexg.ttf" if folders else None
    if font is None or not font.is_file():
        return ["DejaVu Sans"]
    font_manager.fontManager.addfont(str(font))
    return [JAPANESE_FONT, "DejaVu Sans"]


@dataclass(frozen=True)
class TrendPoint:
    label: str
    logo_churn: float | None
    mrr_churn: float | None
    nrr: float | None


def trend(log: MrrLog, last: Period, months: int, config: KpiConfig) -> list[TrendPoint]:
    """Monthly churn and NRR for `months` months ending with `last`, oldest first."""
    periods = [last]
    while len(periods) < months:
        periods.append(periods[-1].previous())
    points = []
    for period in reversed(periods):
        kpis: ChurnKpis = churn(log, period, config)[0]
        ret: RetentionKpis = retention(log, period.end)
        points.append(TrendPoint(period.label, kpis.logo_churn_rate, kpis.mrr_churn_rate, ret.nrr))
    return points


def _pct(values: Sequence[float | None]) -> list[float]:
    return [float("nan") if v is None else v * 100 for v in values]


def render_png(points: Sequence[TrendPoint], bands: Mapping[str, int], warning: float,
               bridge: MrrBridge, bridge_label: str, lang: Lang = "ja") -> bytes:
    # rc_context: the font applies to this figure only and is restored afterwards.
    with rc_context({"font.family": font_family()}):
        return _render(points, bands, warning, bridge, bridge_label, lang)


def _render(points: Sequence[TrendPoint], bands: Mapping[str, int], warning: float,
            bridge: MrrBridge, bridge_label: str, lang: Lang) -> bytes:
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(figure)
    churn_ax, bridge_ax, band_ax = figure.subplots(
        1, 3, gridspec_kw={"width_ratios": [2, 1.6, 1]})
    _waterfall(bridge_ax, bridge, bridge_label, lang)
    labels = [p.label for p in points]
    churn_ax.plot(labels, _pct([p.logo_churn for p in points]), marker="o",
                  label=t("kpis.chart.logo_churn", lang))
    churn_ax.plot(labels, _pct([p.mrr_churn for p in points]), marker="s",
                  label=t("kpis.chart.mrr_churn", lang))
    churn_ax.axhline(warning * 100, color="#d9534f", linestyle="--", linewidth=1,
                     label=t("kpis.chart.warning", lang, pct=f"{warning * 100:.0f}"))
    churn_ax.set_ylabel(t("kpis.chart.churn_axis", lang))
    churn_ax.set_title(t("kpis.chart.churn_title", lang))
    churn_ax.tick_params(axis="x", labelrotation=30)
    nrr_ax = churn_ax.twinx()
    nrr_ax.plot(labels, _pct([p.nrr for p in points]), color="#5b2c83", marker="^",
                label=t("kpis.chart.nrr", lang))
    nrr_ax.set_ylabel(t("kpis.chart.nrr", lang))
    handles = churn_ax.get_legend_handles_labels()
    nrr_handles = nrr_ax.get_legend_handles_labels()
    # Below the plot: inside it, the legend hides whichever month happens to be in its corner.
    churn_ax.legend(handles[0] + nrr_handles[0], handles[1] + nrr_handles[1], fontsize=8,
                    loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=4, frameon=False)
    churn_ax.set_ylim(bottom=0)  # from zero, so the distance to the warning line reads true
    names = [b for b in BAND_COLORS if b in bands] + [b for b in bands if b not in BAND_COLORS]
    bars = band_ax.bar([_band(b, lang) for b in names], [bands[b] for b in names],
                       color=[BAND_COLORS.get(b, "#999999") for b in names])
    band_ax.bar_label(bars, fmt="{:,.0f}", fontsize=8)
    band_ax.set_title(t("kpis.chart.bands_title", lang))
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _waterfall(ax: Any, bridge: MrrBridge, label: str, lang: Lang) -> None:
    """Start MRR, each movement floating from the running total, end MRR (in thousands)."""
    names = [t("report.bridge.start", lang)]
    bottoms, heights, colors = [0.0], [bridge.start_mrr / 1000], [TOTAL]
    running = bridge.start_mrr
    for line in bridge.lines:
        if not line.mrr and line.movement is Movement.SCHEDULED_CHURN:
            continue
        after = running + line.sign * line.mrr
        names.append(t(f"report.bridge.{line.movement.value}", lang))
        bottoms.append(min(running, after) / 1000)
        heights.append(line.mrr / 1000)
        colors.append(UP if line.sign > 0 else DOWN)
        running = after
    names.append(t("report.bridge.end", lang))
    bottoms.append(0.0)
    heights.append(bridge.end_mrr / 1000)
    colors.append(TOTAL)
    bars = ax.bar(names, heights, bottom=bottoms, color=colors)
    ax.bar_label(bars, labels=[f"{h:,.0f}" for h in heights], fontsize=7)
    ax.set_title(t("kpis.chart.bridge_title", lang, period=label))
    ax.tick_params(axis="x", labelrotation=40, labelsize=8)


def _band(band: str, lang: Lang) -> str:
    return t(f"kpis.band.{band}", lang) if band in BAND_COLORS else band

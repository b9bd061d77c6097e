"""The weekly digest's chart: churn and NRR by month, last month's MRR bridge as a waterfall,
and the health-band mix, as PNG bytes.

Rendered with matplotlib's Agg backend on a private Figure (not pyplot), so it needs no display
and keeps no global figure state between scheduled runs.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

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
BRIDGE_LABELS = {"new": "new", "expansion": "expansion", "reactivation": "reactivation",
                 "contraction": "contraction", "churn": "churn",
                 "scheduled_churn": "scheduled"}
UP, DOWN, TOTAL = "#5cb85c", "#d9534f", "#5b2c83"
BAND_COLORS = {"at_risk": "#d9534f", "middle": "#f0ad4e", "healthy": "#5cb85c"}
# Labels stay ASCII: matplotlib's bundled fonts have no Japanese glyphs, and a chart of empty
# boxes is worse than an English axis label under a Japanese message.
BAND_LABELS = {"at_risk": "at risk", "middle": "middle", "healthy": "healthy"}


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
               bridge: MrrBridge, bridge_label: str) -> bytes:
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(figure)
    churn_ax, bridge_ax, band_ax = figure.subplots(
        1, 3, gridspec_kw={"width_ratios": [2, 1.6, 1]})
    _waterfall(bridge_ax, bridge, bridge_label)
    labels = [p.label for p in points]
    churn_ax.plot(labels, _pct([p.logo_churn for p in points]), marker="o", label="logo churn %")
    churn_ax.plot(labels, _pct([p.mrr_churn for p in points]), marker="s", label="MRR churn %")
    churn_ax.axhline(warning * 100, color="#d9534f", linestyle="--", linewidth=1,
                     label=f"warning {warning * 100:.0f}%")
    churn_ax.set_ylabel("churn % / month")
    churn_ax.set_title("Churn and NRR by month")
    churn_ax.tick_params(axis="x", labelrotation=30)
    nrr_ax = churn_ax.twinx()
    nrr_ax.plot(labels, _pct([p.nrr for p in points]), color="#5b2c83", marker="^", label="NRR %")
    nrr_ax.set_ylabel("NRR %")
    handles = churn_ax.get_legend_handles_labels()
    nrr_handles = nrr_ax.get_legend_handles_labels()
    # Below the plot: inside it, the legend hides whichever month happens to be in its corner.
    churn_ax.legend(handles[0] + nrr_handles[0], handles[1] + nrr_handles[1], fontsize=8,
                    loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=4, frameon=False)
    churn_ax.set_ylim(bottom=0)  # from zero, so the distance to the warning line reads true
    names = [b for b in BAND_COLORS if b in bands] + [b for b in bands if b not in BAND_COLORS]
    bars = band_ax.bar([BAND_LABELS.get(b, b) for b in names], [bands[b] for b in names],
                       color=[BAND_COLORS.get(b, "#999999") for b in names])
    band_ax.bar_label(bars, fmt="{:,.0f}", fontsize=8)
    band_ax.set_title("Accounts by health band")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _waterfall(ax: Any, bridge: MrrBridge, label: str) -> None:
    """Start MRR, each movement floating from the running total, end MRR (in thousands)."""
    names, bottoms, heights, colors = ["start"], [0.0], [bridge.start_mrr / 1000], [TOTAL]
    running = bridge.start_mrr
    for line in bridge.lines:
        if not line.mrr and line.movement is Movement.SCHEDULED_CHURN:
            continue
        after = running + line.sign * line.mrr
        names.append(BRIDGE_LABELS.get(line.movement.value, line.movement.value))
        bottoms.append(min(running, after) / 1000)
        heights.append(line.mrr / 1000)
        colors.append(UP if line.sign > 0 else DOWN)
        running = after
    names.append("end")
    bottoms.append(0.0)
    heights.append(bridge.end_mrr / 1000)
    colors.append(TOTAL)
    bars = ax.bar(names, heights, bottom=bottoms, color=colors)
    ax.bar_label(bars, labels=[f"{h:,.0f}" for h in heights], fontsize=7)
    ax.set_title(f"MRR bridge {label} (thousand JPY)")
    ax.tick_params(axis="x", labelrotation=40, labelsize=8)

"""The digest chart speaks the team's language: Japanese labels drawn with IPAex Gothic
(shipped by matplotlib-fontja), not as empty boxes."""

from __future__ import annotations

import logging
import warnings

import pytest
from matplotlib import rc_context

from cs.kpis import chart
from cs.kpis.chart import TrendPoint, render_png
from cs.kpis.formulas import BridgeLine, Movement, MrrBridge

POINTS = [TrendPoint(f"2026-{m:02d}", 0.01 * m, 0.02, 1.01) for m in range(6, 12)]
BANDS = {"at_risk": 12, "middle": 80, "healthy": 208}
BRIDGE = MrrBridge(100_000, 120_000, 3, 4, [BridgeLine(Movement.NEW, 1, 20_000, 1, [])], True)
PNG = b"\x89PNG\r\n\x1a\n"


def _missing_glyphs(render: object, caplog: pytest.LogCaptureFixture) -> list[str]:
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        png = render()  # type: ignore[operator]
    assert png.startswith(PNG)
    messages = [str(w.message) for w in caught] + [r.getMessage() for r in caplog.records]
    return [m for m in messages if "missing from font" in m]


def test_japanese_labels_have_every_glyph(caplog: pytest.LogCaptureFixture) -> None:
    assert chart.font_family()[0] == "IPAexGothic"
    japanese = lambda: render_png(POINTS, BANDS, 0.03, BRIDGE, "2026-11", "ja")  # noqa: E731
    assert _missing_glyphs(japanese, caplog) == []


def test_without_the_font_the_same_chart_would_lose_its_japanese(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def default_font() -> bytes:
        with rc_context({"font.family": ["DejaVu Sans"]}):
            return chart._render(POINTS, BANDS, 0.03, BRIDGE, "2026-11", "ja")

    assert _missing_glyphs(default_font, caplog)  # what the font prevents


def test_labels_follow_the_digest_language() -> None:
    def chart_in(lang: str) -> bytes:
        return render_png(POINTS, BANDS, 0.03, BRIDGE, "2026-11", lang)  # type: ignore[arg-type]

    assert chart_in("ja") != chart_in("en")

"""docs/metrics.md's worked example of the MRR bridge, recomputed from the test book."""

from __future__ import annotations

import re
from datetime import date

import pytest

from cs.kpis.formulas import Movement, MrrLog, bridge, churn, period_retention
from tests.conftest import REPO
from tests.cs.kpis.test_formulas import BOOK, CONFIG, OCT

ROWS = {"+ new": Movement.NEW, "+ expansion": Movement.EXPANSION,
        "+ reactivation": Movement.REACTIVATION, "− contraction": Movement.CONTRACTION,
        "− churn": Movement.CHURN, "− scheduled churn": Movement.SCHEDULED_CHURN}


def documented_bridge() -> dict[str, tuple[int, int, dict[str, int]]]:
    """The worked example's table: line -> (MRR, logos, {account: amount})."""
    docs = (REPO / "docs" / "metrics.md").read_text(encoding="utf-8")
    table = docs.split("**Worked example**", 1)[1].split("\n\n", 2)[1]
    found = {}
    for line in table.splitlines()[2:]:
        label, mrr, logos, accounts = (cell.strip() for cell in line.strip("|").split("|"))
        moved = {m[1]: int(m[2].replace(",", ""))
                 for m in re.finditer(r"(\w+) ([\d,]+)", accounts)}
        found[label] = (int(mrr.replace(",", "")), int(logos), moved)
    return found


def test_the_documented_bridge_is_what_the_formulas_compute() -> None:
    doc = documented_bridge()
    log = MrrLog(BOOK, CONFIG)
    result = bridge(log, OCT)
    assert doc["start MRR"][:2] == (result.start_mrr, result.start_logos)
    assert doc["start MRR"][2] == log.snapshot(OCT.start)
    assert doc["= end MRR"][:2] == (result.end_mrr, result.end_logos)
    assert doc["= end MRR"][2] == log.snapshot(OCT.end)
    for label, movement in ROWS.items():
        line = result.line(movement)
        assert doc[label] == (line.mrr, line.logos,
                              {a.account_id: a.mrr for a in line.accounts}), label
    assert set(doc) == {"start MRR", "= end MRR", *ROWS}


def test_the_documented_side_notes_hold() -> None:
    log = MrrLog(BOOK, CONFIG)
    seen_on_the_20th = bridge(log, OCT, today=date(2026, 10, 20))
    assert seen_on_the_20th.line(Movement.SCHEDULED_CHURN).mrr == 150_000
    assert [a.account_id for a in seen_on_the_20th.line(Movement.CHURN).accounts] == ["B"]
    assert "G" not in churn(log, OCT, CONFIG)[1]
    own = period_retention(log, OCT)
    assert (round(own.grr or 0, 3), own.nrr) == (0.458, pytest.approx(0.5))

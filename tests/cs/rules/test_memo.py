"""assess reuses Measures and RiskSignals across accounts (cs.rules.memo) without mixing up
configs, languages or inputs that compare equal but read differently."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.rules_config import load_rules, rules_from_dict
from cs.rules import memo
from cs.rules.models import RiskKind
from cs.rules.rules import Assessor, assess
from tests.cs.rules.test_rules import NOW, RULES, facts


def explanations(assessment: object) -> dict[str, str]:
    return {m.name: m.explanation for m in assessment.health.measures}  # type: ignore[attr-defined]


def test_equal_inputs_share_one_measure_and_results_stay_equal() -> None:
    assessor = Assessor(RULES)
    first, second = assessor(facts(), NOW), assessor(facts(account_id="A2"), NOW)
    assert first.health == second.health
    assert all(a is b for a, b in zip(first.health.measures, second.health.measures, strict=True))


def test_each_config_and_language_has_its_own_texts() -> None:
    data = load_rules().model_dump(mode="json")
    data["health"]["measures"]["login_recency"]["full_days"] = 7
    stricter = rules_from_dict(data)
    account = facts(last_login_at=NOW - timedelta(days=5))
    assert "満点 3日以内" in explanations(assess(account, NOW, RULES))["login_recency"]
    assert "満点 7日以内" in explanations(assess(account, NOW, stricter))["login_recency"]
    english = assess(account, NOW, RULES, lang="en")
    assert explanations(english)["login_recency"].startswith("Last login 5 days ago")
    assert assess(account, NOW, RULES).health.measures[0].explanation.startswith("最終ログイン")


def test_negative_zero_ratio_is_not_served_the_entry_of_zero() -> None:
    zero = assess(facts(active_users=0, seats=10, active_ratio_30d_ago=0.0), NOW, RULES)
    negative = assess(facts(active_users=0, seats=10, active_ratio_30d_ago=-0.0), NOW, RULES)
    assert "30日前 0%" in explanations(zero)["seat_trend"]
    assert "30日前 -0%" in explanations(negative)["seat_trend"]


def test_risk_details_follow_their_inputs() -> None:
    details = {
        days: next(r.detail for r in assess(facts(last_login_at=NOW - timedelta(days=days)),
                                            NOW, RULES).risks if r.kind is RiskKind.NO_LOGIN)
        for days in (20, 21, 20)
    }
    assert details == {20: "最終ログイン 20日前 (基準 14日)", 21: "最終ログイン 21日前 (基準 14日)"}


def test_the_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memo, "MAX_ENTRIES", 10)
    assessor = Assessor(RULES)
    results = [assessor(facts(setup_progress=progress), NOW) for progress in range(40)]
    assert len(assessor.memo) <= 10  # cleared once full, refilled from the inputs
    assert [r.health for r in results] == [assess(facts(setup_progress=p), NOW, RULES).health
                                           for p in range(40)]


def test_a_memo_belongs_to_one_assessor() -> None:
    a, b = Assessor(load_rules()), Assessor(load_rules())
    a(facts(), NOW)
    assert len(a.memo) > 0 and len(b.memo) == 0

"""The community measure's documented points (docs/metrics.md, "Community"): −5 per friction
item down to −20, +2 per engagement item up to +10, capped apart and added to the score."""

from __future__ import annotations

import pytest

from core.rules_config import rules_from_dict
from cs.rules.models import CommunityActivity
from cs.rules.rules import assess
from tests.cs.rules.test_rules import NOW, RULES, facts


def _score(activity: CommunityActivity | None, **changes: object) -> int:
    return assess(facts(community=activity, **changes), NOW, RULES).health.score


BASE = _score(None)


@pytest.mark.parametrize(
    ("activity", "points"),
    [
        (CommunityActivity(questions=1, unanswered=1), -5),
        (CommunityActivity(questions=3, unanswered=3, open_escalations=2), -20),  # 25, capped
        (CommunityActivity(questions=2, answered=2, helpful=1), +6),
        (CommunityActivity(questions=9, answered=9, helpful=9), +10),  # 36, capped
        # Capped apart: 👍 still count while friction is at its cap.
        (CommunityActivity(questions=7, unanswered=5, answered=2, helpful=2), -20 + 8),
        (CommunityActivity(questions=1, suggested=1), 0),  # suggestions neither lower nor raise
    ],
)
def test_community_points_are_added_to_the_weighted_score(
    activity: CommunityActivity, points: int,
) -> None:
    health = assess(facts(community=activity), NOW, RULES).health
    assert health.score == max(0, min(100, BASE + points))
    (measure,) = [m for m in health.measures if m.name == "community"]
    assert measure.points == points and measure.weight == 0


def test_no_member_question_leaves_the_score_and_measures_as_before() -> None:
    health = assess(facts(), NOW, RULES).health
    assert "community" not in [m.name for m in health.measures]
    assert _score(CommunityActivity()) == BASE


def test_the_score_stays_within_0_and_100() -> None:
    worst = CommunityActivity(questions=9, unanswered=9)
    assert _score(worst, last_login_at=None, active_users=0, setup_progress=0) == 0
    assert _score(CommunityActivity(questions=9, answered=9)) <= 100


def test_the_points_come_from_the_rules_file() -> None:
    data = RULES.model_dump(mode="json")
    data["health"]["measures"]["community"] |= {"friction_points": 10, "max_penalty": 30}
    rules = rules_from_dict(data)
    activity = CommunityActivity(questions=2, unanswered=2)
    base = assess(facts(), NOW, rules).health.score
    assert assess(facts(community=activity), NOW, rules).health.score == base - 20


def test_the_explanation_names_the_counts_and_points() -> None:
    activity = CommunityActivity(questions=3, unanswered=3, open_escalations=2)
    (measure,) = [m for m in assess(facts(community=activity), NOW, RULES).health.measures
                  if m.name == "community"]
    assert "未回答 3件" in measure.explanation and "-20点" in measure.explanation
    english = assess(facts(community=activity), NOW, RULES, lang="en").health.measures[-1]
    assert "3 unanswered" in english.explanation and "-20 points" in english.explanation

"""Active members raise the community measure (docs/metrics.md "Community"): +1 per distinct
linked member who asked in the window, within the same +10 engagement cap."""

from __future__ import annotations

from cs.community.activity import sync_activity
from tests.cs.community.conftest import ALICE, ANSWERABLE, BOB, Harness, ask, seed_book
from tests.cs.community.test_activity import _services
from tests.cs.community.test_friction_e2e import _home_health


def _synced_health(app: Harness) -> int:
    sync_activity(_services(app), app.clock.now)
    return _home_health(app)


def test_a_second_member_asking_raises_health_by_one_more_point_than_a_question(
    app: Harness,
) -> None:
    seed_book(app.session_factory, app.stub, setup=40)  # room below 100 for the points
    before = _home_health(app)

    ask(app, ANSWERABLE, ALICE)
    ask(app, ANSWERABLE, ALICE)
    one_member = _synced_health(app)
    assert one_member == before + 2 * 2 + 1  # two answered questions, one member

    ask(app, ANSWERABLE, BOB)
    assert _synced_health(app) == one_member + 2 + 1  # one more answer, one more member

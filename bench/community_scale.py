"""The health run with and without the community measure: N accounts, a year of questions.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/community_scale.py [--accounts 100000]
        [--days 2] [--members 0.3] [--per-week 2] [--repeat 3]

Generates accounts and usage as bench/jobs_scale.py does (SQLite under var/bench/), plus a
year of community questions: a share `--members` of the accounts has members asking about
`--per-week` questions a week (outcomes, 👍/👎 and escalations drawn like the demo's). Then
times, median of `--repeat` runs each, what an alert job does:
  - without: iter_facts → Assessor (the rules as before issue 10);
  - with: window_activity (the last 7 days) + iter_facts(community=…) → Assessor.
The goal (issue 10): "with" within 1.2× of "without". Figures in docs/benchmarks.md
("Community signals").
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jobs_scale import NOW, ROOT, _median_time, generate

from core.db import make_engine, make_session_factory
from core.rules_config import load_rules
from cs.accounts.service import iter_facts
from cs.community.activity import week_of, window_activity
from cs.rules.rules import Assessor


def _questions(accounts: int, share: float, per_week: float, seed: int
               ) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(seed + 7)
    tz = ZoneInfo("Asia/Tokyo")
    qid = 0
    for i in range(accounts):
        if rng.random() >= share:
            continue
        for _ in range(max(0, int(rng.gauss(per_week * 52, per_week * 8)))):
            qid += 1
            asked = NOW - timedelta(minutes=rng.randint(0, 365 * 24 * 60))
            outcome = rng.choices(("answered", "suggested", "abstained"), (65, 15, 20))[0]
            escalated = asked if outcome == "abstained" and rng.random() < 0.5 else None
            closed = (escalated + timedelta(hours=rng.randint(1, 48))
                      if escalated and rng.random() < 0.7 else None)
            yield (qid, f"ACC{i:06d}", None, f"U{i:06d}", "C1", None, outcome,
                   int(outcome == "answered" and rng.random() < 0.5),
                   int(rng.random() < 0.05), _text(escalated), _text(closed), None,
                   _text(asked), week_of(asked, tz).isoformat())


def _text(at: Any) -> str | None:
    # The exact text SQLAlchemy's SQLite dialect stores for a UTC datetime.
    return at.strftime("%Y-%m-%d %H:%M:%S.%f") if at is not None else None


def load_questions(url: str, rows: Iterator[tuple[Any, ...]]) -> int:
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    n = 0
    batch: list[tuple[Any, ...]] = []
    sql = ("INSERT INTO community_questions (question_id, account_id, contact_id, slack_user_id,"
           " channel, permalink, outcome, helpful, unhelpful, escalated_at, escalation_closed_at,"
           " escalation_closed_by, asked_at, week) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
    for row in rows:  # foreign keys are off on a plain connection: no bot_questions needed
        batch.append(row)
        if len(batch) == 50_000:
            conn.executemany(sql, batch)
            n += len(batch)
            batch = []
    conn.executemany(sql, batch)
    n += len(batch)
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()
    return n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--members", type=float, default=0.3)
    parser.add_argument("--per-week", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    folder = ROOT / "var" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"community-{args.accounts}.db"
    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    started = time.perf_counter()
    engine = make_engine(url)
    generate(engine, args.accounts, args.days, args.seed)
    questions = load_questions(url, _questions(args.accounts, args.members, args.per_week,
                                               args.seed))
    print(f"generated {args.accounts:,} accounts, {questions:,} questions in "
          f"{time.perf_counter() - started:.1f}s")

    factory = make_session_factory(engine)
    rules = load_rules()
    community_rules = rules.health.measures.community

    def without() -> int:
        assess = Assessor(rules)
        with factory() as session:
            return sum(1 for facts in iter_facts(session, NOW) if assess(facts, NOW).risks)

    def with_measure() -> tuple[int, int]:
        assess = Assessor(rules)
        with factory() as session:
            activity = window_activity(session, NOW, community_rules,
                                       details_from=rules.risk.support_friction_questions)
            risky = sum(1 for facts in iter_facts(session, NOW, community=activity)
                        if assess(facts, NOW).risks)
            return risky, len(activity)

    base_wall, base_cpu, base_risky = _median_time(without, args.repeat)
    wall, cpu, (risky, active) = _median_time(with_measure, args.repeat)
    print(f"without community: {base_wall:.2f}s wall, {base_cpu:.2f}s CPU ({base_risky:,} risky)")
    print(f"with community:    {wall:.2f}s wall, {cpu:.2f}s CPU ({risky:,} risky, "
          f"{active:,} accounts with questions in the window)")
    print(f"ratio: {wall / base_wall:.2f}x wall, {cpu / base_cpu:.2f}x CPU (goal <= 1.2x)")
    path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()

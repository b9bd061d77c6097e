"""How sure the search is that its top entry answers the question, as a calibrated probability.

Ranking and deciding are two jobs. The fused score orders the entries; whether the first one
*answers* is judged from evidence about the whole ranking (how far it leads the entries that
mean something else, whether the lexical and dense signals agree on it, how close the question
is to its title or an alias, ...). Two logistic models turn that evidence into probabilities:

- `answer`: the top entry answers the question (Amagasaki dev: the top entry is graded 2;
  demo questions: it is the expected entry);
- `suggest`: an entry that helps is among the first three (graded >= 1, or expected).

Decisions are thresholds on those probabilities, not on raw scores, so they keep their meaning
when the fusion weights change; a new knowledge base or embedder is re-fitted with
`bench/retrieval_tune.py`, which writes the coefficients to `confidence.json` beside this file
(plain JSON, no pickle). The figures behind every number: docs/benchmarks.md, "Retrieval".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.index import Ranking
from retrieval.logistic import LogisticModel, ModelFormatError, read_json, write_json
from retrieval.models import Decision

DEFAULT_PATH = Path(__file__).with_name("confidence.json")

# How many ranked entries the evidence looks at (the competitor and the near-duplicates are
# looked for among them); the retriever ranks at least this many whatever k the caller shows.
# Not tuned: the first 10 are what Recall@10 counts and what the bot's candidates come from.
EVIDENCE_DEPTH = 10
# A ranking of one or two entries, or of identical scores, has no spread to speak of.
SPREAD_FLOOR = 0.005


class ConfidenceFormatError(ModelFormatError):
    """confidence.json is missing a field or names a feature this code does not compute."""


@dataclass(frozen=True)
class Evidence:
    """What the decision reads from one ranking; every field is a model feature."""

    top_score: float  # fused score of the top entry
    lead: float  # its lead over the best competitor (see `competitor_score`)
    question_similarity: float  # cosine of the question with the top entry's title or alias
    question_lead: float  # ... minus the same for the competitor
    agreement: float  # 1 when the lexical and the dense signal alone both rank it first
    duplicates: float  # near-duplicates of the top among the next entries (they agree)
    query_terms: float  # log(1 + content words of the question)
    lead_spread: float  # lead / standard deviation of the top scores (scale of this ranking)
    top_spread: float  # (top score - mean of the top scores) / that deviation
    neighbourhood: float  # mean answer cosine of the next entries with the top: how crowded
    lexical_lead: float  # the top's lexical signal minus the best competing entry's
    dense_lead: float  # the same for the dense signal
    rerank_lead: float  # the re-ranker's log-odds of the top minus the best competitor's
    fusion_agrees: float  # 1 when the re-ranker kept the fused ranking's top first

    def values(self, names: tuple[str, ...]) -> list[float]:
        return [float(getattr(self, name)) for name in names]


FEATURE_NAMES = tuple(f.name for f in fields(Evidence))


def evidence(ranking: Ranking, query_terms: int, duplicate_similarity: float) -> Evidence | None:
    """Evidence about the top hit of `ranking`, or None when nothing was found."""
    hits = ranking.hits[:EVIDENCE_DEPTH]
    if not hits:
        return None
    top = hits[0]
    rivals = _competitors(ranking, duplicate_similarity)
    duplicates = sum(
        1
        for i in range(1, len(hits))
        if ranking.answer_similarity[i] >= duplicate_similarity
    )
    # Without a competitor among the first entries, the last of them bounds the competition;
    # a lone entry has no lead at all (nothing says it is the right one rather than the only one).
    rival = rivals[0] if rivals else len(hits) - 1
    field_rivals = rivals or [rival]
    question = float(ranking.question_similarity[0])
    rival_score = hits[rival].score
    rival_question = float(ranking.question_similarity[rival])
    best_lexical = max(hits[i].lexical for i in field_rivals)
    best_dense = max(hits[i].dense for i in field_rivals)
    learned = ranking.learned
    rerank_lead = (float(learned[0] - max(learned[i] for i in field_rivals))
                   if learned is not None else 0.0)
    scores = np.array([h.score for h in hits])
    spread = max(float(scores.std()), SPREAD_FLOOR)
    return Evidence(
        top_score=top.score,
        lead=top.score - rival_score,
        question_similarity=question,
        question_lead=question - rival_question,
        agreement=float(ranking.lexical_agrees and ranking.dense_agrees),
        duplicates=float(duplicates),
        query_terms=math.log1p(query_terms),
        lead_spread=(top.score - rival_score) / spread,
        top_spread=(top.score - float(scores.mean())) / spread,
        neighbourhood=float(ranking.answer_similarity[1:].mean()) if len(hits) > 1 else 0.0,
        lexical_lead=top.lexical - best_lexical,
        dense_lead=top.dense - best_dense,
        rerank_lead=rerank_lead,
        fusion_agrees=float(ranking.fusion_agrees),
    )


def _competitors(ranking: Ranking, duplicate_similarity: float) -> list[int]:
    """Positions of the entries after the top that would answer something else, best first.

    A runner-up whose answer is nearly the top's (the same answer under two titles) agrees with
    the top instead of competing with it, and so does one in another language: a knowledge base
    keeps its Japanese and English versions of an entry side by side, and e5 puts translations
    no closer than unrelated entries of one language (demo knowledge base: answer cosine of the
    14 ja/en pairs 0.82-0.91, unrelated Japanese pairs up to 0.94), so only the language tells.
    """
    hits = ranking.hits[:EVIDENCE_DEPTH]
    lang = hits[0].entry.lang
    return [
        i
        for i in range(1, len(hits))
        if hits[i].entry.lang == lang and ranking.answer_similarity[i] < duplicate_similarity
    ]


@dataclass(frozen=True)
class ConfidenceModel:
    """Two probabilities and the thresholds on them, as bench/retrieval_tune.py fitted them.

    The shipped thresholds (answer at P(answer) >= 0.65, suggest at P(suggest) >= 0.49) were
    chosen on out-of-fold probabilities: the lowest answer threshold with at most 1 % wrong
    answers on the demo questions and at least 80 % grade-2 answers on the Amagasaki dev half
    (out of fold: demo 73 % answered, none wrong; Amagasaki 23 % at 0.80), and the suggest line
    under which 95 % of off-topic questions fall (docs/benchmarks.md, "Confidence").
    """

    answer: LogisticModel  # P(the top entry answers the question)
    suggest: LogisticModel  # P(an entry that helps is among the first three)
    answer_threshold: float  # answer when P(answer) reaches it
    suggest_threshold: float  # otherwise suggest when P(suggest) reaches it, else abstain
    duplicate_similarity: float  # answer cosine from which a runner-up is the top's duplicate
    notes: dict[str, Any] | None = None  # how and on what it was fitted (for people, not code)

    def __post_init__(self) -> None:
        for name in ("answer_threshold", "suggest_threshold"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfidenceFormatError(f"{name} must be a probability")
        for head in (self.answer, self.suggest):
            unknown = set(head.features) - set(FEATURE_NAMES)
            if unknown:
                raise ConfidenceFormatError(f"unknown features {sorted(unknown)}")

    def judge(self, found: Evidence | None) -> tuple[Decision, float]:
        """The decision and P(answer) for the evidence of one search."""
        if found is None:
            return Decision.ABSTAIN, 0.0
        answer = self.answer.probability(found.values(self.answer.features))
        if answer >= self.answer_threshold:
            return Decision.ANSWER, answer
        if self.suggest.probability(found.values(self.suggest.features)) >= self.suggest_threshold:
            return Decision.SUGGEST, answer
        return Decision.ABSTAIN, answer

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ConfidenceModel:
        try:
            return cls(
                answer=LogisticModel.from_json(data["answer"]),
                suggest=LogisticModel.from_json(data["suggest"]),
                answer_threshold=float(data["answer_threshold"]),
                suggest_threshold=float(data["suggest_threshold"]),
                duplicate_similarity=float(data["duplicate_similarity"]),
                notes=data.get("notes"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfidenceFormatError(f"confidence model: missing or bad {exc}") from None

    def to_json(self) -> dict[str, Any]:
        return {
            "answer": self.answer.to_json(),
            "suggest": self.suggest.to_json(),
            "answer_threshold": self.answer_threshold,
            "suggest_threshold": self.suggest_threshold,
            "duplicate_similarity": self.duplicate_similarity,
            "notes": self.notes or {},
        }

    def save(self, path: Path) -> None:
        write_json(path, self.to_json())


def load(path: Path) -> ConfidenceModel:
    data = read_json(path, ConfidenceFormatError)
    return ConfidenceModel.from_json(data)


@cache
def default_model() -> ConfidenceModel:
    """The shipped model, read once per process."""
    return load(DEFAULT_PATH)

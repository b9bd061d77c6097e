"""Group unanswered questions that ask the same thing, by character-bigram Jaccard similarity.

Character bigrams need no tokenizer and work the same for Japanese (no spaces) and English;
measured against hand-labelled paraphrases in tests/cs/kpis/test_faq.py and documented in
docs/metrics.md. A cluster's leader is its first question; later questions join the most similar
leader at or above the threshold, else start a cluster (one pass, O(questions x clusters)).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

DEFAULT_THRESHOLD = 0.3
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
# Polite endings and question words shared by almost every Japanese question: without dropping
# them, two unrelated questions ending in "…できますか？" look alike.
_STOP_PHRASES = ("でしょうか", "ますか", "ですか", "ください", "したい", "方法", "how do i",
                 "how to", "can i", "what is", "is there")


@dataclass
class QuestionCluster:
    representative: str
    count: int = 0
    examples: list[str] = field(default_factory=list)


def normalize(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).lower()
    for phrase in _STOP_PHRASES:
        folded = folded.replace(phrase, " ")
    return _NOISE.sub("", folded)


def bigrams(text: str) -> frozenset[str]:
    norm = normalize(text)
    if len(norm) < 2:
        return frozenset({norm}) if norm else frozenset()
    return frozenset(norm[i : i + 2] for i in range(len(norm) - 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def cluster_questions(
    texts: Sequence[str], threshold: float = DEFAULT_THRESHOLD, max_examples: int = 3
) -> list[QuestionCluster]:
    """Clusters, largest first (ties: first asked first)."""
    leaders: list[frozenset[str]] = []
    clusters: list[QuestionCluster] = []
    for text in texts:
        grams = bigrams(text)
        best, best_score = -1, threshold
        for i, leader in enumerate(leaders):
            score = jaccard(grams, leader)
            if score >= best_score:
                best, best_score = i, score
        if best < 0:
            leaders.append(grams)
            clusters.append(QuestionCluster(representative=text))
            best = len(clusters) - 1
        cluster = clusters[best]
        cluster.count += 1
        if len(cluster.examples) < max_examples and text not in cluster.examples:
            cluster.examples.append(text)
    order = sorted(range(len(clusters)), key=lambda i: (-clusters[i].count, i))
    return [clusters[i] for i in order]

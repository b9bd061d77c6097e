"""The hybrid index: BM25 and FAISS over the question and answer fields of every entry.

Built from entries with an embedder (through the embedding cache), searched with a query vector
and query tokens, saved to and loaded from a folder of FAISS, NumPy and JSON files (no pickle).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from retrieval import fields
from retrieval.cache import EmbeddingCache
from retrieval.dense import BoolArray, DenseField, IntArray, RowFilter
from retrieval.embedders import Embedder, Vectors
from retrieval.kana import KatakanaFolder, katakana_runs
from retrieval.lexical import LexicalField
from retrieval.models import Entry, Hit, Kind, Visibility
from retrieval.rerank import Candidates, Reranker
from retrieval.scoring import FieldScores, Scores, Scoring, dense, fuse, lexical
from retrieval.tokenizer import tokenize

FORMAT_VERSION = 1
_MANIFEST = "manifest.json"


class IndexFormatError(Exception):
    """A saved index is missing, from another version or another model: rebuild it."""


@dataclass(frozen=True)
class Query:
    text: str
    tokens: list[str]
    vector: Vectors


@dataclass(frozen=True)
class Ranking:
    """Ranked hits and, for the same hits in the same order, what confidence is judged from."""

    hits: list[Hit]
    question_similarity: Scores  # dense question field: best cosine of title or alias
    answer_similarity: Scores  # cosine of each hit's answer vector with the top hit's
    lexical_agrees: bool  # the lexical signal alone ranks the top hit first too
    dense_agrees: bool  # and so does the dense signal alone
    # The re-ranker's log-odds of each hit (None: ranked by fusion alone), and whether its top
    # is the fused ranking's top too.
    learned: Scores | None = None
    fusion_agrees: bool = True

    @classmethod
    def empty(cls) -> Ranking:
        none = np.zeros(0, dtype=np.float32)
        return cls([], none, none, lexical_agrees=False, dense_agrees=False)


class HybridIndex:
    def __init__(
        self,
        entries: list[Entry],
        model: str,
        lexical_fields: tuple[LexicalField, LexicalField],
        dense_fields: tuple[DenseField, DenseField],
    ) -> None:
        self.entries = entries
        self.model = model
        self._lex_question, self._lex_answer = lexical_fields
        self._dense_question, self._dense_answer = dense_fields
        # Questions are folded towards the katakana words this index can match: its lemmas,
        # and its katakana runs as written, which the tokenizer cuts the same way in a question.
        written = katakana_runs(t for e in entries for t in (e.title, *e.aliases, e.body))
        self.fold = KatakanaFolder(
            written | self._lex_question.vocabulary | self._lex_answer.vocabulary)
        public = np.array([e.visibility == Visibility.PUBLIC for e in entries], dtype=bool)
        # Filters are fixed per index, so building them here keeps them off the query path.
        self._allowed: dict[Visibility, BoolArray] = {
            Visibility.PUBLIC: public,
            Visibility.INTERNAL: np.ones(len(entries), dtype=bool),
        }
        self._row_filters: dict[Visibility, tuple[RowFilter, RowFilter]] = {
            v: (self._dense_question.row_filter(mask), self._dense_answer.row_filter(mask))
            for v, mask in self._allowed.items()
        }

    def __len__(self) -> int:
        return len(self.entries)

    # --- build ---------------------------------------------------------------------------

    @classmethod
    def build(cls, entries: list[Entry], embedder: Embedder, cache: EmbeddingCache) -> HybridIndex:
        question_rows = [(i, t) for i, e in enumerate(entries) for t in fields.question_texts(e)]
        question_vectors = cache.queries(embedder, [text for _, text in question_rows])
        answer_vectors = cache.passages(embedder, [fields.answer_text(e) for e in entries])
        lexical_fields = (
            LexicalField.build([tokenize(fields.question_lexical_text(e)) for e in entries]),
            LexicalField.build([tokenize(fields.answer_lexical_text(e)) for e in entries]),
        )
        dense_fields = (
            DenseField.build(question_vectors, np.array([i for i, _ in question_rows], np.int64)),
            DenseField.build(answer_vectors, np.arange(len(entries), dtype=np.int64)),
        )
        return cls(entries, embedder.name, lexical_fields, dense_fields)

    # --- search --------------------------------------------------------------------------

    def search(self, query: Query, visibility: Visibility, k: int, scoring: Scoring,
               reranker: Reranker | None = None) -> list[Hit]:
        return self.rank(query, visibility, k, scoring, reranker).hits

    def rank(self, query: Query, visibility: Visibility, k: int, scoring: Scoring,
             reranker: Reranker | None = None) -> Ranking:
        """The `k` best entries `visibility` may see, with what the confidence model reads.

        Ordered by the fused score, then (with a `reranker`) its first `reranker.depth` entries
        re-ordered by the learned model.
        """
        if not self._allowed[visibility].any():
            return Ranking.empty()
        depth = reranker.depth if reranker else 0
        fused = self._fused(query, visibility, max(k, depth, scoring.candidates), scoring)
        order, learned = fused.order, None
        if reranker is not None:
            head = order[:depth]
            moved, logits = reranker.reorder(fused.head(head, self._dense_answer.vectors))
            # Entries past the re-ranked head keep their fused order, below the lowest logit.
            learned = np.full(len(order), logits.min())
            learned[: len(head)] = logits[moved]
            order = np.concatenate((head[moved], order[depth:]))
        order = order[:k]
        hits = [
            Hit(self.entries[fused.found[i]], float(fused.fused[i]), float(fused.lexical[i]),
                float(fused.dense[i]))
            for i in order
        ]
        answers = self._dense_answer.vectors[fused.found[order]]
        return Ranking(
            hits=hits,
            question_similarity=fused.scores.dense_question[order],
            answer_similarity=answers @ answers[0],
            lexical_agrees=bool(fused.lexical.max() > 0 and np.argmax(fused.lexical) == order[0]),
            dense_agrees=bool(np.argmax(fused.dense) == order[0]),
            learned=None if learned is None else learned[:k].astype(np.float32),
            fusion_agrees=bool(fused.order[0] == order[0]),
        )

    def candidates(self, query: Query, visibility: Visibility, depth: int,
                   scoring: Scoring) -> tuple[list[Entry], Candidates]:
        """The first `depth` entries of the fused ranking and what a re-ranker reads of them."""
        fused = self._fused(query, visibility, max(depth, scoring.candidates), scoring)
        head = fused.order[:depth]
        return ([self.entries[i] for i in fused.found[head]],
                fused.head(head, self._dense_answer.vectors))

    def _fused(self, query: Query, visibility: Visibility, n: int, scoring: Scoring) -> _Fused:
        allowed = self._allowed[visibility]
        lex = (self._lex_question.scores(query.tokens) * allowed,
               self._lex_answer.scores(query.tokens) * allowed)
        found = self._candidates(query, visibility, lex, n)
        scores = self.field_scores(query.vector, found, lex)
        fused = fuse(scores, scoring)
        # Ties broken by entry order keeps rankings deterministic across runs and platforms.
        order = np.lexsort((found, -fused)).astype(np.int64)
        return _Fused(found, scores, fused, lexical(scores, scoring), dense(scores, scoring), order)

    def field_scores(
        self, vector: Vectors, candidates: IntArray, lex: tuple[np.ndarray, np.ndarray]
    ) -> FieldScores:
        """Exact scores of each field for `candidates` (entry positions)."""
        # An entry's question score is its best phrasing (title or an alias); each entry owns
        # one contiguous run of rows, at least its title.
        row_entry = self._dense_question.row_entry
        starts = np.searchsorted(row_entry, candidates, side="left")
        lengths = np.searchsorted(row_entry, candidates, side="right") - starts
        offsets = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
        rows = np.repeat(starts - offsets, lengths) + np.arange(int(lengths.sum()))
        sims = self._dense_question.vectors[rows] @ vector
        best_question = np.maximum.reduceat(sims, offsets) if len(candidates) else sims
        answer_sims = self._dense_answer.vectors[candidates] @ vector
        return FieldScores(
            lexical_question=lex[0][candidates],
            lexical_answer=lex[1][candidates],
            dense_question=np.clip(best_question, 0.0, 1.0),
            dense_answer=np.clip(answer_sims, 0.0, 1.0),
        )

    def _candidates(
        self,
        query: Query,
        visibility: Visibility,
        lex: tuple[np.ndarray, np.ndarray],
        n: int,
    ) -> IntArray:
        question_rows, answer_rows = self._row_filters[visibility]
        pools = [
            self._dense_question.nearest_entries(query.vector, question_rows, n),
            self._dense_answer.nearest_entries(query.vector, answer_rows, n),
        ]
        for scores in lex:
            top = _top_n(scores, n)
            pools.append(top[scores[top] > 0])
        found = np.unique(np.concatenate(pools))
        # The dense search already skipped other rows; this re-check costs nothing and keeps
        # an internal entry out even if a pool above were ever computed without the filter.
        return found[self._allowed[visibility][found]]

    # --- persistence ---------------------------------------------------------------------

    def save(self, folder: Path, extra: dict[str, Any] | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._lex_question.save(_ensure(folder / "lexical-question"))
        self._lex_answer.save(_ensure(folder / "lexical-answer"))
        self._dense_question.save(folder / "dense-question.faiss")
        self._dense_answer.save(folder / "dense-answer.faiss")
        np.save(folder / "question-rows.npy", self._dense_question.row_entry, allow_pickle=False)
        manifest = {
            "format": FORMAT_VERSION,
            "model": self.model,
            "entries": [entry_to_json(e) for e in self.entries],
            **(extra or {}),
        }
        (folder / _MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")

    @classmethod
    def load(cls, folder: Path, model: str) -> tuple[HybridIndex, dict[str, Any]]:
        manifest = read_manifest(folder)
        if manifest.get("model") != model:
            raise IndexFormatError(f"index was built with {manifest.get('model')!r}, not {model!r}")
        entries = [entry_from_json(item) for item in manifest["entries"]]
        row_entry = np.load(folder / "question-rows.npy", allow_pickle=False)
        index = cls(
            entries,
            model,
            (
                LexicalField.load(folder / "lexical-question"),
                LexicalField.load(folder / "lexical-answer"),
            ),
            (
                DenseField.load(folder / "dense-question.faiss", row_entry),
                DenseField.load(folder / "dense-answer.faiss", np.arange(len(entries))),
            ),
        )
        return index, manifest


def read_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((folder / _MANIFEST).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexFormatError(f"no readable index in {folder}: {exc}") from exc
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexFormatError(f"index format {manifest.get('format')} != {FORMAT_VERSION}")
    return manifest


def entry_to_json(entry: Entry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "title": entry.title,
        "body": entry.body,
        "kind": str(entry.kind),
        "visibility": str(entry.visibility),
        "aliases": list(entry.aliases),
        "phase": entry.phase,
        "tags": list(entry.tags),
        "lang": entry.lang,
        "owner": entry.owner,
        "updated": entry.updated.isoformat() if entry.updated else None,
        "links": list(entry.links),
        "path": entry.path,
    }


def entry_from_json(item: dict[str, Any]) -> Entry:
    return Entry(
        id=item["id"],
        title=item["title"],
        body=item["body"],
        kind=Kind(item["kind"]),
        visibility=Visibility(item["visibility"]),
        aliases=tuple(item["aliases"]),
        phase=item["phase"],
        tags=tuple(item["tags"]),
        lang=item["lang"],
        owner=item["owner"],
        updated=date.fromisoformat(item["updated"]) if item["updated"] else None,
        links=tuple(item["links"]),
        path=item["path"],
    )


@dataclass(frozen=True)
class _Fused:
    """One query's candidates (entry positions), their scores, and their fused order."""

    found: IntArray
    scores: FieldScores
    fused: Scores
    lexical: Scores
    dense: Scores
    order: IntArray  # positions in `found`, best fused score first

    def head(self, rows: IntArray, answer_vectors: Vectors) -> Candidates:
        s = self.scores
        return Candidates(
            FieldScores(s.lexical_question[rows], s.lexical_answer[rows],
                        s.dense_question[rows], s.dense_answer[rows]),
            self.fused[rows], self.lexical[rows], self.dense[rows],
            answer_vectors[self.found[rows]])


def _top_n(scores: np.ndarray, n: int) -> IntArray:
    if n >= len(scores):
        return np.arange(len(scores), dtype=np.int64)
    return np.argpartition(-scores, n)[:n].astype(np.int64)


def _ensure(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder

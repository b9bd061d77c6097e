"""BM25 over one text field (bm25s with our own tokens), with a score comparable across queries.

bm25s scores are unbounded and grow with query length, so a threshold on them means nothing.
`scores` divides by the score of an ideal document for the query: one holding every query term
once at average length (Lucene's term weight is then idf / (1 + k1)). A document covering the whole
query scores about 1 (clipped there), one covering none 0, and a query of words the corpus never
uses cannot look confident: unknown words count in the bound with the highest idf.
"""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np
import numpy.typing as npt

Scores = npt.NDArray[np.float32]

K1 = 1.2  # Lucene/Elasticsearch defaults: FAQ texts are short, no reason measured to move them
B = 0.75


class LexicalField:
    def __init__(self, model: bm25s.BM25, num_docs: int) -> None:
        self._model = model
        self.num_docs = num_docs
        indptr = np.asarray(model.scores["indptr"])
        doc_freq = np.diff(indptr).astype(np.float64)
        self._idf = _lucene_idf(doc_freq, num_docs)
        self._unknown_idf = float(_lucene_idf(np.zeros(1), num_docs)[0])

    @classmethod
    def build(cls, docs: list[list[str]]) -> LexicalField:
        model = bm25s.BM25(k1=K1, b=B, method="lucene")
        # bm25s cannot build from zero tokens; a single placeholder keeps empty corpora searchable.
        corpus = docs if any(docs) else [*docs, ["\x00"]]
        model.index(corpus, show_progress=False)
        return cls(model, len(docs))

    @property
    def vocabulary(self) -> frozenset[str]:
        return frozenset(self._model.vocab_dict)

    def scores(self, query_tokens: list[str]) -> Scores:
        """Normalised BM25 of every document, in [0, 1]."""
        unique = list(dict.fromkeys(query_tokens))
        if not unique or self.num_docs == 0:
            return np.zeros(self.num_docs, dtype=np.float32)
        vocab = self._model.vocab_dict
        ids = [vocab[t] for t in unique if t in vocab]
        idf_sum = float(self._idf[ids].sum()) + self._unknown_idf * (len(unique) - len(ids))
        bound = idf_sum / (1.0 + K1)
        if not ids or bound <= 0:
            return np.zeros(self.num_docs, dtype=np.float32)
        raw = self._model.get_scores_from_ids(ids)[: self.num_docs]
        return np.clip(raw / bound, 0.0, 1.0).astype(np.float32)

    def save(self, folder: Path) -> None:
        self._model.save(str(folder), show_progress=False)
        (folder / "num_docs.txt").write_text(str(self.num_docs), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> LexicalField:
        model = bm25s.BM25.load(str(folder), show_progress=False, allow_pickle=False)
        num_docs = int((folder / "num_docs.txt").read_text(encoding="utf-8"))
        return cls(model, num_docs)


def _lucene_idf(doc_freq: npt.NDArray[np.float64], num_docs: int) -> npt.NDArray[np.float64]:
    return np.log(1.0 + (num_docs - doc_freq + 0.5) / (doc_freq + 0.5))

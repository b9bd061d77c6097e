"""The confidence model: evidence read from a ranking, the logistic fit, the shipped JSON."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from retrieval import logistic
from retrieval.confidence import (
    DEFAULT_PATH,
    FEATURE_NAMES,
    ConfidenceFormatError,
    ConfidenceModel,
    Evidence,
    default_model,
    evidence,
    load,
)
from retrieval.index import Ranking
from retrieval.logistic import LogisticModel
from retrieval.models import Decision, Entry, Hit

DUPLICATE = 0.97


def hit(entry_id: str, score: float, lang: str = "ja", lexical: float = 0.5,
        dense: float = 0.85) -> Hit:
    return Hit(Entry(id=entry_id, title=entry_id, body=entry_id, lang=lang), score, lexical, dense)


def ranking(hits: list[Hit], answer_similarity: list[float],
            question_similarity: list[float] | None = None) -> Ranking:
    return Ranking(
        hits=hits,
        question_similarity=np.array(question_similarity or [0.9] * len(hits), np.float32),
        answer_similarity=np.array(answer_similarity, np.float32),
        lexical_agrees=True,
        dense_agrees=True,
    )


# --- evidence ---------------------------------------------------------------------------------


def test_lead_is_over_the_runner_up_when_it_means_something_else() -> None:
    found = evidence(ranking([hit("a", 0.90), hit("b", 0.86), hit("c", 0.80)],
                             [1.0, 0.85, 0.84], [0.95, 0.91, 0.80]), 4, DUPLICATE)
    assert found is not None
    assert found.lead == pytest.approx(0.04)
    assert found.question_lead == pytest.approx(0.04)
    assert found.duplicates == 0


def test_near_duplicate_runner_up_agrees_instead_of_competing() -> None:
    # "b" says nearly what "a" says (same answer under another title): "c" is the competitor.
    found = evidence(ranking([hit("a", 0.90), hit("b", 0.89), hit("c", 0.80)],
                             [1.0, 0.99, 0.84]), 4, DUPLICATE)
    assert found is not None
    assert found.lead == pytest.approx(0.10)
    assert found.duplicates == 1


def test_the_same_entry_in_the_other_language_does_not_compete() -> None:
    found = evidence(ranking([hit("en-invite", 0.88, "en"), hit("invite", 0.87, "ja"),
                              hit("en-api", 0.80, "en")], [1.0, 0.83, 0.84]), 4, DUPLICATE)
    assert found is not None
    assert found.lead == pytest.approx(0.08)


def test_without_a_competitor_the_last_entry_bounds_the_lead() -> None:
    found = evidence(ranking([hit("paid-leave", 0.79, "ja"), hit("en-a", 0.78, "en"),
                              hit("en-b", 0.70, "en")], [1.0, 0.8, 0.8]), 4, DUPLICATE)
    assert found is not None
    assert found.lead == pytest.approx(0.09)  # not 0.79: an empty field is no evidence


def test_a_lone_entry_has_no_lead_and_is_not_answered() -> None:
    # A one-entry base (or filter) ranks its entry first for any question whatsoever.
    found = evidence(ranking([hit("only", 0.72)], [1.0], [0.80]), 3, DUPLICATE)
    assert found is not None
    assert (found.lead, found.question_lead, found.lexical_lead, found.dense_lead) == (0, 0, 0, 0)
    assert default_model().judge(found)[0] is not Decision.ANSWER


def test_field_leads_compare_each_signal_with_the_best_competitor() -> None:
    hits = [hit("a", 0.9, lexical=0.8, dense=0.88), hit("b", 0.85, lexical=0.3, dense=0.87),
            hit("c", 0.84, lexical=0.6, dense=0.80)]
    found = evidence(ranking(hits, [1.0, 0.8, 0.8]), 4, DUPLICATE)
    assert found is not None
    assert found.lexical_lead == pytest.approx(0.2)  # over c's lexical 0.6
    assert found.dense_lead == pytest.approx(0.01)  # over b's dense 0.87


def test_nothing_found_gives_no_evidence_and_abstains() -> None:
    assert evidence(Ranking.empty(), 3, DUPLICATE) is None
    assert default_model().judge(None) == (Decision.ABSTAIN, 0.0)


# --- the logistic fit on made data -------------------------------------------------------------


def made_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    truth = 1 / (1 + np.exp(-(2.0 * x[:, 0] - 0.5)))  # the second feature is noise
    return x, (rng.random(n) < truth).astype(float), truth


def test_fit_recovers_the_generating_coefficients() -> None:
    x, y, _ = made_data(20000)
    model = logistic.fit(x, y, ("signal", "noise"), c=100.0)
    assert model.coef[0] * 1 / model.scale[0] == pytest.approx(2.0, abs=0.1)
    assert abs(model.coef[1]) < 0.05


def test_fitted_probabilities_are_calibrated_on_held_out_data() -> None:
    x, y, _ = made_data(8000)
    model = logistic.fit(x, y, ("signal", "noise"))
    test_x, test_y, _ = made_data(8000, seed=1)
    p = model.probabilities(test_x)
    for low in np.arange(0.0, 1.0, 0.2):
        band = (p >= low) & (p < low + 0.2)
        assert abs(p[band].mean() - test_y[band].mean()) < 0.04


def test_probability_rises_with_the_signal_and_matches_the_batch_path() -> None:
    x, y, _ = made_data(2000)
    model = logistic.fit(x, y, ("signal", "noise"))
    grid = [model.probability([v, 0.0]) for v in np.linspace(-3, 3, 13)]
    assert all(a < b for a, b in itertools.pairwise(grid))
    assert model.probabilities(x[:5]) == pytest.approx([model.probability(r) for r in x[:5]])


def test_stronger_penalty_shrinks_towards_the_base_rate() -> None:
    x, y, _ = made_data(500)
    loose, tight = (logistic.fit(x, y, ("signal", "noise"), c=c) for c in (10.0, 0.001))
    assert abs(tight.coef[0]) < abs(loose.coef[0]) / 10


# --- the shipped model -------------------------------------------------------------------------


def typical(**changes: float) -> Evidence:
    base = Evidence(top_score=0.86, lead=0.03, question_similarity=0.92, question_lead=0.02,
                    agreement=1.0, duplicates=0.0, query_terms=1.6, lead_spread=1.5,
                    top_spread=1.5, neighbourhood=0.88, lexical_lead=0.05, dense_lead=0.01,
                    rerank_lead=1.0, fusion_agrees=1.0)
    return replace(base, **changes)


def test_shipped_model_loads_offline_with_known_features() -> None:
    model = load(DEFAULT_PATH)
    assert set(model.answer.features) <= set(FEATURE_NAMES)
    assert 0.5 <= model.answer_threshold < 1.0
    assert 0.0 < model.suggest_threshold < model.answer_threshold
    assert ConfidenceModel.from_json(json.loads(json.dumps(model.to_json()))) == model


@pytest.mark.parametrize("feature", ["lead", "question_similarity", "lexical_lead", "dense_lead"])
def test_shipped_model_is_more_sure_the_clearer_the_winner(feature: str) -> None:
    model = default_model()
    if feature not in model.answer.features:
        pytest.skip(f"{feature} is not in the shipped model")
    low, high = typical(**{feature: 0.0}), typical(**{feature: 0.1})
    values = model.answer.features
    assert model.answer.probability(high.values(values)) > (
        model.answer.probability(low.values(values)))


def test_shipped_model_answers_a_clear_winner_and_not_a_tie() -> None:
    model = default_model()
    clear = typical(lead=0.10, question_similarity=0.96, question_lead=0.08, lexical_lead=0.4,
                    dense_lead=0.05)
    tie = typical(lead=0.0, question_similarity=0.88, question_lead=0.0, lexical_lead=0.0,
                  dense_lead=0.0)
    assert model.judge(clear)[0] is Decision.ANSWER
    assert model.judge(tie)[0] is not Decision.ANSWER


def test_unknown_feature_in_the_file_is_a_clear_error(tmp_path: Path) -> None:
    data = default_model().to_json()
    data["answer"]["features"][0] = "moon_phase"
    (tmp_path / "c.json").write_text(json.dumps(data), "utf-8")
    with pytest.raises(ConfidenceFormatError, match="moon_phase"):
        load(tmp_path / "c.json")


def test_missing_field_in_the_file_is_a_clear_error(tmp_path: Path) -> None:
    data = default_model().to_json()
    del data["answer_threshold"]
    (tmp_path / "c.json").write_text(json.dumps(data), "utf-8")
    with pytest.raises(ConfidenceFormatError, match="answer_threshold"):
        load(tmp_path / "c.json")


def test_thresholds_decide_between_answer_suggest_and_abstain() -> None:
    always = LogisticModel(("lead",), (0.0,), (1.0,), (0.0,), 0.0)  # P = 0.5 for anything
    model = ConfidenceModel(always, always, answer_threshold=0.5, suggest_threshold=0.5,
                            duplicate_similarity=DUPLICATE)
    assert model.judge(typical()) == (Decision.ANSWER, 0.5)
    assert replace(model, answer_threshold=0.6).judge(typical())[0] is Decision.SUGGEST
    stricter = replace(model, answer_threshold=0.6, suggest_threshold=0.6)
    assert stricter.judge(typical()) == (Decision.ABSTAIN, 0.5)

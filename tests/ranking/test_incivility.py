"""The incivility classifier: ranking quality, held-out metrics, moderation refits."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline

from ranking.incivility import (
    DEMOTION_THRESHOLD,
    incivility_corpus_load,
    incivility_evaluate,
    incivility_fit,
    incivility_fit_result,
    incivility_refit,
    incivility_scores,
    moderation_labels,
)

Corpus = tuple[list[str], list[int]]

# Written for this test, not in the corpus.
INSULTS = [
    "You are a worthless idiot and a liar.",
    "Shut up, you pathetic moron.",
    "What a brainless clown, get lost.",
    "You're an ignorant fool, nobody wants you here.",
    "Go away, loser, your posts are garbage.",
]
CIVIL = [
    "I disagree with the proposal, but thanks for explaining it.",
    "The community centre reopens next week.",
    "Thank you for the helpful summary of the meeting.",
    "I think the tram extension is worth the cost.",
    "Could you share the source for those figures?",
]

# Stated in ranking/data/PROVENANCE.md; the fit must not fall below them.
HELD_OUT_AUC_FLOOR = 0.90
HELD_OUT_PRECISION_FLOOR = 0.90


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return incivility_corpus_load()


@pytest.fixture(scope="module")
def base_model(corpus: Corpus) -> Pipeline:
    texts, labels = corpus
    return incivility_fit(texts=texts, labels=labels)


def test_corpus_is_balanced_enough_and_has_no_duplicates(corpus: Corpus) -> None:
    texts, labels = corpus
    assert len(texts) >= 400
    assert len(set(texts)) == len(texts)
    assert 0.4 <= sum(labels) / len(labels) <= 0.6


def test_obvious_insults_score_above_every_civil_text(base_model: Pipeline) -> None:
    insult_scores = incivility_scores(base_model, INSULTS)
    civil_scores = incivility_scores(base_model, CIVIL)
    assert insult_scores.min() > civil_scores.max()
    assert (insult_scores >= DEMOTION_THRESHOLD).all()
    assert (civil_scores < 0.5).all()


def test_scores_are_probabilities(base_model: Pipeline) -> None:
    scores = incivility_scores(base_model, INSULTS + CIVIL + ["", "!!!", "a" * 500])
    assert ((scores >= 0.0) & (scores <= 1.0)).all()
    assert incivility_scores(base_model, []).shape == (0,)


def test_held_out_metrics_meet_the_stated_floor(corpus: Corpus) -> None:
    texts, labels = corpus
    metrics = incivility_evaluate(texts=texts, labels=labels, folds=5)
    assert metrics["n_test"] == pytest.approx(0.25 * len(texts), abs=1)
    assert metrics["held_out"]["roc_auc"] >= HELD_OUT_AUC_FLOOR
    assert metrics["held_out"]["precision_at_threshold"] >= HELD_OUT_PRECISION_FLOOR
    assert metrics["cross_validated_5fold"]["roc_auc"] >= HELD_OUT_AUC_FLOOR


def test_refit_with_upheld_reports_raises_their_scores(
    corpus: Corpus, base_model: Pipeline
) -> None:
    # Community slang the hand-written corpus has never seen.
    upheld = [
        "Honestly that take is pure gremlin energy, total gremlin.",
        "Typical gremlin nonsense from the gremlin brigade.",
    ]
    texts, labels = corpus
    before = incivility_scores(base_model, upheld)
    refit = incivility_refit(
        base_texts=texts, base_labels=labels, upheld_texts=upheld, dismissed_texts=[]
    )
    after = incivility_scores(refit, upheld)
    assert (after > before + 0.2).all()
    assert (after >= DEMOTION_THRESHOLD).all()
    # The refit still knows what it knew.
    assert (
        roc_auc_score([1] * 5 + [0] * 5, incivility_scores(refit, INSULTS + CIVIL))
        == 1.0
    )


def test_refit_with_dismissed_reports_lowers_their_scores(
    corpus: Corpus, base_model: Pipeline
) -> None:
    dismissed = [
        "Stupid printer jammed again, useless machine.",
        "Damn, you nailed it, what a legend.",
    ]
    texts, labels = corpus
    before = incivility_scores(base_model, dismissed)
    assert (before >= DEMOTION_THRESHOLD).all()  # the false positives being corrected
    refit = incivility_refit(
        base_texts=texts, base_labels=labels, upheld_texts=[], dismissed_texts=dismissed
    )
    assert (incivility_scores(refit, dismissed) < 0.5).all()


def test_moderator_decision_replaces_the_base_label(corpus: Corpus) -> None:
    texts, labels = corpus
    civil_in_corpus = texts[labels.index(0)]
    refit = incivility_refit(
        base_texts=texts,
        base_labels=labels,
        upheld_texts=[civil_in_corpus],
        dismissed_texts=[],
    )
    assert incivility_scores(refit, [civil_in_corpus])[0] > 0.5


def test_moderation_labels_take_the_majority_and_drop_ties() -> None:
    labels = moderation_labels(
        upheld_texts=["a", "a", "b", "c"], dismissed_texts=["a", "b", "d"]
    )
    assert labels == {"a": 1, "c": 1, "d": 0}


def test_fit_refuses_a_single_class() -> None:
    with pytest.raises(ValueError, match="both civil"):
        incivility_fit(texts=["x", "y"], labels=[1, 1])


def test_fit_result_is_deterministic() -> None:
    first = incivility_fit_result(upheld_texts=["gremlin take"], dismissed_texts=[])
    second = incivility_fit_result(upheld_texts=["gremlin take"], dismissed_texts=[])
    assert first.training_data_sha256 == second.training_data_sha256
    assert first.metrics == second.metrics
    assert first.metrics["n_moderation_labels"] == 1
    # The same text dismissed instead of upheld is different training data.
    flipped = incivility_fit_result(upheld_texts=[], dismissed_texts=["gremlin take"])
    assert flipped.training_data_sha256 != first.training_data_sha256
    assert np.isfinite(first.metrics["held_out"]["roc_auc"])

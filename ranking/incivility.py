"""The `incivility` signal: a scikit-learn text classifier, refined by moderation.

Base data: the hand-written, hand-labelled corpus in ``ranking/data`` (see
``ranking/data/PROVENANCE.md`` for where it comes from, its size and its
biases, and why no ready-trained model is used). Moderation refines it:
reports that moderators upheld become positive examples and dismissed ones
negative, weighted above the base corpus because they are real decisions about
real posts on this platform.

Model: TF-IDF over word 1-2-grams and character 2-5-grams (character n-grams
catch misspellings and obfuscation such as "f***ing" or "ur an idiot") feeding a
class-balanced logistic regression. Everything is deterministic, so the same
data and parameters give the same model and the same training-data hash.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_score, recall_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split
from sklearn.pipeline import FeatureUnion, Pipeline

from ranking.artefacts import (
    FORMAT_SKOPS,
    FitResult,
    sklearn_dump,
    training_data_sha256,
)

CORPUS_PATH = Path(__file__).resolve().parent / "data" / "incivility_corpus.tsv"

# The charter's demotion threshold (policy: demote incivility above 0.85);
# metrics are reported at it because that is where a wrong score costs a post.
DEMOTION_THRESHOLD = 0.85

# A moderator's decision about a real post outweighs one hand-written example.
MODERATION_WEIGHT = 3.0

PARAMETERS: dict[str, Any] = {
    "word_ngram_range": [1, 2],
    "char_ngram_range": [2, 5],
    # A character n-gram seen in one sentence only is memorisation, not a cue.
    "char_min_df": 2,
    "C": 30.0,
    "class_weight": "balanced",
    "moderation_weight": MODERATION_WEIGHT,
    "held_out_fraction": 0.25,
    "split_seed": 0,
}


def incivility_corpus_load(path: Path = CORPUS_PATH) -> tuple[list[str], list[int]]:
    """The shipped base corpus as (texts, labels), label 1 = uncivil."""
    texts: list[str] = []
    labels: list[int] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            texts.append(row["text"])
            labels.append(int(row["label"]))
    return texts, labels


def incivility_pipeline() -> Pipeline:
    """An unfitted classifier with the shipped parameters."""
    word_range = tuple(PARAMETERS["word_ngram_range"])
    char_range = tuple(PARAMETERS["char_ngram_range"])
    return Pipeline(
        [
            (
                "features",
                FeatureUnion(
                    [
                        (
                            "words",
                            TfidfVectorizer(
                                analyzer="word",
                                ngram_range=word_range,
                                sublinear_tf=True,
                                strip_accents="unicode",
                            ),
                        ),
                        (
                            "chars",
                            TfidfVectorizer(
                                analyzer="char_wb",
                                ngram_range=char_range,
                                min_df=PARAMETERS["char_min_df"],
                                sublinear_tf=True,
                                strip_accents="unicode",
                            ),
                        ),
                    ]
                ),
            ),
            (
                "classifier",
                LogisticRegression(
                    C=PARAMETERS["C"],
                    class_weight=PARAMETERS["class_weight"],
                    max_iter=2000,
                ),
            ),
        ]
    )


def incivility_fit(
    *,
    texts: Sequence[str],
    labels: Sequence[int],
    weights: Sequence[float] | None = None,
) -> Pipeline:
    """Fit the classifier on labelled texts (label 1 = uncivil)."""
    if len(texts) != len(labels):
        raise ValueError("texts and labels must have the same length")
    if len(set(labels)) != 2:
        raise ValueError("training needs both civil (0) and uncivil (1) examples")
    pipeline = incivility_pipeline()
    fit_params = (
        {} if weights is None else {"classifier__sample_weight": np.asarray(weights)}
    )
    pipeline.fit(list(texts), np.asarray(labels), **fit_params)
    return pipeline


def incivility_scores(pipeline: Any, texts: Sequence[str]) -> np.ndarray:
    """Probability in [0, 1] that each text is uncivil."""
    if not texts:
        return np.zeros(0)
    return np.asarray(pipeline.predict_proba(list(texts))[:, 1], dtype=float)


def moderation_labels(
    *, upheld_texts: Sequence[str], dismissed_texts: Sequence[str]
) -> dict[str, int]:
    """One label per distinct reported text: the majority moderator decision.

    A text upheld as often as it was dismissed (reports on different posts with
    the same words) is left out: moderators disagreed, so it teaches nothing.
    """
    upheld = Counter(upheld_texts)
    dismissed = Counter(dismissed_texts)
    labels: dict[str, int] = {}
    for text in sorted(set(upheld) | set(dismissed)):
        if upheld[text] != dismissed[text]:
            labels[text] = 1 if upheld[text] > dismissed[text] else 0
    return labels


def _training_set(
    *,
    base_texts: Sequence[str],
    base_labels: Sequence[int],
    upheld_texts: Sequence[str],
    dismissed_texts: Sequence[str],
) -> tuple[list[str], list[int], list[float]]:
    decided = moderation_labels(
        upheld_texts=upheld_texts, dismissed_texts=dismissed_texts
    )
    texts: list[str] = []
    labels: list[int] = []
    weights: list[float] = []
    # A moderator decision replaces a base example with the same text.
    for text, label in zip(base_texts, base_labels, strict=True):
        if text not in decided:
            texts.append(text)
            labels.append(int(label))
            weights.append(1.0)
    for text, label in decided.items():
        texts.append(text)
        labels.append(label)
        weights.append(MODERATION_WEIGHT)
    return texts, labels, weights


def incivility_refit(
    *,
    base_texts: Sequence[str],
    base_labels: Sequence[int],
    upheld_texts: Sequence[str],
    dismissed_texts: Sequence[str],
) -> Pipeline:
    """Fit on the base corpus plus moderation (upheld = uncivil, dismissed = civil)."""
    texts, labels, weights = _training_set(
        base_texts=base_texts,
        base_labels=base_labels,
        upheld_texts=upheld_texts,
        dismissed_texts=dismissed_texts,
    )
    return incivility_fit(texts=texts, labels=labels, weights=weights)


def _threshold_metrics(labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    flagged = scores >= DEMOTION_THRESHOLD
    return {
        "roc_auc": round(float(roc_auc_score(labels, scores)), 4),
        "precision_at_threshold": round(
            float(precision_score(labels, flagged, zero_division=0)), 4
        ),
        "recall_at_threshold": round(float(recall_score(labels, flagged)), 4),
    }


def incivility_evaluate(
    *,
    texts: Sequence[str],
    labels: Sequence[int],
    weights: Sequence[float] | None = None,
    folds: int = 0,
) -> dict[str, Any]:
    """Held-out metrics from a stratified 75/25 split (the figure to quote).

    With ``folds`` >= 2, k-fold cross-validated metrics are added, showing how
    much the split figure depends on which sentences landed in the test
    quarter (bench/bench_incivility.py prints them; fits skip them for speed).
    """
    y = np.asarray(labels)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    seed = PARAMETERS["split_seed"]
    train, test = train_test_split(
        np.arange(len(y)),
        test_size=PARAMETERS["held_out_fraction"],
        stratify=y,
        random_state=seed,
    )
    model = incivility_fit(
        texts=[texts[i] for i in train],
        labels=y[train].tolist(),
        weights=w[train].tolist(),
    )
    test_scores = incivility_scores(model, [texts[i] for i in test])
    metrics: dict[str, Any] = {
        "threshold": DEMOTION_THRESHOLD,
        "n_train": len(train),
        "n_test": len(test),
        "n_uncivil": int(y.sum()),
        "n_civil": int(len(y) - y.sum()),
        "held_out": _threshold_metrics(y[test], test_scores),
    }
    if folds >= 2:
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        cv_scores = cross_val_predict(
            incivility_pipeline(),
            list(texts),
            y,
            cv=splitter,
            method="predict_proba",
            params={"classifier__sample_weight": w},
        )[:, 1]
        metrics[f"cross_validated_{folds}fold"] = _threshold_metrics(y, cv_scores)
    return metrics


def incivility_fit_result(
    *, upheld_texts: Sequence[str] = (), dismissed_texts: Sequence[str] = ()
) -> FitResult:
    """Fit on the shipped corpus plus moderation and package it for the store."""
    base_texts, base_labels = incivility_corpus_load()
    texts, labels, weights = _training_set(
        base_texts=base_texts,
        base_labels=base_labels,
        upheld_texts=upheld_texts,
        dismissed_texts=dismissed_texts,
    )
    metrics = incivility_evaluate(texts=texts, labels=labels, weights=weights)
    metrics["n_moderation_labels"] = sum(1 for w in weights if w != 1.0)
    model = incivility_fit(texts=texts, labels=labels, weights=weights)
    records = sorted(zip(texts, labels, weights, strict=True))
    return FitResult(
        blob=sklearn_dump(model),
        format=FORMAT_SKOPS,
        training_data_sha256=training_data_sha256(records),
        parameters=dict(PARAMETERS),
        metrics=metrics,
    )

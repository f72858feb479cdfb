"""Incivility classifier: quality on held-out text, fit and scoring cost, artefact cost.

    .venv/bin/python bench/bench_incivility.py
    .venv/bin/python bench/bench_incivility.py --profanity-check-dir DIR

Prints the held-out split metrics (the figure stored with each artefact), 5-fold
cross-validated metrics, fit time, the skops artefact's size and (de)serialise
times, and scoring latency for 1 / 30 (a page) / 1,500 (a candidate set) posts.
The baseline in the same run is a cold skops load: its ratio to scoring a page
is what the in-process model cache saves on every request.

--profanity-check-dir points at an unpacked alt-profanity-check wheel (e.g.
`pip download --no-deps alt-profanity-check` then unzip). Its model is a joblib
pickle, so loading it runs code from that package: this comparison is opt-in,
offline evidence only, and never part of the product.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

import numpy as np
from sklearn.metrics import precision_score, recall_score, roc_auc_score
from sklearn.model_selection import train_test_split

T = TypeVar("T")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ranking.artefacts import sklearn_dump, sklearn_load  # noqa: E402
from ranking.incivility import (  # noqa: E402
    DEMOTION_THRESHOLD,
    PARAMETERS,
    incivility_corpus_load,
    incivility_evaluate,
    incivility_fit,
    incivility_scores,
)


def timed(fn: Callable[[], T], repeat: int = 5) -> tuple[float, T]:
    """Median wall time in ms over `repeat - 1` runs after a warm-up, and a result."""
    times = []
    result = fn()
    for _ in range(repeat - 1):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def compare_profanity_check(
    directory: Path, texts: list[str], labels: list[int]
) -> None:
    import joblib

    data = directory / "profanity_check" / "data"
    vectorizer = joblib.load(data / "vectorizer.joblib")
    model = joblib.load(data / "model.joblib")
    y = np.asarray(labels)
    _, test = train_test_split(
        np.arange(len(y)),
        test_size=PARAMETERS["held_out_fraction"],
        stratify=y,
        random_state=PARAMETERS["split_seed"],
    )
    scores = model.predict_proba(vectorizer.transform([texts[i] for i in test]))[:, 1]
    flagged = scores >= DEMOTION_THRESHOLD
    print(
        "alt-profanity-check on the same held-out quarter (it never saw this corpus):"
    )
    print(f"  roc_auc                 {roc_auc_score(y[test], scores):.4f}")
    print(
        f"  precision@{DEMOTION_THRESHOLD}          "
        f"{precision_score(y[test], flagged, zero_division=0):.4f}"
    )
    print(
        f"  recall@{DEMOTION_THRESHOLD}             "
        f"{recall_score(y[test], flagged):.4f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profanity-check-dir", type=Path)
    args = parser.parse_args()

    texts, labels = incivility_corpus_load()
    print(
        f"corpus: {len(texts)} sentences, {sum(labels)} uncivil, "
        f"{len(labels) - sum(labels)} civil "
        "(hand-written, see ranking/data/PROVENANCE.md)"
    )
    metrics = incivility_evaluate(texts=texts, labels=labels, folds=5)
    for key in ("held_out", "cross_validated_5fold"):
        m = metrics[key]
        print(
            f"{key:<22} roc_auc {m['roc_auc']:.4f}  precision@{DEMOTION_THRESHOLD} "
            f"{m['precision_at_threshold']:.4f}  recall@{DEMOTION_THRESHOLD} "
            f"{m['recall_at_threshold']:.4f}"
        )

    fit_ms, model = timed(lambda: incivility_fit(texts=texts, labels=labels), repeat=3)
    dump_ms, blob = timed(lambda: sklearn_dump(model), repeat=3)
    load_ms, _ = timed(lambda: sklearn_load(blob), repeat=3)
    print(f"fit (full corpus)       {fit_ms:8.1f} ms")
    print(f"skops artefact          {len(blob) / 1024:8.1f} KiB")
    print(f"skops dump              {dump_ms:8.1f} ms")
    print(
        f"skops load (cold)       {load_ms:8.1f} ms   "
        "<- baseline: what the cache avoids"
    )

    pool = (texts * (1500 // len(texts) + 1))[:1500]
    page_ms = 0.0
    for n in (1, 30, 1500):
        batch = pool[:n]
        ms, _ = timed(partial(incivility_scores, model, batch), repeat=7)
        print(
            f"score {n:>5} posts        {ms:8.2f} ms   ({ms / n * 1000:7.1f} us/post)"
        )
        if n == 30:
            page_ms = ms
    print(f"cold load / score a page = {load_ms / page_ms:.1f}x")

    if args.profanity_check_dir:
        compare_profanity_check(args.profanity_check_dir, texts, labels)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

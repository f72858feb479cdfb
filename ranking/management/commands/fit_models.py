"""`manage.py fit_models [NAME ...]`: fit, store and activate the ranking models.

Each model is a `Fitter` in `FITTERS`: a function that reads its training data
and returns a `FitResult`, plus an optional `apply` step that writes the
activated model's outputs to the posts (signals). A model whose training data
and parameters are unchanged since the active version is not stored again
(use --force), so running the command twice adds nothing to the ledger.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO, cast

import numpy as np
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from feed.models import Post, Rating
from ranking.artefacts import FORMAT_NPZ, FitResult, arrays_dump, training_data_sha256
from ranking.incivility import incivility_fit_result
from ranking.models import ModelArtefact
from ranking.selectors import incivility_moderation_texts, model_active, model_load
from ranking.services import (
    SIGNALS_CHUNK,
    model_activate,
    model_artefact_create,
    post_signals_compute,
    post_signals_store,
)


class Progress:
    """A one-line progress indicator on stderr (rewritten in place on a terminal)."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = max(total, 1)
        self.stream = stream or sys.stderr
        self.started = time.perf_counter()
        self.tty = self.stream.isatty()

    def update(self, done: int, note: str = "") -> None:
        width = 24
        filled = int(width * min(done, self.total) / self.total)
        elapsed = time.perf_counter() - self.started
        line = (
            f"{self.label:<12} [{'#' * filled}{'.' * (width - filled)}] "
            f"{done}/{self.total} {elapsed:5.1f}s {note}"
        )
        # On a terminal the line is redrawn; in logs each step is its own line.
        self.stream.write(("\r" + line) if self.tty else (line + "\n"))
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


@dataclass(frozen=True)
class Fitter:
    fit: Callable[[Progress], FitResult | None]
    # Writes the activated model's outputs (post signals); returns posts written.
    apply: Callable[[ModelArtefact, Progress], int] | None = None


# --- incivility -----------------------------------------------------------------------


def fit_incivility(progress: Progress) -> FitResult:
    progress.update(0, "reading moderator decisions")
    upheld, dismissed = incivility_moderation_texts()
    progress.update(1, f"fitting ({len(upheld)} upheld, {len(dismissed)} dismissed)")
    result = incivility_fit_result(upheld_texts=upheld, dismissed_texts=dismissed)
    progress.update(2, f"held-out AUC {result.metrics['held_out']['roc_auc']}")
    return result


def apply_incivility(artefact: ModelArtefact, progress: Progress) -> int:
    ids = list(Post.objects.order_by("id").values_list("id", flat=True))
    scored = 0
    step = SIGNALS_CHUNK * 4
    progress.total = max(len(ids), 1)
    for start in range(0, len(ids), step):
        scored += post_signals_compute(post_ids=ids[start : start + step])
        progress.update(min(start + step, len(ids)), "scoring posts")
    return scored


# --- ratings-based models: bridging and consensus ------------------------------

# helpful -> 1.0, unhelpful -> 0.0 (the published bridging model's scale).
_RATING_VALUE: dict[int, float] = {
    int(Rating.Value.HELPFUL): 1.0,
    int(Rating.Value.UNHELPFUL): 0.0,
}


@dataclass(frozen=True)
class _Ratings:
    rater_ids: np.ndarray
    item_ids: np.ndarray
    rater_idx: np.ndarray
    item_idx: np.ndarray
    values: np.ndarray
    sha256: str


def _ratings_read() -> _Ratings | None:
    """Every helpful/unhelpful rating as index arrays, sorted, with their hash."""
    rows = sorted(Rating.objects.values_list("user_id", "post_id", "value"))
    if not rows:
        return None
    raters = np.array(sorted({r[0] for r in rows}), dtype=np.int64)
    items = np.array(sorted({r[1] for r in rows}), dtype=np.int64)
    values = [_RATING_VALUE[r[2]] for r in rows]
    return _Ratings(
        rater_ids=raters,
        item_ids=items,
        rater_idx=np.searchsorted(
            raters, np.array([r[0] for r in rows], dtype=np.int64)
        ),
        item_idx=np.searchsorted(items, np.array([r[1] for r in rows], dtype=np.int64)),
        values=np.array(values, dtype=np.float64),
        sha256=training_data_sha256(
            [r[0], r[1], v] for r, v in zip(rows, values, strict=True)
        ),
    )


def fit_bridging_model(progress: Progress) -> FitResult | None:
    from ranking.bridging import FACTOR_LAMBDA, INTERCEPT_LAMBDA, fit_bridging

    progress.update(0, "reading ratings")
    ratings = _ratings_read()
    if ratings is None:
        return None
    progress.update(1, f"fitting {ratings.values.size} ratings")
    result = fit_bridging(
        ratings.rater_idx,
        ratings.item_idx,
        ratings.values,
        n_raters=ratings.rater_ids.size,
        n_items=ratings.item_ids.size,
    )
    progress.update(2, "serialising")
    blob = arrays_dump(
        {
            "item_ids": ratings.item_ids,
            "item_intercept": result.item_intercept,
            "item_factor": result.item_factor,
            "item_n_ratings": result.item_n_ratings,
            "item_flag": result.item_flag,
            "rater_ids": ratings.rater_ids,
            "rater_intercept": result.rater_intercept,
            "rater_factor": result.rater_factor,
            "global_intercept": np.array([result.global_intercept]),
        }
    )
    return FitResult(
        blob=blob,
        format=FORMAT_NPZ,
        training_data_sha256=ratings.sha256,
        parameters={
            "factor_lambda": FACTOR_LAMBDA,
            "intercept_lambda": INTERCEPT_LAMBDA,
            "min_rater_ratings": 10,
            "min_item_raters": 5,
            "rating_values": {"helpful": 1.0, "unhelpful": 0.0},
        },
        metrics={k: float(v) for k, v in result.metrics.items()},
    )


def fit_consensus_model(progress: Progress) -> FitResult | None:
    from ranking.consensus import fit_consensus

    progress.update(0, "reading ratings")
    ratings = _ratings_read()
    if ratings is None:
        return None
    progress.update(1, f"grouping raters over {ratings.values.size} ratings")
    result = fit_consensus(
        ratings.rater_idx,
        ratings.item_idx,
        ratings.values,
        n_raters=ratings.rater_ids.size,
        n_items=ratings.item_ids.size,
    )
    progress.update(2, f"{result.n_groups} opinion groups; serialising")
    blob = arrays_dump(
        {
            "item_ids": ratings.item_ids,
            "item_consensus": result.item_consensus,
            "item_groups_rating": result.item_groups_rating,
            # The opinion group of each rater: what cross_cutting compares.
            "rater_ids": ratings.rater_ids,
            "rater_group": result.rater_group,
            "n_groups": np.array([result.n_groups]),
        }
    )
    return FitResult(
        blob=blob,
        format=FORMAT_NPZ,
        training_data_sha256=ratings.sha256,
        parameters={
            "min_rater_ratings": 5,
            "min_item_raters": 5,
            "n_components": 2,
            "k_range": [2, 5],
            "rating_values": {"helpful": 1.0, "unhelpful": 0.0},
        },
        metrics={"n_groups": result.n_groups}
        | {k: float(v) for k, v in result.metrics.items()},
    )


def _apply_item_scores(
    signal: str, column: str
) -> Callable[[ModelArtefact, Progress], int]:
    def apply(artefact: ModelArtefact, progress: Progress) -> int:
        arrays = model_load(artefact=artefact)
        scores = {
            int(post_id): float(score)
            for post_id, score in zip(arrays["item_ids"], arrays[column], strict=True)
        }
        progress.update(0, f"storing {len(scores)} {signal} scores")
        written = post_signals_store(
            name=signal, version=artefact.version, values=scores
        )
        progress.update(progress.total, "stored")
        return written

    return apply


FITTERS: dict[str, Fitter] = {
    "incivility": Fitter(fit=fit_incivility, apply=apply_incivility),
    "bridging": Fitter(
        fit=fit_bridging_model, apply=_apply_item_scores("bridging", "item_intercept")
    ),
    "consensus": Fitter(
        fit=fit_consensus_model, apply=_apply_item_scores("consensus", "item_consensus")
    ),
}


class Command(BaseCommand):
    help = "Fit the ranking models, store each as a versioned artefact and activate it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "names",
            nargs="*",
            metavar="NAME",
            help=f"models to fit (default: all of {sorted(FITTERS)})",
        )
        parser.add_argument(
            "--no-activate", action="store_true", help="store without activating"
        )
        parser.add_argument(
            "--force", action="store_true", help="store even if unchanged"
        )
        parser.add_argument(
            "--actor",
            default="system:fit_models",
            help="who the ledger records as activating",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        names: list[str] = options["names"] or list(FITTERS)
        unknown = sorted(set(names) - set(FITTERS))
        if unknown:
            raise CommandError(
                f"unknown model(s) {', '.join(unknown)}; "
                f"choose from {', '.join(sorted(FITTERS))}"
            )
        for name in names:
            self._fit_one(name, FITTERS[name], options)

    def _raw_stderr(self) -> TextIO:
        # The wrapped stream: OutputWrapper would end every write with a newline,
        # which breaks redrawing the progress line in place.
        return cast(TextIO, self.stderr._out)

    def _fit_one(self, name: str, fitter: Fitter, options: dict[str, Any]) -> None:
        progress = Progress(name, total=3, stream=self._raw_stderr())
        result = fitter.fit(progress)
        progress.update(3, "fitted" if result else "nothing to fit")
        progress.close()
        if result is None:
            self.stdout.write(f"{name}: no training data yet, skipped")
            return
        active = model_active(name=name)
        if (
            active is not None
            and active.training_data_sha256 == result.training_data_sha256
            and active.parameters == result.parameters
            and not options["force"]
        ):
            self.stdout.write(
                f"{name}: training data unchanged, v{active.version} stays active"
            )
            return
        try:
            artefact = model_artefact_create(name=name, result=result)
            if not options["no_activate"]:
                artefact = model_activate(artefact=artefact, actor=options["actor"])
        except ValidationError as exc:
            raise CommandError(f"{name}: {exc}") from exc
        state = "activated" if artefact.is_active else "stored (not active)"
        self.stdout.write(
            f"{name}: v{artefact.version} {state}; metrics {artefact.metrics}"
        )
        if artefact.is_active and fitter.apply is not None:
            apply_progress = Progress(
                f"{name} apply", total=1, stream=self._raw_stderr()
            )
            written = fitter.apply(artefact, apply_progress)
            apply_progress.close()
            self.stdout.write(f"{name}: signals written for {written} posts")

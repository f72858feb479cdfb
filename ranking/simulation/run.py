"""Run the simulation end to end and compute the comparison table.

SIMULATION — synthetic data. Every number this produces describes a synthetic
society whose assumptions are spelled out in ``ranking.simulation.society``.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import spearmanr
from threadpoolctl import threadpool_limits

from ranking.bridging import FLAG_FITTED, fit_bridging
from ranking.simulation import rankers
from ranking.simulation.metrics import author_gini
from ranking.simulation.society import (
    Society,
    bridging_truth,
    generate_society,
    like_prob,
)

LABEL = "SIMULATION — synthetic data"

METRICS: list[tuple[str, str, str]] = [
    ("incivility_exposure", "Incivility exposure (mean hidden incivility)", "lower"),
    ("cross_cutting_share", "Cross-cutting share (author in another camp)", "higher"),
    ("mean_quality", "Mean hidden quality shown", "higher"),
    ("bridging_truth", "Bridging truth (less favourable camp's P(helpful))", "higher"),
    ("author_gini", "Author concentration (Gini)", "lower"),
    ("expected_likes", "Expected likes per feed", "—"),
]


def feed_metrics(
    society: Society, truth: np.ndarray, feeds: dict[int, np.ndarray]
) -> dict[str, float]:
    """Mean of per-viewer metrics over the feeds, plus author concentration."""
    inc, cross, qual, bt, likes = [], [], [], [], []
    for viewer, shown in feeds.items():
        if shown.size == 0:
            continue
        inc.append(society.incivility[shown].mean())
        cross.append(
            np.mean(society.camp[society.post_author[shown]] != society.camp[viewer])
        )
        qual.append(society.quality[shown].mean())
        bt.append(truth[shown].mean())
        likes.append(
            like_prob(
                society.model,
                society.viewpoint[viewer],
                society.slant[shown],
                society.quality[shown],
                society.incivility[shown],
            ).sum()
        )
    shown_authors = [society.post_author[s].tolist() for s in feeds.values()]
    return {
        "incivility_exposure": float(np.mean(inc)),
        "cross_cutting_share": float(np.mean(cross)),
        "mean_quality": float(np.mean(qual)),
        "bridging_truth": float(np.mean(bt)),
        "author_gini": author_gini(shown_authors, society.post_author.tolist()),
        "expected_likes": float(np.mean(likes)),
    }


def _load_reference() -> Any:
    """``reference_fit`` from bench/reference_bridging.py, or None if absent."""
    path = Path(__file__).resolve().parents[2] / "bench" / "reference_bridging.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location("reference_bridging", path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("reference_bridging", module)
    spec.loader.exec_module(module)
    return module.reference_fit


def bridging_drift(
    society: Society,
    truth: np.ndarray,
    ratings: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    with_reference: bool,
) -> dict[str, float]:
    """Rank correlation of fitted intercepts with the hidden truth, per method.

    Computed on the items every method fits (the core), so the comparison is
    like for like. The reference is the independent gradient-descent
    implementation in ``bench/reference_bridging.py`` when it is importable.
    """
    r, i, v = ratings
    n_u, n_p = society.n_users, society.n_posts
    plain = fit_bridging(r, i, v, n_raters=n_u, n_items=n_p, robust=False)
    robust = fit_bridging(r, i, v, n_raters=n_u, n_items=n_p, robust=True)
    core = plain.item_flag == FLAG_FITTED
    out = {
        "core_items": float(core.sum()),
        "ours_plain": float(spearmanr(plain.item_intercept[core], truth[core])[0]),
        "ours_robust": float(spearmanr(robust.item_intercept[core], truth[core])[0]),
        "exposure_gate": float(robust.metrics.get("exposure_gate", 0.0)),
    }
    if with_reference:
        reference_fit = _load_reference()
        if reference_fit is None:
            return out
        ref = reference_fit(r, i, v, n_raters=n_u, n_items=n_p)
        out["reference"] = float(spearmanr(ref.item_intercept[core], truth[core])[0])
        out["robust_vs_reference_intercepts"] = float(
            spearmanr(robust.item_intercept[core], ref.item_intercept[core])[0]
        )
        out["plain_vs_reference_intercepts"] = float(
            spearmanr(plain.item_intercept[core], ref.item_intercept[core])[0]
        )
    return out


def run_simulation(
    *,
    users: int,
    posts: int,
    seed: int,
    feed_size: int = 30,
    eval_viewers: int = 300,
    ratings_per_rater: float = 40.0,
    classifier_noise: float = 0.15,
    n_bridging_candidates: int = 150,
    n_discovery_candidates: int = 150,
    with_reference: bool = True,
    progress: Any = None,
) -> dict[str, Any]:
    """Build the society, fit the signals, compare the three feeds."""

    # Native thread pools (OpenMP in scikit-learn, BLAS) oversubscribe a shared
    # machine for no gain at these sizes; one thread keeps timings honest.
    with threadpool_limits(limits=1):
        return _run(
            users=users,
            posts=posts,
            seed=seed,
            feed_size=feed_size,
            eval_viewers=eval_viewers,
            ratings_per_rater=ratings_per_rater,
            classifier_noise=classifier_noise,
            n_bridging_candidates=n_bridging_candidates,
            n_discovery_candidates=n_discovery_candidates,
            with_reference=with_reference,
            progress=progress,
        )


def _run(
    *,
    users: int,
    posts: int,
    seed: int,
    feed_size: int,
    eval_viewers: int,
    ratings_per_rater: float,
    classifier_noise: float,
    n_bridging_candidates: int,
    n_discovery_candidates: int,
    with_reference: bool,
    progress: Any,
) -> dict[str, Any]:
    def say(msg: str) -> None:
        if progress is not None:
            progress(msg)

    started = time.perf_counter()
    society = generate_society(users, posts, seed=seed)
    say(f"society: {users} users, {posts} posts")
    truth = bridging_truth(society)
    signals = rankers.observe(
        society,
        ratings_per_rater=ratings_per_rater,
        seed=seed,
        classifier_noise=classifier_noise,
    )
    say(f"signals: {int(signals.fit_info['n_ratings'])} ratings fitted")
    eng = rankers.train_engagement_model(
        society, signals, seed=seed, n_impressions=min(60_000, 30 * posts)
    )
    say(f"engagement model: train AUC {eng.train_auc:.3f}")
    rng = np.random.default_rng(seed + 3)
    viewers = np.sort(rng.choice(users, size=min(eval_viewers, users), replace=False))
    feeds: dict[str, dict[int, np.ndarray]] = {
        "chronological": {},
        "engagement": {},
        "charter": {},
    }
    charter_ms: list[float] = []
    pools: dict[int, np.ndarray] = {}
    for v in viewers.tolist():
        pools[v] = rankers.candidate_pool(
            society,
            signals,
            v,
            rng,
            n_bridging=n_bridging_candidates,
            n_discovery=n_discovery_candidates,
        )
        feeds["chronological"][v] = rankers.chronological_feed(society, v, feed_size)
        t = time.perf_counter()
        feeds["charter"][v] = rankers.charter_feed(
            society, signals, v, pools[v], feed_size, rankers.CHARTER_V1_LIKE
        )
        charter_ms.append((time.perf_counter() - t) * 1000)
    t = time.perf_counter()
    feeds["engagement"] = rankers.engagement_feeds(
        society, signals, eng, pools, feed_size
    )
    engagement_ms = (time.perf_counter() - t) * 1000 / max(len(pools), 1)
    say(f"feeds ranked for {viewers.size} viewers")
    table = {name: feed_metrics(society, truth, f) for name, f in feeds.items()}
    drift = bridging_drift(
        society, truth, signals.ratings, with_reference=with_reference
    )
    return {
        "label": LABEL,
        "parameters": {
            "users": users,
            "posts": posts,
            "seed": seed,
            "feed_size": feed_size,
            "eval_viewers": int(viewers.size),
            "ratings_per_rater": ratings_per_rater,
            "classifier_noise": classifier_noise,
            "candidates": (
                "chronological: followed authors only; engagement and charter: "
                f"followed authors + {n_bridging_candidates} top-bridging + "
                f"{n_discovery_candidates} random posts"
            ),
            "reaction_model": society.model.__dict__,
            "policy": rankers.CHARTER_V1_LIKE,
        },
        "metrics": table,
        "metric_labels": {k: {"label": lbl, "better": b} for k, lbl, b in METRICS},
        "bridging_drift": drift,
        "fit": {**signals.fit_info, "engagement_train_auc": eng.train_auc},
        "timing": {
            "charter_rank_ms_p50": float(np.percentile(charter_ms, 50)),
            "engagement_rank_ms_mean_batched": engagement_ms,
            "mean_candidates": float(np.mean([p.size for p in pools.values()])),
            "total_seconds": time.perf_counter() - started,
        },
    }

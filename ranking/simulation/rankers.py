"""The three feeds compared in the simulation, over one synthetic society.

SIMULATION — synthetic data.

- chronological: followed authors only, newest first (no profiling);
- engagement: a scikit-learn model of likes trained on logged impressions, ranking
  the same candidate pool as the charter feed by predicted like probability —
  what large platforms optimise;
- charter: ``ranking.ranker_core.rank`` under charter-v1-like weights, with
  bridging and consensus fitted on the simulated ratings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from ranking.bridging import fit_bridging
from ranking.consensus import NO_GROUP, fit_consensus
from ranking.ranker_core import Candidate, rank
from ranking.simulation.society import Society, like_prob, sample_ratings

# The values of charter/data/policy_v1.json at the time of writing, repeated here
# so that the simulation runs without a database.
CHARTER_V1_LIKE: dict[str, Any] = {
    "schema": "charter-policy/1",
    "objectives": [
        {"signal": "bridging", "weight": 1.0, "article": "2"},
        {"signal": "consensus", "weight": 0.6, "article": "2"},
        {"signal": "incivility", "weight": -1.5, "article": "1"},
        {"signal": "cross_cutting", "weight": 0.3, "article": "3"},
        {"signal": "recency", "weight": 0.4, "half_life_hours": 18, "article": "5"},
        {"signal": "affinity", "weight": 0.5, "article": "5"},
    ],
    "constraints": [
        {"kind": "max_author_share", "value": 0.2, "article": "3"},
        {"kind": "min_cross_cutting_share", "value": 0.25, "article": "2"},
        {"kind": "demote", "signal": "incivility", "above": 0.85, "article": "1"},
    ],
    "forbidden_signals": ["predicted_engagement", "dwell_time"],
    "feed": {"page_size": 30, "daily_limit": 300, "caught_up_marker": True},
    "user_controls": [],
}

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Signals:
    """What the platform can observe, per post and per user."""

    bridging: np.ndarray  # scaled to the registry range [-1, 1]
    bridging_raw: np.ndarray  # the fitted intercepts
    consensus: np.ndarray
    incivility: np.ndarray  # the classifier stand-in: hidden value + noise
    group: np.ndarray  # opinion group per user, NO_GROUP if unknown
    ratings: tuple[np.ndarray, np.ndarray, np.ndarray]
    fit_info: dict[str, float]


def observe(
    society: Society, *, ratings_per_rater: float, seed: int, classifier_noise: float
) -> Signals:
    """Sample ratings and fit the platform's signals on them."""
    rng = np.random.default_rng(seed + 1)
    r, i, v = sample_ratings(society, ratings_per_rater=ratings_per_rater, seed=seed)
    b = fit_bridging(r, i, v, n_raters=society.n_users, n_items=society.n_posts)
    c = fit_consensus(r, i, v, n_raters=society.n_users, n_items=society.n_posts)
    fitted = b.item_flag == 0
    spread = float(np.std(b.item_intercept[fitted])) if fitted.any() else 1.0
    # Intercepts are small numbers; three standard deviations map to the ends of
    # the registry's [-1, 1] range so that a weight of 1 means what it says.
    scaled = np.clip(b.item_intercept / max(3 * spread, 1e-9), -1.0, 1.0)
    noisy = society.incivility + rng.normal(0.0, classifier_noise, society.n_posts)
    return Signals(
        bridging=scaled,
        bridging_raw=b.item_intercept,
        consensus=c.item_consensus,
        incivility=np.clip(noisy, 0.0, 1.0),
        group=c.rater_group,
        ratings=(r, i, v),
        fit_info={
            "n_ratings": float(r.size),
            "bridging_fit_seconds": b.metrics["fit_seconds"],
            "bridging_core_items": b.metrics["n_core_items"],
            "exposure_gate": b.metrics.get("exposure_gate", 0.0),
            "opinion_groups": float(c.n_groups),
        },
    )


def candidate_pool(
    society: Society,
    signals: Signals,
    viewer: int,
    rng: np.random.Generator,
    *,
    n_bridging: int,
    n_discovery: int,
) -> np.ndarray:
    """Posts from followed authors, top-bridging posts, and a random sample."""
    followed = np.isin(society.post_author, society.follows[viewer])
    own = society.post_author == viewer
    pool = np.flatnonzero(followed & ~own)
    outside = np.flatnonzero(~followed & ~own)
    top = outside[np.argsort(-signals.bridging[outside], kind="stable")[:n_bridging]]
    rest = np.setdiff1d(outside, top)
    disc = rng.choice(rest, size=min(n_discovery, rest.size), replace=False)
    return np.unique(np.concatenate([pool, top, disc]))


def chronological_feed(society: Society, viewer: int, k: int) -> np.ndarray:
    followed = np.flatnonzero(np.isin(society.post_author, society.follows[viewer]))
    order = np.lexsort((-followed, -society.created_hours[followed]))
    return followed[order][:k]


def follow_keys(society: Society) -> np.ndarray:
    """Every (follower, followee) pair as one int64, for vectorised lookups."""
    return np.concatenate(
        [u * np.int64(society.n_users) + f for u, f in enumerate(society.follows)]
        or [np.empty(0, dtype=np.int64)]
    )


def _features(
    society: Society,
    signals: Signals,
    viewers: np.ndarray,
    posts: np.ndarray,
    early_likes: np.ndarray,
) -> np.ndarray:
    follows = np.isin(
        viewers.astype(np.int64) * society.n_users + society.post_author[posts],
        follow_keys(society),
    )
    g_v = signals.group[viewers]
    g_a = signals.group[society.post_author[posts]]
    same = ((g_v == g_a) & (g_v != NO_GROUP)).astype(np.float64)
    age = society.window_hours - society.created_hours[posts]
    return np.column_stack(
        [
            follows.astype(np.float64),
            same,
            signals.incivility[posts],
            age,
            early_likes[posts],
            g_v,
            g_a,
        ]
    )


@dataclass
class EngagementModel:
    model: HistGradientBoostingClassifier
    early_likes: np.ndarray
    train_auc: float


def train_engagement_model(
    society: Society, signals: Signals, *, seed: int, n_impressions: int
) -> EngagementModel:
    """Fit P(like) on logged impressions, as an engagement-optimising platform does.

    Each post is first shown to ten random users ("early likes", a popularity
    feature), then a log of random impressions with their likes is the training
    set. Features are what the platform sees: follow, same opinion group,
    classifier incivility, age, early likes, and both groups.
    """
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed + 2)
    m = society.model
    early_v = rng.integers(0, society.n_users, size=(society.n_posts, 10))
    p_early = like_prob(
        m,
        society.viewpoint[early_v],
        society.slant[:, None],
        society.quality[:, None],
        society.incivility[:, None],
    )
    early_likes = (rng.random(p_early.shape) < p_early).sum(axis=1).astype(float)
    viewers = rng.integers(0, society.n_users, n_impressions)
    posts = rng.integers(0, society.n_posts, n_impressions)
    p = like_prob(
        m,
        society.viewpoint[viewers],
        society.slant[posts],
        society.quality[posts],
        society.incivility[posts],
    )
    liked = rng.random(n_impressions) < p
    x = _features(society, signals, viewers, posts, early_likes)
    model = HistGradientBoostingClassifier(max_iter=150, random_state=seed)
    model.fit(x, liked)
    auc = float(roc_auc_score(liked, model.predict_proba(x)[:, 1]))
    return EngagementModel(model=model, early_likes=early_likes, train_auc=auc)


def engagement_feeds(
    society: Society,
    signals: Signals,
    eng: EngagementModel,
    pools: dict[int, np.ndarray],
    k: int,
) -> dict[int, np.ndarray]:
    """Top ``k`` of each viewer's pool by predicted like probability.

    One batched prediction for every viewer: per-viewer calls would pay the
    model's fixed overhead hundreds of times.
    """
    viewers = np.concatenate(
        [np.full(pool.size, v) for v, pool in pools.items()] or [np.empty(0, int)]
    )
    posts = np.concatenate(list(pools.values()) or [np.empty(0, int)])
    score = eng.model.predict_proba(
        _features(society, signals, viewers, posts, eng.early_likes)
    )[:, 1]
    out: dict[int, np.ndarray] = {}
    start = 0
    for v, pool in pools.items():
        s = score[start : start + pool.size]
        start += pool.size
        order = np.lexsort((-pool, -society.created_hours[pool], -s))
        out[v] = pool[order][:k]
    return out


def charter_candidates(
    society: Society, signals: Signals, viewer: int, pool: np.ndarray
) -> list[Candidate]:
    """The viewer's pool as ranker candidates with every charter signal."""
    follows = set(society.follows[viewer].tolist())
    g_v = int(signals.group[viewer])
    out = []
    for p in pool.tolist():
        author = int(society.post_author[p])
        g_a = int(signals.group[author])
        cross = float(g_v != NO_GROUP and g_a != NO_GROUP and g_a != g_v)
        out.append(
            Candidate(
                item_id=p,
                author_id=author,
                created_at=EPOCH + timedelta(hours=float(society.created_hours[p])),
                signals={
                    "bridging": float(signals.bridging[p]),
                    "consensus": float(signals.consensus[p]),
                    "incivility": float(signals.incivility[p]),
                },
                viewer_signals={
                    "cross_cutting": cross,
                    "affinity": 1.0 if author in follows else 0.0,
                },
            )
        )
    return out


def charter_feed(
    society: Society,
    signals: Signals,
    viewer: int,
    pool: np.ndarray,
    k: int,
    policy: dict[str, Any],
) -> np.ndarray:
    now = EPOCH + timedelta(hours=society.window_hours)
    cands = charter_candidates(society, signals, viewer, pool)
    result = rank(cands, policy, now=now, limit=k)
    return np.array([item.item_id for item in result.items], dtype=np.int64)

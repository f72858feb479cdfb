"""Opinion groups and cross-group consensus, in the manner of Polis.

Raters are placed in a low-dimensional space by a truncated SVD of their rating
matrix (helpful +1 … not helpful −1, unrated 0), then clustered with KMeans,
the number of groups chosen by silhouette in a small range. An item's consensus is
the *lowest* helpful share among the groups that rated it enough, each share
smoothed by a Beta prior so that three ratings cannot claim unanimity. Everything
is deterministic for a fixed ``random_state``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_matrix, diags
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.metrics import silhouette_score

NO_GROUP = -1


@dataclass(frozen=True)
class ConsensusResult:
    """Per-item consensus and per-rater opinion group."""

    # Lowest smoothed helpful share among qualifying groups; the prior mean where
    # fewer than ``min_groups`` groups qualify.
    item_consensus: np.ndarray
    # Number of groups that rated the item at least ``min_group_ratings`` times.
    item_groups_rating: np.ndarray
    # Opinion group per rater, NO_GROUP for raters with too few ratings.
    rater_group: np.ndarray
    n_groups: int
    metrics: dict[str, float] = field(default_factory=dict)


def _choose_k(
    points: np.ndarray, k_range: range, random_state: int, sample: int
) -> tuple[int, np.ndarray, float]:
    best: tuple[float, int, np.ndarray] | None = None
    rng = np.random.default_rng(random_state)
    idx = (
        rng.choice(points.shape[0], size=sample, replace=False)
        if points.shape[0] > sample
        else np.arange(points.shape[0])
    )
    for k in k_range:
        if k >= points.shape[0]:
            break
        km = KMeans(n_clusters=k, n_init=4, random_state=random_state)
        labels = km.fit_predict(points)
        if len(np.unique(labels[idx])) < 2:
            continue
        score = float(silhouette_score(points[idx], labels[idx]))
        # Strictly greater keeps the smallest k on ties: fewer groups are simpler.
        if best is None or score > best[0]:
            best = (score, k, labels)
    if best is None:
        return 1, np.zeros(points.shape[0], dtype=np.int64), 0.0
    return best[1], best[2], best[0]


def fit_consensus(
    rater_idx: np.ndarray,
    item_idx: np.ndarray,
    values: np.ndarray,
    *,
    n_raters: int,
    n_items: int,
    min_rater_ratings: int = 5,
    min_item_raters: int = 5,
    center: bool = False,
    n_components: int = 2,
    k_range: range = range(2, 6),
    min_group_ratings: int = 3,
    min_groups: int = 2,
    prior_helpful: float = 1.0,
    prior_unhelpful: float = 1.0,
    random_state: int = 0,
    silhouette_sample: int = 3000,
) -> ConsensusResult:
    """Find opinion groups among raters and each item's agreement across them.

    ``values`` are 1 (helpful), 0.5 (somewhat) or 0 (not helpful). Raters with
    fewer than ``min_rater_ratings`` ratings are not clustered (group NO_GROUP)
    and their ratings do not count towards any group's share. Only items with at
    least ``min_item_raters`` raters shape the groups (all items get a score).
    ``center=True`` centres votes per item as Polis does (see the comment below
    for why it is off by default). A group's helpful share is smoothed with a
    Beta(``prior_helpful``, ``prior_unhelpful``) prior and counts only if the
    group rated the item ``min_group_ratings`` times; with fewer than
    ``min_groups`` such groups the item gets the prior mean.
    """
    rater_idx = np.asarray(rater_idx, dtype=np.int64)
    item_idx = np.asarray(item_idx, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    if not (rater_idx.shape == item_idx.shape == values.shape):
        raise ValueError("rater_idx, item_idx and values must have the same length")
    if values.size and (values.min() < 0 or values.max() > 1):
        raise ValueError("values must be between 0 (not helpful) and 1 (helpful)")
    prior_mean = prior_helpful / (prior_helpful + prior_unhelpful)
    rater_group = np.full(n_raters, NO_GROUP, dtype=np.int64)
    counts = np.bincount(rater_idx, minlength=n_raters)
    active = np.flatnonzero(counts >= min_rater_ratings)
    empty = ConsensusResult(
        item_consensus=np.full(n_items, prior_mean),
        item_groups_rating=np.zeros(n_items, dtype=np.int64),
        rater_group=rater_group,
        n_groups=0,
    )
    if active.size < max(k_range.start, 2) * 2 or n_items < 2:
        return empty
    pos = np.full(n_raters, -1, dtype=np.int64)
    pos[active] = np.arange(active.size)
    sel = pos[rater_idx] >= 0
    signed = 2.0 * values[sel] - 1.0
    # Polis imputes a missing vote with the item's mean and centres the columns
    # (``center=True``). On sparse ratings that throws away the strongest
    # viewpoint signal — *which* items a rater chose to rate — so by default the
    # raw signed votes are decomposed instead (measured in the simulation: with
    # centring the groups mix the camps; without, two groups are near-pure camps).
    col_sum = center * np.bincount(item_idx[sel], weights=signed, minlength=n_items)
    col_cnt = np.bincount(item_idx[sel], minlength=n_items)
    signed = signed - (col_sum / np.maximum(col_cnt, 1))[item_idx[sel]]
    mat = csr_matrix(
        (signed, (pos[rater_idx[sel]], item_idx[sel])), shape=(active.size, n_items)
    )
    # Down-weight items many people rated (they would otherwise define the axes)
    # and put every rater on the unit sphere, so a prolific rater is not an
    # outlier just for having rated more: the geometry is that of cosine.
    col_n = np.bincount(item_idx[sel], minlength=n_items).astype(np.float64)
    # Items with very few raters carry no shared structure, only noise.
    col_w = np.where(
        col_n >= min_item_raters, 1.0 / np.sqrt(np.maximum(col_n, 1.0)), 0.0
    )
    mat = mat @ diags(col_w)
    row_norm = np.sqrt(np.asarray(mat.multiply(mat).sum(axis=1)).ravel())
    mat = diags(1.0 / np.maximum(row_norm, 1e-12)) @ mat
    k_comp = max(1, min(n_components, min(mat.shape) - 1))
    svd = TruncatedSVD(n_components=k_comp, random_state=random_state)
    points = svd.fit_transform(mat)
    k, labels, silhouette = _choose_k(points, k_range, random_state, silhouette_sample)
    # Relabel groups by size (largest first) so the labels are stable across runs
    # whatever order KMeans found them in.
    sizes = np.bincount(labels, minlength=k)
    order = np.lexsort((np.arange(k), -sizes))
    relabel = np.empty(k, dtype=np.int64)
    relabel[order] = np.arange(k)
    labels = relabel[labels]
    rater_group[active] = labels

    g = rater_group[rater_idx[sel]]
    it = item_idx[sel]
    flat = it * k + g
    n_rated = np.bincount(flat, minlength=n_items * k).reshape(n_items, k)
    helpful = np.bincount(flat, weights=values[sel], minlength=n_items * k).reshape(
        n_items, k
    )
    share = (helpful + prior_helpful) / (n_rated + prior_helpful + prior_unhelpful)
    qualifies = n_rated >= min_group_ratings
    n_q = qualifies.sum(axis=1)
    lowest = np.where(qualifies, share, np.inf).min(axis=1)
    consensus = np.where(n_q >= min_groups, lowest, prior_mean)
    return ConsensusResult(
        item_consensus=consensus,
        item_groups_rating=n_q.astype(np.int64),
        rater_group=rater_group,
        n_groups=k,
        metrics={
            "silhouette": silhouette,
            "n_clustered_raters": float(active.size),
            "explained_variance": float(svd.explained_variance_ratio_.sum()),
        },
    )

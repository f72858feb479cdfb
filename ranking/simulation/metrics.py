"""Feed metrics shared by the simulation and the impact preview."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from scipy.stats import kendalltau, spearmanr


def gini(counts: np.ndarray) -> float:
    """Gini coefficient of non-negative counts (0 = even, → 1 = concentrated)."""
    x = np.sort(np.asarray(counts, dtype=np.float64))
    n = x.size
    if n == 0 or x.sum() == 0:
        return 0.0
    cum = np.cumsum(x)
    return float((n + 1 - 2 * np.sum(cum) / cum[-1]) / n)


def author_gini(feeds: Iterable[Sequence[int]], authors: Sequence[int]) -> float:
    """Gini of how often each author appears across feeds, over ``authors``.

    ``authors`` is the population (every author who had a candidate), so authors
    never shown count as zeros: concentration is measured against who *could*
    have been shown.
    """
    index = {a: n for n, a in enumerate(sorted(set(authors)))}
    counts = np.zeros(len(index))
    for feed in feeds:
        for a in feed:
            counts[index[a]] += 1
    return gini(counts)


def top_k_overlap(a: Sequence[int], b: Sequence[int], k: int = 10) -> float:
    """Share of the first ``k`` items two rankings have in common."""
    ka, kb = list(a[:k]), list(b[:k])
    denom = max(len(ka), len(kb))
    return 1.0 if denom == 0 else len(set(ka) & set(kb)) / denom


def rank_correlations(a: Sequence[int], b: Sequence[int]) -> tuple[float, float]:
    """(Kendall τ, Spearman ρ) between two orderings of the same items."""
    if len(a) < 2:
        return 1.0, 1.0
    pos_b = {item: n for n, item in enumerate(b)}
    ra = np.arange(len(a))
    rb = np.array([pos_b[item] for item in a])
    tau = kendalltau(ra, rb)[0]
    rho = spearmanr(ra, rb)[0]
    return float(tau), float(rho)

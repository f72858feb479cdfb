"""Impact preview: how a proposed policy would change feeds, before a vote.

The same ranker and metrics as the simulation, applied to two policies over the
same candidate sets (real users' candidates in the amendment page, synthetic ones
in the simulation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from ranking.ranker_core import Candidate, rank
from ranking.simulation.metrics import author_gini, rank_correlations, top_k_overlap


def _feed_summary(feeds: dict[Any, list[Candidate]], k: int) -> dict[str, float]:
    """Charter metrics of the first ``k`` items, from the signals themselves."""
    shown = [feed[:k] for feed in feeds.values() if feed]
    if not shown:
        return {}

    def mean_of(name: str) -> float:
        found = [
            c.signals.get(name, c.viewer_signals.get(name))
            for feed in shown
            for c in feed
        ]
        vals = [float(v) for v in found if v is not None]
        return float(np.mean(vals)) if vals else float("nan")

    population = [c.author_id for feed in feeds.values() for c in feed]
    return {
        "mean_incivility": mean_of("incivility"),
        "mean_bridging": mean_of("bridging"),
        "mean_consensus": mean_of("consensus"),
        "cross_cutting_share": mean_of("cross_cutting"),
        "author_gini": author_gini(
            [[c.author_id for c in feed] for feed in shown], population
        ),
    }


def policy_impact(
    candidates_by_viewer: Mapping[Any, Sequence[Candidate]],
    policy_a: Mapping[str, Any],
    policy_b: Mapping[str, Any],
    *,
    now: datetime,
    k: int = 10,
) -> dict[str, Any]:
    """Compare two policies on the same viewers' candidates.

    Returns per-viewer and mean top-``k`` overlap and rank correlations (Kendall
    τ and Spearman ρ over each viewer's full candidate order), and the charter
    metrics of the top ``k`` under each policy.
    """
    per_viewer: dict[str, dict[str, float]] = {}
    ordered_a: dict[Any, list[Candidate]] = {}
    ordered_b: dict[Any, list[Candidate]] = {}
    for viewer, cands in candidates_by_viewer.items():
        by_id = {c.item_id: c for c in cands}
        ids_a = [i.item_id for i in rank(cands, policy_a, now=now).items]
        ids_b = [i.item_id for i in rank(cands, policy_b, now=now).items]
        tau, rho = rank_correlations(ids_a, ids_b)
        per_viewer[str(viewer)] = {
            "top_k_overlap": top_k_overlap(ids_a, ids_b, k),
            "kendall_tau": tau,
            "spearman_rho": rho,
        }
        ordered_a[viewer] = [by_id[i] for i in ids_a]
        ordered_b[viewer] = [by_id[i] for i in ids_b]
    rows = list(per_viewer.values())

    def mean(key: str) -> float:
        return float(np.mean([r[key] for r in rows])) if rows else float("nan")

    return {
        "viewers": len(rows),
        "k": k,
        "mean_top_k_overlap": mean("top_k_overlap"),
        "mean_kendall_tau": mean("kendall_tau"),
        "mean_spearman_rho": mean("spearman_rho"),
        "metrics_a": _feed_summary(ordered_a, k),
        "metrics_b": _feed_summary(ordered_b, k),
        "per_viewer": per_viewer,
    }

"""The simulation, its outputs and the impact preview built on the same code."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from ranking.ranker_core import Candidate
from ranking.simulation.impact import policy_impact
from ranking.simulation.metrics import gini, rank_correlations, top_k_overlap
from ranking.simulation.rankers import CHARTER_V1_LIKE
from ranking.simulation.report import write_outputs
from ranking.simulation.run import LABEL, run_simulation
from ranking.simulation.society import (
    CAMP_LEFT,
    CAMP_RIGHT,
    bridging_truth,
    generate_society,
    like_prob,
)

SMALL = {"users": 80, "posts": 600, "seed": 3, "eval_viewers": 8}


@pytest.fixture(scope="module")
def small_result() -> dict:
    return run_simulation(**SMALL, with_reference=False)


def test_result_has_every_feed_and_metric_and_is_labelled(small_result) -> None:
    assert small_result["label"] == LABEL
    assert set(small_result["metrics"]) == {"chronological", "engagement", "charter"}
    for metrics in small_result["metrics"].values():
        assert set(metrics) == {
            "incivility_exposure",
            "cross_cutting_share",
            "mean_quality",
            "bridging_truth",
            "author_gini",
            "expected_likes",
        }
        assert all(np.isfinite(v) for v in metrics.values())
    drift = small_result["bridging_drift"]
    assert {"ours_plain", "ours_robust"} <= set(drift)


def test_same_seed_gives_the_same_table(small_result) -> None:
    again = run_simulation(**SMALL, with_reference=False)
    assert again["metrics"] == small_result["metrics"]
    assert again["bridging_drift"] == small_result["bridging_drift"]


def test_outputs_are_written_and_labelled(small_result, tmp_path: Path) -> None:
    paths = write_outputs(small_result, tmp_path)
    for path in paths.values():
        assert LABEL in path.read_text(encoding="utf-8")
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert data["metrics"]["charter"] == small_result["metrics"]["charter"]
    assert (
        paths["chart"]
        .read_text(encoding="utf-8")
        .lstrip()
        .startswith(("<?xml", "<svg"))
    )


def test_simulate_command_writes_the_three_files(tmp_path: Path, capsys) -> None:
    call_command(
        "simulate",
        "--users",
        "60",
        "--posts",
        "400",
        "--seed",
        "2",
        "--viewers",
        "5",
        "--no-reference",
        "--out",
        str(tmp_path),
    )
    out = capsys.readouterr().out
    assert LABEL in out
    assert "| Incivility exposure" in out
    assert {p.name for p in tmp_path.iterdir()} == {
        "simulation.json",
        "simulation.md",
        "simulation.svg",
    }


def test_outrage_draws_likes_in_the_reaction_model() -> None:
    society = generate_society(50, 50, seed=1, follows_per_user=3)
    m = society.model
    civil = like_prob(m, np.array(1.0), np.array(1.0), np.array(0.0), np.array(0.0))
    angry = like_prob(m, np.array(1.0), np.array(1.0), np.array(0.0), np.array(0.9))
    assert angry > civil


def test_bridging_truth_is_the_less_favourable_camp() -> None:
    society = generate_society(300, 200, seed=4, follows_per_user=3)
    truth = bridging_truth(society)
    # A strongly slanted post: truth is bounded by the opposing camp's reaction.
    p = int(np.argmax(society.slant))
    left = society.camp == CAMP_LEFT
    right = society.camp == CAMP_RIGHT
    assert left.any() and right.any()
    assert 0.0 <= truth.min() <= truth.max() <= 1.0
    from ranking.simulation.society import helpful_prob

    left_mean = helpful_prob(
        society.model,
        society.viewpoint[left],
        society.slant[p],
        society.quality[p],
        society.incivility[p],
    ).mean()
    assert truth[p] == pytest.approx(left_mean, abs=0.05)


def test_gini_overlap_and_rank_correlation() -> None:
    assert gini(np.array([1, 1, 1, 1])) == pytest.approx(0.0)
    assert gini(np.array([0, 0, 0, 10])) == pytest.approx(0.75)
    assert top_k_overlap([1, 2, 3], [3, 2, 1], k=3) == 1.0
    assert top_k_overlap([1, 2, 3, 4], [5, 6, 1, 2], k=2) == 0.0
    assert rank_correlations([1, 2, 3], [3, 2, 1]) == pytest.approx((-1.0, -1.0))


def _viewer_candidates() -> dict[int, list[Candidate]]:
    rng = np.random.default_rng(0)
    now = datetime(2026, 11, 29, tzinfo=UTC)
    out = {}
    for viewer in range(4):
        out[viewer] = [
            Candidate(
                item_id=n,
                author_id=int(rng.integers(0, 15)),
                created_at=now - timedelta(hours=float(rng.uniform(0, 40))),
                signals={
                    "bridging": float(rng.uniform(-1, 1)),
                    "consensus": float(rng.uniform(0, 1)),
                    "incivility": float(rng.uniform(0, 1)),
                },
                viewer_signals={
                    "cross_cutting": float(rng.random() < 0.3),
                    "affinity": float(rng.random() < 0.2),
                },
            )
            for n in range(60)
        ]
    return out


def test_impact_of_an_unchanged_policy_is_nil() -> None:
    now = datetime(2026, 11, 29, tzinfo=UTC)
    cands = _viewer_candidates()
    impact = policy_impact(cands, CHARTER_V1_LIKE, CHARTER_V1_LIKE, now=now)
    assert impact["viewers"] == 4
    assert impact["mean_top_k_overlap"] == 1.0
    assert impact["mean_kendall_tau"] == pytest.approx(1.0)
    assert impact["metrics_a"] == impact["metrics_b"]


def test_impact_of_dropping_the_incivility_penalty_shows_in_the_metrics() -> None:
    now = datetime(2026, 11, 29, tzinfo=UTC)
    cands = _viewer_candidates()
    lax = copy.deepcopy(CHARTER_V1_LIKE)
    lax["objectives"] = [o for o in lax["objectives"] if o["signal"] != "incivility"]
    lax["constraints"] = [c for c in lax["constraints"] if c["kind"] != "demote"]
    impact = policy_impact(cands, CHARTER_V1_LIKE, lax, now=now)
    assert impact["mean_top_k_overlap"] < 1.0
    assert impact["mean_kendall_tau"] < 1.0
    assert (
        impact["metrics_b"]["mean_incivility"] > impact["metrics_a"]["mean_incivility"]
    )

"""The pure ranker: scores, demotions, constraints, determinism, explanations."""

from __future__ import annotations

import copy
import math
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ranking.ranker_core import (
    Candidate,
    RankResult,
    chronological,
    page_budget,
    rank,
)

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)

POLICY: dict[str, Any] = {
    "schema": "charter-policy/1",
    "objectives": [
        {"signal": "bridging", "weight": 1.0, "article": "2"},
        {"signal": "incivility", "weight": -1.5, "article": "1"},
        {"signal": "recency", "weight": 0.4, "half_life_hours": 18, "article": "5"},
        {"signal": "cross_cutting", "weight": 0.2, "article": "2"},
    ],
    "constraints": [
        {"kind": "max_author_share", "value": 0.2, "article": "4"},
        {"kind": "min_cross_cutting_share", "value": 0.25, "article": "2"},
        {"kind": "demote", "signal": "incivility", "above": 0.85, "article": "1"},
    ],
    "forbidden_signals": ["predicted_engagement", "dwell_time"],
    "feed": {"page_size": 10, "daily_limit": 300, "caught_up_marker": True},
    "user_controls": [{"signal": "bridging", "min": 0.5, "max": 2.0}],
}


def _cand(
    item_id: int,
    author: int = 1,
    *,
    hours: float = 1.0,
    bridging: float = 0.0,
    incivility: float = 0.1,
    cross: float = 0.0,
    **extra: float,
) -> Candidate:
    return Candidate(
        item_id=item_id,
        author_id=author,
        created_at=NOW - timedelta(hours=hours),
        signals={"bridging": bridging, "incivility": incivility, **extra},
        viewer_signals={"cross_cutting": cross},
    )


def _ids(result: RankResult) -> list[int]:
    return [item.item_id for item in result.items]


# --- hypothesis strategies -----------------------------------------------------

candidate_lists = st.lists(
    st.builds(
        lambda a, h, b, inc, cc, pe: (a, h, b, inc, cc, pe),
        st.integers(0, 6),
        st.floats(0, 72),
        st.floats(-1, 1),
        st.floats(0, 1),
        st.sampled_from([0.0, 1.0]),
        st.floats(0, 1),
    ),
    min_size=0,
    max_size=40,
)


def _build(rows: list[tuple]) -> list[Candidate]:
    return [
        Candidate(
            item_id=n,
            author_id=a,
            created_at=NOW - timedelta(hours=h),
            signals={"bridging": b, "incivility": inc, "predicted_engagement": pe},
            viewer_signals={"cross_cutting": cc},
        )
        for n, (a, h, b, inc, cc, pe) in enumerate(rows)
    ]


@settings(max_examples=60, deadline=None)
@given(rows=candidate_lists, seed=st.integers(0, 10_000))
def test_same_candidates_in_any_order_give_the_same_ranking(rows, seed) -> None:
    cands = _build(rows)
    shuffled = cands[:]
    random.Random(seed).shuffle(shuffled)
    a = rank(cands, POLICY, now=NOW)
    b = rank(shuffled, POLICY, now=NOW)
    assert _ids(a) == _ids(b)
    assert [i.score for i in a.items] == [i.score for i in b.items]
    assert [i.reasons for i in a.items] == [i.reasons for i in b.items]


@settings(max_examples=60, deadline=None)
@given(rows=candidate_lists, engagement=st.lists(st.floats(-1e6, 1e6), max_size=40))
def test_forbidden_signals_never_change_the_order(rows, engagement) -> None:
    cands = _build(rows)
    baseline = _ids(rank(cands, POLICY, now=NOW))
    noisy = [
        Candidate(
            c.item_id,
            c.author_id,
            c.created_at,
            {**c.signals, "predicted_engagement": e, "dwell_time": e},
            {**c.viewer_signals, "predicted_engagement": e},
        )
        for c, e in zip(cands, engagement + [0.0] * len(cands), strict=False)
    ]
    # Even a policy that tries to weigh them (validation should have refused
    # it) cannot make them count.
    sneaky = copy.deepcopy(POLICY)
    sneaky["objectives"].append(
        {"signal": "predicted_engagement", "weight": 5.0, "article": "9"}
    )
    sneaky["constraints"].append(
        {"kind": "demote", "signal": "dwell_time", "above": 0.0, "article": "9"}
    )
    result = rank(noisy, sneaky, now=NOW)
    assert _ids(result) == baseline
    assert "predicted_engagement" not in result.weights
    assert set(result.ignored_signals) == {"predicted_engagement", "dwell_time"}


@settings(max_examples=80, deadline=None)
@given(rows=candidate_lists)
def test_page_constraints_hold_whenever_the_candidates_allow(rows) -> None:
    cands = _build(rows)
    by_id = {c.item_id: c for c in cands}
    result = rank(cands, POLICY, now=NOW)
    ids = _ids(result)
    assert sorted(ids) == sorted(by_id)
    size = POLICY["feed"]["page_size"]
    cap = math.floor(0.2 * size)
    for start in range(0, len(ids), size):
        page = ids[start : start + size]
        later = ids[start + size :]
        counts = Counter(by_id[i].author_id for i in page)
        over = [a for a, n in counts.items() if n > cap]
        if over:
            # Allowed only when nothing from an author under the cap was left.
            assert all(counts[by_id[i].author_id] >= cap for i in later)
        need = math.ceil(0.25 * len(page))
        cross = sum(by_id[i].viewer_signals["cross_cutting"] >= 0.5 for i in page)
        if cross < need:
            assert not any(
                by_id[i].viewer_signals["cross_cutting"] >= 0.5
                and counts[by_id[i].author_id] < cap
                for i in later
            )


# --- examples ------------------------------------------------------------------


def test_score_is_the_weighted_sum_and_ties_break_by_recency_then_id() -> None:
    cands = [
        _cand(1, 1, bridging=0.5, hours=2),
        _cand(2, 2, bridging=0.5, hours=1),
        _cand(3, 3, bridging=0.5, hours=1),
        _cand(4, 4, bridging=0.9, hours=1),
    ]
    policy = {"objectives": [{"signal": "bridging", "weight": 2.0, "article": "2"}]}
    result = rank(cands, policy, now=NOW)
    assert _ids(result) == [4, 3, 2, 1]
    assert result.items[0].score == pytest.approx(1.8)
    assert result.items[0].contributions == {"bridging": pytest.approx(1.8)}


def test_recency_halves_every_half_life() -> None:
    policy = {
        "objectives": [
            {"signal": "recency", "weight": 1.0, "half_life_hours": 10, "article": "5"}
        ]
    }
    result = rank([_cand(1, hours=0), _cand(2, hours=10)], policy, now=NOW)
    scores = {i.item_id: i.score for i in result.items}
    assert scores[1] == pytest.approx(1.0)
    assert scores[2] == pytest.approx(0.5)


def test_demoted_item_goes_below_every_other_and_says_why() -> None:
    cands = [_cand(1, 1, bridging=1.0, incivility=0.9), _cand(2, 2, bridging=-1.0)]
    result = rank(cands, POLICY, now=NOW)
    assert _ids(result) == [2, 1]
    demoted = result.items[1]
    (record,) = demoted.demotions
    assert (record.rule, record.signal, record.article) == ("demote", "incivility", "1")
    assert record.value == pytest.approx(0.9)
    assert record.threshold == pytest.approx(0.85)
    assert "above the limit 0.85" in str(demoted.reasons[0])
    assert str(demoted.reasons[0]).endswith("— Article 1")


def test_user_multiplier_is_clamped_to_the_charter_bounds() -> None:
    cands = [_cand(1, bridging=0.5)]
    base = {"objectives": [{"signal": "bridging", "weight": 1.0, "article": "2"}]}
    base["user_controls"] = [{"signal": "bridging", "min": 0.5, "max": 2.0}]
    assert rank(cands, base, now=NOW, user_multipliers={"bridging": 10}).weights == {
        "bridging": 2.0
    }
    assert rank(cands, base, now=NOW, user_multipliers={"bridging": 0}).weights == {
        "bridging": 0.5
    }
    # A signal without user controls cannot be tuned.
    weights = rank(cands, POLICY, now=NOW, user_multipliers={"incivility": 0.0}).weights
    assert weights["incivility"] == -1.5


def test_cross_cutting_item_is_pulled_onto_the_page_with_a_placement_reason() -> None:
    inside = [_cand(n, n, bridging=0.9) for n in range(1, 10)]
    outside = [_cand(100, 100, bridging=-0.9, cross=1.0)]
    policy = copy.deepcopy(POLICY)
    policy["feed"]["page_size"] = 4
    result = rank(inside + outside, policy, now=NOW, limit=4)
    assert _ids(result)[-1] == 100
    assert result.items[-1].reasons[0].kind == "placement"
    assert "outside your usual circle" in str(result.items[-1].reasons[0])


def test_author_cap_spreads_a_prolific_author_across_pages() -> None:
    cands = [_cand(n, 1, bridging=0.9) for n in range(10)] + [
        _cand(100 + n, 2 + n, bridging=0.0) for n in range(10)
    ]
    result = rank(cands, POLICY, now=NOW)
    first_page = result.items[:10]
    assert sum(1 for i in first_page if i.author_id == 1) == 2
    assert not any(
        note.startswith("page 1:") and "authors" in note for note in result.unmet
    )


def test_unsatisfiable_constraint_fills_the_page_and_reports_it() -> None:
    cands = [_cand(n, 1) for n in range(5)]
    result = rank(cands, POLICY, now=NOW)
    assert len(result.items) == 5
    assert any("too few authors" in note for note in result.unmet)
    assert any("outside the viewer's circle" in note for note in result.unmet)


def test_explanations_use_registry_words_and_articles() -> None:
    result = rank([_cand(1, bridging=0.9, incivility=0.0)], POLICY, now=NOW)
    texts = [str(r) for r in result.items[0].reasons]
    assert "people who usually disagree both found this helpful — Article 2" in texts
    assert "its language is civil — Article 1" in texts


def test_limit_returns_the_head_of_the_full_ranking() -> None:
    rng = random.Random(4)
    cands = [
        _cand(
            n, rng.randrange(8), bridging=rng.uniform(-1, 1), cross=rng.random() < 0.3
        )
        for n in range(50)
    ]
    full = _ids(rank(cands, POLICY, now=NOW))
    assert _ids(rank(cands, POLICY, now=NOW, limit=13)) == full[:13]


def test_unknown_signal_or_constraint_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown signal 'virality'"):
        rank([], {"objectives": [{"signal": "virality", "weight": 1.0}]}, now=NOW)
    with pytest.raises(ValueError, match="unknown constraint kind"):
        rank([], {"constraints": [{"kind": "boost"}]}, now=NOW)


def test_chronological_is_newest_first() -> None:
    cands = [_cand(1, hours=3), _cand(2, hours=1), _cand(3, hours=2)]
    assert [c.item_id for c in chronological(cands)] == [2, 3, 1]


def test_page_budget_respects_daily_limit_and_caught_up_marker() -> None:
    policy = {"feed": {"page_size": 30, "daily_limit": 100, "caught_up_marker": True}}
    first = page_budget(policy, served_today=0, remaining_candidates=500)
    assert (first.next_page, first.caught_up) == (30, False)
    near = page_budget(policy, served_today=90, remaining_candidates=500)
    assert (near.next_page, near.caught_up) == (10, True)
    done = page_budget(policy, served_today=100, remaining_candidates=500)
    assert (done.next_page, done.caught_up) == (0, True)
    few = page_budget(policy, served_today=0, remaining_candidates=12)
    assert (few.next_page, few.caught_up) == (12, True)
    policy["feed"]["caught_up_marker"] = False
    assert not page_budget(policy, served_today=100, remaining_candidates=5).caught_up

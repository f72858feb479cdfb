"""Opinion groups and cross-group consensus."""

from __future__ import annotations

import numpy as np
import pytest

from ranking.consensus import NO_GROUP, fit_consensus


def _two_camps(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """60 raters in two camps of 30 rating 40 items.

    Items 0-4 are liked by everyone, items 5-9 are divisive (camp A only), the
    rest split the camps the same way with some noise.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for rater in range(60):
        camp_a = rater < 30
        for item in range(40):
            if rng.random() < 0.25:
                continue
            if item < 5:
                value = 1.0
            elif item < 10:
                value = 1.0 if camp_a else 0.0
            else:
                liked = (item % 2 == 0) == camp_a
                value = float(liked) if rng.random() < 0.9 else 1.0 - float(liked)
            rows.append((rater, item, value))
    r, i, v = (np.array(col) for col in zip(*rows, strict=True))
    return r.astype(np.int64), i.astype(np.int64), v


def test_groups_recover_the_camps() -> None:
    r, i, v = _two_camps()
    result = fit_consensus(r, i, v, n_raters=61, n_items=40)
    groups = result.rater_group
    assert result.n_groups >= 2
    # Every group is (almost) pure: the camps are not mixed.
    for g in range(result.n_groups):
        members = np.flatnonzero(groups == g)
        share_a = np.mean(members < 30)
        assert share_a < 0.1 or share_a > 0.9
    # Rater 60 never rated anything: no group.
    assert groups[60] == NO_GROUP


def test_consensus_is_high_for_shared_items_and_low_for_divisive_ones() -> None:
    r, i, v = _two_camps()
    result = fit_consensus(r, i, v, n_raters=60, n_items=40)
    shared = result.item_consensus[:5]
    divisive = result.item_consensus[5:10]
    assert shared.min() > 0.85
    assert divisive.max() < 0.15
    assert (result.item_groups_rating[:10] >= 2).all()


def test_prior_keeps_thin_items_away_from_unanimity() -> None:
    r, i, v = _two_camps()
    # Item 40: three helpful ratings from camp A, one from camp B.
    r = np.concatenate([r, [0, 1, 2, 31]])
    i = np.concatenate([i, [40, 40, 40, 40]])
    v = np.concatenate([v, [1.0, 1.0, 1.0, 1.0]])
    result = fit_consensus(r, i, v, n_raters=60, n_items=41)
    # Only one group rated it 3+ times: not enough groups, so the prior mean.
    assert result.item_groups_rating[40] <= 1
    assert result.item_consensus[40] == pytest.approx(0.5)


def test_fit_is_deterministic() -> None:
    r, i, v = _two_camps()
    a = fit_consensus(r, i, v, n_raters=60, n_items=40, random_state=3)
    perm = np.random.default_rng(9).permutation(r.size)
    b = fit_consensus(
        r[perm], i[perm], v[perm], n_raters=60, n_items=40, random_state=3
    )
    assert np.array_equal(a.rater_group, b.rater_group)
    assert np.allclose(a.item_consensus, b.item_consensus)


def test_too_few_raters_gives_no_groups_and_the_prior() -> None:
    result = fit_consensus(
        np.array([0, 1]), np.array([0, 0]), np.array([1.0, 0.0]), n_raters=2, n_items=1
    )
    assert result.n_groups == 0
    assert (result.rater_group == NO_GROUP).all()
    assert result.item_consensus[0] == pytest.approx(0.5)


def test_values_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError, match="between 0"):
        fit_consensus(
            np.array([0]), np.array([0]), np.array([3.0]), n_raters=1, n_items=1
        )

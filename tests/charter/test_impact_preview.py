# ruff: noqa: F811  (pytest fixtures imported from the ranking tests are parameters)
"""The amendment page's impact preview: real feeds, the feed's own candidate code."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.test import Client

from charter.services import amendment_propose
from ranking import candidates, impact_preview
from ranking.simulation.impact import policy_impact
from tests.ranking.world import World, _fresh_cache, world  # noqa: F401


def _propose(board: list[Any], policy: dict[str, Any]) -> Any:
    return amendment_propose(
        proposer=board[0],
        title="Lean on voices from outside",
        rationale="Wider feeds.",
        policy=policy,
    )


@pytest.fixture
def cross_heavy(active_charter: Any) -> dict[str, Any]:
    policy = copy.deepcopy(active_charter.policy)
    for objective in policy["objectives"]:
        if objective["signal"] == "cross_cutting":
            objective["weight"] = 3.0
    return policy


@pytest.mark.django_db
def test_preview_is_computed_on_real_feeds_with_the_feed_code(
    world: World, board: list[Any], cross_heavy: dict[str, Any]
) -> None:
    amendment = _propose(board, cross_heavy)
    preview = impact_preview.impact_preview_for(
        amendment_id=amendment.pk,
        proposed_policy=amendment.policy,
        proposed_sha=amendment.policy_sha256,
    )
    assert preview is not None
    # Everyone who posted in the window: the viewer, 8 friends, 3 others.
    assert preview["viewers"] == 12
    assert 0.0 <= preview["mean_top_k_overlap"] < 1.0
    # The same figures as policy_impact over candidates_build at that time.
    models = candidates.models_active()
    by_viewer = {
        u.pk: candidates.candidates_build(
            viewer=u, as_of=preview["computed_at"], models=models, ensure_missing=False
        ).candidates
        for u in impact_preview.impact_sample()
    }
    direct = policy_impact(
        {k: v for k, v in by_viewer.items() if v},
        world_policy(board),
        amendment.policy,
        now=preview["computed_at"],
    )
    assert preview["mean_top_k_overlap"] == pytest.approx(direct["mean_top_k_overlap"])
    assert preview["mean_kendall_tau"] == pytest.approx(direct["mean_kendall_tau"])
    # Cached per (amendment, policy versions): the second call is the first result.
    again = impact_preview.impact_preview_for(
        amendment_id=amendment.pk,
        proposed_policy=amendment.policy,
        proposed_sha=amendment.policy_sha256,
    )
    assert again is not None and again["computed_at"] == preview["computed_at"]


def world_policy(board: list[Any]) -> dict[str, Any]:
    from charter.selectors import policy_active

    return policy_active()


@pytest.mark.django_db
def test_unchanged_policy_keeps_every_top_ten(
    world: World, board: list[Any], active_charter: Any
) -> None:
    same = copy.deepcopy(active_charter.policy)
    same["feed"]["daily_limit"] = 299  # a change that cannot move any item
    amendment = _propose(board, same)
    preview = impact_preview.impact_preview_for(
        amendment_id=amendment.pk,
        proposed_policy=amendment.policy,
        proposed_sha=amendment.policy_sha256,
    )
    assert preview is not None
    assert preview["mean_top_k_overlap"] == pytest.approx(1.0)
    assert preview["mean_kendall_tau"] == pytest.approx(1.0)


@pytest.mark.django_db
def test_amendment_page_shows_the_labelled_preview(
    world: World, board: list[Any], cross_heavy: dict[str, Any]
) -> None:
    amendment = _propose(board, cross_heavy)
    client = Client()
    client.force_login(world.viewer)
    response = client.get(f"/charter/amendments/{amendment.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="impact-preview"' in html
    assert "Computed on the real feeds of 12 users at" in html
    assert "The charter metrics are estimates." in html
    assert "Top-10 overlap" in html and "Mean incivility of the top 10" in html


@pytest.mark.django_db
def test_preview_without_recent_posts_says_so(
    board: list[Any], cross_heavy: dict[str, Any]
) -> None:
    amendment = _propose(board, cross_heavy)
    response = Client().get(f"/charter/amendments/{amendment.pk}/")
    assert response.status_code == 200
    assert "no real feeds to compare" in response.content.decode()

"""Ranker inputs read from the database (ranking.candidates)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from feed import selectors as feed_selectors
from feed.models import Block, Follow, User
from ranking.candidates import viewer_inputs_for
from ranking.preferences import item_feedback_for, item_feedback_set
from tests.ranking.world import World


@pytest.mark.django_db
def test_viewer_inputs_match_the_selectors_they_stand_for(
    world: World, make_user: Callable[..., User], django_assert_num_queries: object
) -> None:
    # Hidden three ways: muted (the world's), blocked by the viewer, blocking
    # the viewer; one of them also followed, which must not count as followed.
    blocked, blocker = make_user("blockedone"), make_user("blockerone")
    Block.objects.create(blocker=world.viewer, blocked=blocked)
    Block.objects.create(blocker=blocker, blocked=world.viewer)
    Follow.objects.create(follower=world.viewer, followee=blocker, priority=2)
    Follow.objects.filter(follower=world.viewer, followee=world.friends[1]).update(
        priority=-1
    )
    item_feedback_set(user=world.viewer, post_id=world.posts["f2_0"].id, more=True)
    item_feedback_set(user=world.viewer, post_id=world.posts["bridge"].id, more=False)

    with django_assert_num_queries(1):  # type: ignore[operator]
        inputs = viewer_inputs_for(viewer=world.viewer)

    hidden = feed_selectors.hidden_author_ids(viewer=world.viewer, include_muted=True)
    assert (
        inputs.hidden
        == frozenset(hidden)
        == {
            world.muted.id,
            blocked.id,
            blocker.id,
        }
    )
    follows = dict(
        Follow.objects.filter(follower=world.viewer).values_list(
            "followee_id", "priority"
        )
    )
    assert inputs.priorities == {k: v for k, v in follows.items() if k not in hidden}
    assert inputs.priorities[world.friends[1].id] == -1
    assert sorted(inputs.feedback) == sorted(item_feedback_for(user=world.viewer))
    assert (world.posts["bridge"].id, world.outsider.id, False) in inputs.feedback


@pytest.mark.django_db
def test_viewer_inputs_of_a_new_account_are_empty(
    make_user: Callable[..., User],
) -> None:
    inputs = viewer_inputs_for(viewer=make_user("newbie"))
    assert inputs.priorities == {} and not inputs.hidden and inputs.feedback == ()

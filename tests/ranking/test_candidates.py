"""What the ranked feed reads from the database before ranking (ranking.context)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from feed import selectors as feed_selectors
from feed.models import Block, Follow, User
from ranking.candidates import models_active
from ranking.context import feed_context_for, viewer_inputs_for
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


@pytest.mark.django_db
def test_feed_context_matches_the_selectors_it_stands_for(
    world: World, django_assert_num_queries: object
) -> None:
    from django.utils import timezone

    from charter.selectors import policy_active_record
    from ranking.preferences import feed_preference_get, feed_preference_set

    feed_preference_set(user=world.viewer, mode="tuned", multipliers={"bridging": 1.5})
    now = timezone.now()
    with django_assert_num_queries(1):  # type: ignore[operator]
        context = feed_context_for(viewer=world.viewer, at=now)
    pref = feed_preference_get(user=world.viewer)
    assert (context.mode, context.multipliers) == (pref.mode, pref.multipliers)
    assert context.policy_record == policy_active_record(at=now)
    models = models_active()
    assert context.models.versions == models.versions == {"consensus": 1}
    assert context.models.hashes == models.hashes
    assert context.models.incivility_active is models.incivility_active is False
    assert context.models.consensus is not None and models.consensus is not None
    assert context.models.consensus.pk == models.consensus.pk
    assert context.inputs == viewer_inputs_for(viewer=world.viewer)


@pytest.mark.django_db
def test_feed_context_before_any_charter_or_preference(
    make_user: Callable[..., User],
) -> None:
    from django.utils import timezone

    context = feed_context_for(viewer=make_user("early"), at=timezone.now())
    assert context.policy_record is None
    assert (context.mode, context.multipliers) == ("ranked", {})
    assert context.models.versions == {} and context.models.consensus is None


@pytest.mark.django_db
def test_columns_and_candidate_objects_rank_alike(world: World) -> None:
    """The feed ranks columns built straight from rows; the objects built from
    them (impact preview, replay, tests) must rank the same, with the same
    scores and reasons, and show the same demotions."""
    from django.utils import timezone

    from charter.selectors import policy_active
    from ranking.candidates import candidates_build
    from ranking.feed import demotions_due
    from ranking.ranker_core import rank
    from tests.ranking.world import store_signals

    store_signals("incivility", {world.posts["f4_1"].id: 0.9})
    item_feedback_set(user=world.viewer, post_id=world.posts["f6_2"].id, more=True)
    cset = candidates_build(
        viewer=world.viewer, as_of=timezone.now(), models=models_active()
    )
    policy = policy_active()
    now = timezone.now()
    from_columns = rank(cset.columns, policy, now=now, overrides=cset.overrides)
    from_objects = rank(cset.candidates, policy, now=now, overrides=cset.overrides)
    assert from_columns == from_objects
    assert len(from_columns.items) == len(cset) == 51

    # The demotions, worked out from the objects the way a reader would.
    rules = [c for c in policy["constraints"] if c["kind"] == "demote"]
    expected = [
        (c.item_id, rule["signal"], c.signals[rule["signal"]])
        for c in cset.candidates
        for rule in rules
        if c.signals.get(rule["signal"], -1.0) > rule["above"]
        and cset.overrides.get(c.item_id) != "restore"
    ]
    got = [(pid, d.signal, d.value) for pid, d in demotions_due(cset, policy)]
    assert got == expected
    assert {pid for pid, *_ in got} == {world.posts["rude"].id, world.posts["f4_1"].id}
    # Notes and versions come per item, as the page needs them.
    bridge = world.posts["bridge"].id
    assert any("You don't follow the author" in n for n in cset.notes_of(bridge))
    assert cset.versions_of(bridge) == {
        "incivility": 1,
        "bridging": 1,
        "consensus": 1,
    }
    assert "No bridging score yet" in " ".join(cset.notes_of(world.posts["own"].id))


@pytest.mark.django_db
def test_candidate_queries_read_what_the_orm_reads(
    world: World, make_user: Callable[..., User]
) -> None:
    """On PostgreSQL the candidate rows come from fixed SQL text; it must read
    the same rows, in the same order, as the ORM queries SQLite runs."""
    from django.db import connection
    from django.utils import timezone

    from accountability.decisions import override_create
    from ranking import candidate_rows as rows
    from tests.ranking.world import store_signals

    if connection.vendor != "postgresql":
        pytest.skip("the SQL text is PostgreSQL's; elsewhere the ORM is used")
    store_signals("bridging", {world.posts["plain_stranger"].id: 0.35})
    override_create(
        post_id=world.posts["f1_1"].id,
        effect="demote",
        reason="Test.",
        decided_by=make_user("mod", is_moderator=True),
        article="1",
    )
    now = timezone.now()
    home_authors = [f.id for f in world.friends] + [world.viewer.id]
    excluded = [*home_authors, world.muted.id]
    fast = rows.candidate_rows(
        as_of=now, home_authors=home_authors, excluded_authors=excluded
    )
    orm = rows._orm_candidate_rows(
        as_of=now, home_authors=home_authors, excluded_authors=excluded
    )
    assert len(fast[0]) == 50 and len(fast[1]) == 2
    for fast_rows, orm_rows in zip(fast, orm, strict=True):
        assert [r[:2] + r[3:] for r in fast_rows] == [r[:2] + r[3:] for r in orm_rows]
        assert [rows.epoch_us(r[2]) for r in fast_rows] == [
            rows.epoch_us(r[2]) for r in orm_rows
        ]
    assert tuple({r[9] for r in fast[0] if r[9]}) == ("demote",)

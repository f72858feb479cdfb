"""Ranked sessions (ranking.sessions): a ranking serves reloads and later pages
only while nothing it depends on has changed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accountability.decisions import override_create
from feed.models import User
from feed.services import (
    block_create,
    follow_create,
    mute_create,
    post_create,
    post_delete,
)
from ranking import candidates, sessions
from ranking import feed as ranked
from ranking.preferences import feed_preference_set, item_feedback_set
from ranking.ranker_core import rank
from ranking.services import post_signals_compute
from tests.ranking import world as feed_world
from tests.ranking.world import World


@pytest.fixture
def rankings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the rankings done for the feed, one entry each."""
    done: list[int] = []
    real = ranked.rank

    def counting(*args: Any, **kwargs: Any) -> Any:
        done.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(ranked, "rank", counting)
    return done


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the full candidate reads (not extensions), one entry each."""
    done: list[int] = []
    real = ranked.candidates_build

    def counting(**kwargs: Any) -> candidates.CandidateSet:
        done.append(1)
        return real(**kwargs)

    monkeypatch.setattr(ranked, "candidates_build", counting)
    return done


def _load(viewer: User, **kwargs: Any) -> ranked.FeedPage:
    return ranked.feed_for(viewer=viewer, **kwargs)


@pytest.mark.django_db
def test_reload_with_nothing_changed_serves_the_same_ranking(
    world: World, rankings: list[int]
) -> None:
    first = _load(world.viewer)
    again = _load(world.viewer, now=timezone.now() + timedelta(seconds=30))
    assert len(rankings) == 1
    assert feed_world.ids_of(again) == feed_world.ids_of(first)
    assert again.explanations == first.explanations
    # The same session, so the same as_of behind the next page.
    assert again.next_cursor == first.next_cursor


@pytest.mark.django_db
def test_session_page_equals_a_fresh_ranking_at_its_as_of(world: World) -> None:
    first = _load(world.viewer, now=world.now)
    second = _load(world.viewer, cursor=first.next_cursor, now=world.now)
    cset = candidates.candidates_build(
        viewer=world.viewer, as_of=world.now, models=candidates.models_active()
    )
    from charter.selectors import policy_active

    fresh = rank(
        cset.candidates, policy_active(), now=world.now, overrides=cset.overrides
    )
    assert feed_world.ids_of(first) + feed_world.ids_of(second) == [
        i.item_id for i in fresh.items
    ]


@pytest.mark.django_db
def test_an_old_session_is_ranked_again(world: World, rankings: list[int]) -> None:
    _load(world.viewer, now=world.now)
    _load(world.viewer, now=world.now + sessions.SESSION_REUSE - timedelta(seconds=1))
    assert len(rankings) == 1
    _load(world.viewer, now=world.now + sessions.SESSION_REUSE + timedelta(seconds=1))
    assert len(rankings) == 2


@pytest.mark.django_db
def test_a_new_post_in_reach_ranks_afresh(world: World, rankings: list[int]) -> None:
    _load(world.viewer)
    post = post_create(author=world.friends[2], body="Fresh from the allotment.")
    assert post.id in feed_world.all_pages(world.viewer)
    assert len(rankings) == 2


@pytest.mark.django_db
def test_a_post_outside_reach_does_not_end_the_session(
    world: World, rankings: list[int]
) -> None:
    _load(world.viewer)
    post_create(author=world.stranger, body="Nobody follows me.")
    _load(world.viewer)
    assert len(rankings) == 1


@pytest.mark.django_db
def test_a_deleted_post_in_reach_ranks_afresh(
    world: World, rankings: list[int]
) -> None:
    _load(world.viewer)
    gone = world.posts["f3_2"]
    post_delete(user=world.friends[3], post_id=gone.id)
    _load(world.viewer)
    assert len(rankings) == 2


@pytest.mark.django_db
def test_a_deleted_post_is_replaced_by_the_next_ranked_one(
    world: World, rankings: list[int]
) -> None:
    first = _load(world.viewer)
    second = _load(world.viewer, cursor=first.next_cursor)
    # The outside post is not in the viewer's home window, so deleting it
    # leaves the session standing; its place goes to the next stored item.
    gone = world.posts["bridge"].id
    assert gone in feed_world.ids_of(first)
    post_delete(user=world.outsider, post_id=gone)
    again = _load(world.viewer)
    assert len(rankings) == 1
    assert (
        feed_world.ids_of(again)
        == [i for i in feed_world.ids_of(first) if i != gone]
        + feed_world.ids_of(second)[:1]
    )
    # The next page starts after the item that filled the gap.
    rest = _load(world.viewer, cursor=again.next_cursor)
    assert feed_world.ids_of(rest) == feed_world.ids_of(second)[1:]


@pytest.mark.django_db
def test_following_someone_shows_their_posts_at_once(
    world: World, make_user: Callable[..., User]
) -> None:
    newcomer = make_user("newcomer")
    theirs = feed_world.make_post(
        newcomer, "Hello, neighbours.", world.now - timedelta(minutes=1)
    )
    assert theirs.id not in feed_world.all_pages(world.viewer)
    follow_create(follower=world.viewer, followee_id=newcomer.id)
    assert theirs.id in feed_world.all_pages(world.viewer)


@pytest.mark.django_db
def test_muting_or_being_blocked_hides_posts_at_once(world: World) -> None:
    first = _load(world.viewer)
    top_author = first.items[0].author
    mute_create(muter=world.viewer, muted_id=top_author.id)
    assert all(p.author_id != top_author.id for p in _load(world.viewer).items)
    second_author = next(p.author for p in first.items if p.author_id != top_author.id)
    block_create(blocker=second_author, blocked_id=world.viewer.id)
    assert all(p.author_id != second_author.id for p in _load(world.viewer).items)


@pytest.mark.django_db
def test_show_less_like_this_reranks_at_once(world: World) -> None:
    before = feed_world.all_pages(world.viewer)
    target = world.posts["f0_0"].id
    item_feedback_set(user=world.viewer, post_id=target, more=False)
    assert feed_world.all_pages(world.viewer).index(target) > before.index(target)


@pytest.mark.django_db
def test_an_override_applies_at_once(
    world: World, make_user: Callable[..., User]
) -> None:
    before = feed_world.all_pages(world.viewer)
    target = world.posts["f0_0"].id
    override_create(
        post_id=target,
        effect="demote",
        reason="Repeated misinformation.",
        decided_by=make_user("mod", is_moderator=True),
        article="1",
    )
    after = feed_world.all_pages(world.viewer)
    # Below every undemoted post: only the rude (demoted) post may follow it.
    assert after.index(target) > before.index(target)
    assert after.index(target) >= len(after) - 2
    reasons = feed_world.all_explanations(world.viewer, now=timezone.now())[
        target
    ].reasons
    assert any(r["kind"] == "override" for r in reasons)


@pytest.mark.django_db
def test_tuning_the_feed_ranks_afresh(world: World, rankings: list[int]) -> None:
    feed_preference_set(user=world.viewer, mode="tuned")
    _load(world.viewer)
    feed_preference_set(user=world.viewer, multipliers={"bridging": 2.0})
    _load(world.viewer)
    assert len(rankings) == 2


@pytest.mark.django_db
def test_new_model_versions_rank_afresh(world: World, rankings: list[int]) -> None:
    first = _load(world.viewer)
    feed_world.activate_groups({world.viewer.id: 1, world.outsider.id: 1})
    page = _load(world.viewer)
    assert len(rankings) == 2
    assert page.model_versions["consensus"] == first.model_versions["consensus"] + 1
    assert all(
        ex.model_versions == page.model_versions for ex in page.explanations.values()
    )


@pytest.mark.django_db
def test_later_pages_come_from_the_session_after_a_new_post(
    world: World, rankings: list[int]
) -> None:
    first = _load(world.viewer)
    post_create(author=world.friends[0], body="Arrived between two pages.")
    second = _load(world.viewer, cursor=first.next_cursor)
    assert len(rankings) == 1
    assert not set(feed_world.ids_of(first)) & set(feed_world.ids_of(second))
    assert len(feed_world.ids_of(first)) + len(feed_world.ids_of(second)) == 51


@pytest.mark.django_db
def test_a_session_with_unscored_posts_is_reused_briefly(
    world: World, rankings: list[int]
) -> None:
    feed_world.activate_tiny_incivility("sessions")
    # Scores every candidate but leaves 60 new ones unscored: more than the
    # page scores on the request path.
    post_signals_compute(post_ids=[p.id for p in world.posts.values()])
    for n in range(60):
        feed_world.make_post(
            world.friends[n % 8], f"Unscored {n}", world.now - timedelta(hours=1)
        )
    start = timezone.now()
    _load(world.viewer, now=start)
    stored = sessions.session_get(viewer_id=world.viewer.id, mode="ranked")
    assert stored is not None and stored.unscored > 0
    _load(world.viewer, now=start + sessions.SESSION_REUSE_UNSCORED / 2)
    assert len(rankings) == 1
    _load(world.viewer, now=start + sessions.SESSION_REUSE_UNSCORED * 2)
    assert len(rankings) == 2


@pytest.mark.django_db
def test_without_a_cache_every_page_is_ranked(
    world: World, rankings: list[int], settings: Any
) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    }
    from django.core.cache import caches

    caches._settings = None  # type: ignore[attr-defined]
    first = _load(world.viewer)
    again = _load(world.viewer)
    assert len(rankings) == 2
    assert feed_world.ids_of(again) == feed_world.ids_of(first)


def _fresh_ids(viewer: User) -> list[int]:
    """Every page of a ranking from candidates read afresh (nothing kept)."""
    from django.core.cache import cache

    cache.delete(sessions._candidates_key(viewer.id))
    cache.delete(sessions.session_key(viewer_id=viewer.id, mode="ranked"))
    return feed_world.all_pages(viewer)


@pytest.mark.django_db
def test_new_posts_extend_the_kept_candidates_exactly(
    world: World, reads: list[int], rankings: list[int]
) -> None:
    feed_world.all_pages(world.viewer)
    posts = [
        post_create(author=world.friends[n % 8], body=f"Fresh note {n}.")
        for n in range(3)
    ]
    extended = feed_world.all_pages(world.viewer)
    # Read once; the new posts were added to the kept candidates, and the
    # viewer was ranked again.
    assert len(reads) == 1 and len(rankings) == 2
    assert {p.id for p in posts} <= set(extended)
    assert extended == _fresh_ids(world.viewer)


@pytest.mark.django_db
def test_extension_keeps_the_newest_home_posts_under_the_cap(
    world: World, reads: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ranking import candidate_rows

    monkeypatch.setattr(candidate_rows, "HOME_CAP", 20)
    monkeypatch.setattr(candidates, "HOME_CAP", 20)
    feed_world.all_pages(world.viewer)
    for n in range(4):
        post_create(author=world.friends[n], body=f"Over the cap {n}.")
    extended = feed_world.all_pages(world.viewer)
    assert len(reads) == 1
    # 20 home posts and the outside one, as a fresh read gives.
    assert len(extended) == 21
    assert extended == _fresh_ids(world.viewer)


@pytest.mark.django_db
def test_kept_candidates_are_read_again_when_extending_is_not_exact(
    world: World, reads: list[int], make_user: Callable[..., User]
) -> None:
    feed_world.all_pages(world.viewer)
    # Deleted: the window lost a post the kept candidates hold.
    post_delete(user=world.friends[3], post_id=world.posts["f3_2"].id)
    feed_world.all_pages(world.viewer)
    assert len(reads) == 2
    # Inserted with an earlier date: not among the posts "since".
    feed_world.make_post(world.friends[1], "Backdated.", world.now - timedelta(days=1))
    feed_world.all_pages(world.viewer)
    assert len(reads) == 3
    # Different inputs: a new follow.
    follow_create(follower=world.viewer, followee_id=make_user("newer").id)
    feed_world.all_pages(world.viewer)
    assert len(reads) == 4
    # And each of those equals a fresh ranking.
    assert feed_world.all_pages(world.viewer) == _fresh_ids(world.viewer)


@pytest.mark.django_db
def test_unscored_new_posts_are_scored_when_kept_candidates_are_extended(
    world: World, reads: list[int]
) -> None:
    feed_world.activate_tiny_incivility("extend")
    post_signals_compute(post_ids=[p.id for p in world.posts.values()])
    feed_world.all_pages(world.viewer)
    rude = post_create(author=world.friends[2], body="shut up you idiot moron")
    extended = feed_world.all_explanations(world.viewer, now=timezone.now())
    assert len(reads) == 1
    assert not any("incivility score yet" in n for n in extended[rude.id].notes)
    assert extended[rude.id].demoted

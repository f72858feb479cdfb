"""Reads of the social core: timelines, cursors, visibility, search."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from feed import selectors, services
from feed.models import Post
from feed.selectors import Cursor

pytestmark = pytest.mark.django_db


def ids(page: selectors.Page) -> list[int]:
    return [p.id for p in page.items]


def walk(fetch, *, between_pages=None) -> list[int]:
    """Every id of a timeline, page by page, calling `between_pages` after each page."""
    seen: list[int] = []
    cursor = None
    while True:
        page = fetch(cursor)
        seen.extend(ids(page))
        if between_pages:
            between_pages()
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


# Cursor pagination --------------------------------------------------------------------


def test_pages_stay_stable_when_newer_posts_arrive_between_fetches(
    make_user, make_post
):
    alice = make_user("alice")
    original = [make_post(alice).id for _ in range(10)]

    def fetch(cursor):
        return selectors.timeline_public(viewer=None, cursor=cursor, limit=3)

    seen = walk(fetch, between_pages=lambda: make_post(alice))
    assert seen == list(reversed(original))  # no duplicates, no gaps, newest first
    assert Post.objects.count() == 10 + 4


def test_posts_sharing_a_timestamp_are_paged_by_id_without_loss(make_user, make_post):
    alice = make_user("alice")
    posts = [make_post(alice).id for _ in range(7)]
    Post.objects.update(created_at=timezone.now())
    seen = walk(
        lambda cursor: selectors.timeline_public(viewer=None, cursor=cursor, limit=2)
    )
    assert seen == sorted(posts, reverse=True)


def test_home_pagination_under_inserts_by_followed_accounts(make_user, make_post):
    alice, bob = make_user("alice"), make_user("bob")
    services.follow_create(follower=alice, followee_id=bob.id)
    original = [make_post(bob if i % 2 else alice).id for i in range(9)]
    seen = walk(
        lambda cursor: selectors.timeline_home(viewer=alice, cursor=cursor, limit=4),
        between_pages=lambda: make_post(bob),
    )
    assert seen == list(reversed(original))


def test_cursor_round_trips_and_rejects_tampering():
    cursor = Cursor(created_at=datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC), id=42)
    assert Cursor.decode(cursor.encode()) == cursor
    for bad in (
        "",
        "@@@",
        "bm90IGEgY3Vyc29y",
        Cursor(datetime(2026, 1, 1), 1).encode().replace("A", "B"),
    ):
        with pytest.raises(ValidationError):
            Cursor.decode(bad)


def test_naive_cursor_time_is_refused():
    naive = Cursor(created_at=datetime(2026, 1, 1), id=1).encode()
    with pytest.raises(ValidationError, match="cursor"):
        Cursor.decode(naive)


@pytest.mark.parametrize(
    ("raw", "expected"), [(None, 30), ("", 30), ("1", 1), (100, 100)]
)
def test_page_size_clean_accepts(raw, expected):
    assert selectors.page_size_clean(raw) == expected


@pytest.mark.parametrize("raw", ["0", "101", "x", "1.5", -4])
def test_page_size_clean_refuses(raw):
    with pytest.raises(ValidationError, match="limit"):
        selectors.page_size_clean(raw)


def test_home_selector_runs_a_fixed_number_of_queries(
    make_user, make_post, django_assert_num_queries
):
    alice = make_user("alice")
    for _ in range(6):
        author = make_user()
        services.follow_create(follower=alice, followee_id=author.id)
        post = make_post(author, "hello")
        services.like_create(user=alice, post_id=post.id)
        make_post(author, "a reply", parent=post)
    # blocks and mutes (one union), the page, the viewer's likes and ratings
    with django_assert_num_queries(3):
        page = selectors.timeline_home(viewer=alice, limit=50)
        for post in page.items:
            assert post.author.username  # no lazy author loads
            if post.parent_id:
                assert post.parent.author.username
    assert len(page.items) == 12


# Visibility ---------------------------------------------------------------------------


def test_home_has_own_and_followed_minus_muted(make_user, make_post):
    alice, bob, carol, dave = (make_user(n) for n in ("alice", "bob", "carol", "dave"))
    for other in (bob, carol):
        services.follow_create(follower=alice, followee_id=other.id)
    own, bobs, carols = make_post(alice), make_post(bob), make_post(carol)
    make_post(dave)
    services.mute_create(muter=alice, muted_id=carol.id)
    assert ids(selectors.timeline_home(viewer=alice)) == [bobs.id, own.id]
    assert carols.id not in ids(selectors.timeline_public(viewer=alice))
    assert carols.id in ids(selectors.timeline_public(viewer=None))


def test_blocks_hide_both_ways_everywhere(make_user, make_post):
    alice, bob = make_user("alice"), make_user("bob")
    alices, bobs = make_post(alice, "alice gardens"), make_post(bob, "bob gardens")
    services.block_create(blocker=alice, blocked_id=bob.id)
    assert alices.id not in ids(selectors.timeline_public(viewer=bob))
    assert bobs.id not in ids(selectors.timeline_public(viewer=alice))
    with pytest.raises(Http404):
        selectors.timeline_profile(viewer=bob, author=alice)
    with pytest.raises(Http404):
        selectors.user_get_for_viewer(viewer=bob, username="alice")
    with pytest.raises(Http404):
        selectors.post_get_for_viewer(viewer=bob, post_id=alices.id)
    assert selectors.users_search(viewer=bob, query="alice") == []
    assert [p.id for p in selectors.posts_search(viewer=bob, query="gardens")] == [
        bobs.id
    ]
    # The blocker can still look the account up to lift the block.
    assert selectors.user_get_by_username(username="BOB") == bob


def test_thread_hides_blocked_replies_but_not_muted_ones(make_user, make_post):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    root = make_post(alice)
    bobs = make_post(bob, parent=root)
    carols = make_post(carol, parent=bobs)
    services.block_create(blocker=alice, blocked_id=bob.id)
    services.mute_create(muter=alice, muted_id=carol.id)
    post, posts, _ = selectors.thread_for(viewer=alice, post_id=carols.id)
    assert post.id == carols.id
    assert [p.id for p in posts] == [root.id, carols.id]


def test_viewer_reactions_and_relationship(make_user, make_post):
    alice, bob = make_user("alice"), make_user("bob")
    p1, p2 = make_post(bob), make_post(bob)
    services.like_create(user=alice, post_id=p1.id)
    services.rating_set(user=alice, post_id=p2.id, value="unhelpful")
    services.follow_create(follower=alice, followee_id=bob.id)
    assert selectors.viewer_reactions_for(viewer=alice, posts=[p1, p2]) == {
        p1.id: {"liked": True, "rating": None},
        p2.id: {"liked": False, "rating": -1},
    }
    assert selectors.relationship_for(viewer=alice, other=bob) == {
        "following": True,
        "followed_by": False,
        "muting": False,
        "blocking": False,
    }
    assert selectors.profile_stats(user=bob) == {
        "posts": 2,
        "followers": 1,
        "following": 0,
    }


def test_post_get_for_viewer_treats_junk_ids_as_missing(db):
    for junk in ("abc", None, 10**30, -1):
        with pytest.raises(Http404):
            selectors.post_get_for_viewer(viewer=None, post_id=junk)
        with pytest.raises(Http404):
            selectors.thread_for(viewer=None, post_id=junk)


def test_thread_runs_a_fixed_number_of_queries_and_loads_every_parent(
    make_user, make_post, django_assert_num_queries
):
    alice, bob = make_user("alice"), make_user("bob")
    root = make_post(alice)
    replies = [make_post(bob, parent=root)]
    for _ in range(5):
        replies.append(make_post(alice, parent=replies[-1]))
    # the post's author and root, blocks both ways, the thread, the viewer's
    # likes and ratings
    with django_assert_num_queries(4):
        post, posts, reactions = selectors.thread_for(
            viewer=alice, post_id=replies[2].id
        )
        assert post.id == replies[2].id
        assert [p.id for p in posts] == [root.id, *(r.id for r in replies)]
        for reply in posts[1:]:
            assert reply.parent.author.username in ("alice", "bob")
        assert posts[0].parent is None
    assert set(reactions) == {p.id for p in posts}


def test_thread_reads_a_parent_hidden_by_a_block_in_one_more_query(
    make_user, make_post, django_assert_num_queries
):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    root = make_post(carol)
    bobs = make_post(bob, parent=root)
    carols = make_post(carol, parent=bobs)
    services.block_create(blocker=alice, blocked_id=bob.id)
    with django_assert_num_queries(5):
        _, posts, _ = selectors.thread_for(viewer=alice, post_id=carols.id)
        assert [p.id for p in posts] == [root.id, carols.id]
        # Bob's post is hidden from the thread, yet the reply still says whom
        # it answers, as the page always showed.
        assert posts[1].parent.author.username == "bob"


def test_thread_finds_the_post_past_the_end_of_a_long_thread(
    make_user, make_post, monkeypatch
):
    monkeypatch.setattr(selectors, "THREAD_MAX_POSTS", 3)
    alice = make_user("alice")
    root = make_post(alice)
    chain = [root]
    for _ in range(4):
        chain.append(make_post(alice, parent=chain[-1]))
    post, posts, _ = selectors.thread_for(viewer=None, post_id=chain[-1].id)
    assert [p.id for p in posts] == [p.id for p in chain[:3]]
    assert post.id == chain[-1].id
    assert post.parent.id == chain[-2].id
    assert post.author.username == "alice"


def test_thread_of_a_post_hidden_by_a_block_is_404_both_ways(make_user, make_post):
    alice, bob = make_user("alice"), make_user("bob")
    root = make_post(alice)
    bobs = make_post(bob, parent=root)
    services.block_create(blocker=bob, blocked_id=alice.id)
    with pytest.raises(Http404):
        selectors.thread_for(viewer=alice, post_id=bobs.id)
    _, posts, _ = selectors.thread_for(viewer=alice, post_id=root.id)
    assert [p.id for p in posts] == [root.id]


def test_hidden_accounts_are_blocks_both_ways_and_own_mutes_in_one_query(
    make_user, django_assert_num_queries
):
    alice = make_user("alice")
    blocked, blocker, muted, muter, stranger = (make_user() for _ in range(5))
    services.block_create(blocker=alice, blocked_id=blocked.id)
    services.block_create(blocker=blocker, blocked_id=alice.id)
    services.mute_create(muter=alice, muted_id=muted.id)
    # Being muted by someone, or others' blocks, hide nobody from Alice.
    services.mute_create(muter=muter, muted_id=alice.id)
    services.block_create(blocker=stranger, blocked_id=muter.id)
    with django_assert_num_queries(1):
        assert selectors.hidden_author_ids(viewer=alice, include_muted=False) == (
            sorted([blocked.id, blocker.id])
        )
    with django_assert_num_queries(1):
        assert selectors.hidden_author_ids(viewer=alice, include_muted=True) == (
            sorted([blocked.id, blocker.id, muted.id])
        )


@pytest.mark.parametrize(
    "relations",
    [
        set(),
        {"following"},
        {"followed_by"},
        {"following", "followed_by"},
        {"muting"},
        {"blocking"},
        {"following", "followed_by", "muting"},
        # A block ends the follows both ways, so it never meets one.
        {"muting", "blocking"},
    ],
    ids=lambda r: "+".join(sorted(r)) or "strangers",
)
def test_relationship_is_one_query_whatever_it_holds(
    make_user, django_assert_num_queries, relations
):
    alice, bob = make_user("alice"), make_user("bob")
    if "following" in relations:
        services.follow_create(follower=alice, followee_id=bob.id)
    if "followed_by" in relations:
        services.follow_create(follower=bob, followee_id=alice.id)
    if "muting" in relations:
        services.mute_create(muter=alice, muted_id=bob.id)
    if "blocking" in relations:
        services.block_create(blocker=alice, blocked_id=bob.id)
    # Bob's own mute and block of Alice are his, not part of her buttons.
    services.mute_create(muter=bob, muted_id=alice.id)
    with django_assert_num_queries(1):
        relationship = selectors.relationship_for(viewer=alice, other=bob)
    assert {name for name, on in relationship.items() if on} == relations


# Search -------------------------------------------------------------------------------


def test_post_search_matches_words_and_skips_muted(make_user, make_post):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    hit = make_post(alice, "The community garden opens on Saturday")
    muted = make_post(carol, "garden party at the community hall")
    make_post(bob, "Nothing about plants")
    services.mute_create(muter=bob, muted_id=carol.id)
    assert [
        p.id for p in selectors.posts_search(viewer=bob, query="community garden")
    ] == [hit.id]
    assert {p.id for p in selectors.posts_search(viewer=None, query="garden")} == {
        hit.id,
        muted.id,
    }


@pytest.mark.skipif(
    not settings.IS_POSTGRES,
    reason="stemming and ranking are PostgreSQL full-text features",
)
def test_postgres_search_stems_and_ranks(make_user, make_post):
    alice = make_user("alice")
    once = make_post(alice, "A garden")
    twice = make_post(alice, "Gardening tips for gardens and gardeners")
    make_post(alice, "guard the den")
    assert [p.id for p in selectors.posts_search(viewer=None, query="gardens")] == [
        twice.id,
        once.id,
    ]
    # websearch syntax: quoted phrases and exclusions.
    assert [
        p.id for p in selectors.posts_search(viewer=None, query="garden -tips")
    ] == [once.id]


@pytest.mark.skipif(
    settings.IS_POSTGRES, reason="the SQLite fallback matches substrings"
)
def test_sqlite_search_matches_substrings_of_every_term(make_user, make_post):
    alice = make_user("alice")
    both = make_post(alice, "Gardening and bees")
    make_post(alice, "Gardening alone")
    assert [p.id for p in selectors.posts_search(viewer=None, query="garden BEE")] == [
        both.id
    ]


def test_user_search_by_username_or_display_name(make_user):
    make_user("alice", display_name="Gardener Alice")
    make_user("gardenbot")
    make_user("zed")
    found = [u.username for u in selectors.users_search(viewer=None, query="garden")]
    assert found == ["alice", "gardenbot"]


@pytest.mark.parametrize("raw", [None, "", " a ", "x" * 201])
def test_search_query_clean_refuses(raw):
    with pytest.raises(ValidationError):
        selectors.search_query_clean(raw)


def test_notifications_newest_first(make_user):
    alice = make_user("alice")
    first, second = make_user("f1"), make_user("f2")
    services.follow_create(follower=first, followee_id=alice.id)
    services.follow_create(follower=second, followee_id=alice.id)
    assert [n.actor.username for n in selectors.notifications_for(user=alice)] == [
        "f2",
        "f1",
    ]
    assert selectors.notifications_unread_count(user=alice) == 2


def test_profile_timeline_includes_replies(make_user, make_post):
    alice, bob = make_user("alice"), make_user("bob")
    root = make_post(bob)
    reply = make_post(alice, parent=root)
    own = make_post(alice)
    assert ids(selectors.timeline_profile(viewer=None, author=alice)) == [
        own.id,
        reply.id,
    ]


def test_old_cursor_still_works_after_its_post_is_deleted(make_user, make_post):
    alice = make_user("alice")
    posts = [make_post(alice) for _ in range(4)]
    first = selectors.timeline_public(viewer=None, limit=2)
    services.post_delete(user=alice, post_id=first.items[-1].id)
    rest = selectors.timeline_public(viewer=None, cursor=first.next_cursor, limit=2)
    assert ids(rest) == [posts[1].id, posts[0].id]

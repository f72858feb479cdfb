"""seed_demo and seed_scale write consistent, deterministic data on either backend."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.db.models import F
from django.utils import timezone

from feed.models import Follow, Like, Mention, Notification, Post, Rating, Report, User
from feed.seeding.demo import demo_plan
from feed.seeding.scale import scale_plan
from feed.seeding.text import DEMO_PASSWORD, JABS

FIXED_NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _seed_demo(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def _assert_counters_match_rows() -> None:
    likes = Counter(Like.objects.values_list("post_id", flat=True))
    helpful = Counter(Rating.objects.filter(value=1).values_list("post_id", flat=True))
    unhelpful = Counter(
        Rating.objects.filter(value=-1).values_list("post_id", flat=True)
    )
    replies = Counter(
        Post.objects.exclude(parent=None).values_list("parent_id", flat=True)
    )
    mismatched = [
        row["id"]
        for row in Post.objects.values(
            "id", "like_count", "reply_count", "helpful_count", "unhelpful_count"
        )
        if (
            row["like_count"],
            row["reply_count"],
            row["helpful_count"],
            row["unhelpful_count"],
        )
        != (
            likes[row["id"]],
            replies[row["id"]],
            helpful[row["id"]],
            unhelpful[row["id"]],
        )
    ]
    assert mismatched == []


def _assert_threads_consistent() -> None:
    replies = Post.objects.exclude(parent=None).select_related("parent")
    for reply in replies:
        assert reply.parent is not None
        assert reply.root_id == (reply.parent.root_id or reply.parent_id)
        assert reply.created_at >= reply.parent.created_at
    assert not Rating.objects.filter(user_id=F("post__author_id")).exists()


@pytest.mark.django_db(transaction=False)
def test_seed_demo_builds_a_living_society_whose_counters_match_its_rows() -> None:
    before = timezone.now()
    output = _seed_demo()

    assert User.objects.filter(is_superuser=False).count() >= 60
    assert Post.objects.count() >= 600
    assert Post.objects.exclude(parent=None).count() >= 150
    assert Follow.objects.count() >= 300
    assert Like.objects.count() >= 1000
    assert (
        Rating.objects.filter(value=1).exists()
        and Rating.objects.filter(value=-1).exists()
    )
    assert User.objects.exclude(display_name="").exclude(bio="").count() >= 60
    _assert_counters_match_rows()
    _assert_threads_consistent()

    oldest = Post.objects.order_by("created_at").first()
    assert oldest is not None and oldest.created_at >= before - timedelta(days=14)
    assert not Post.objects.filter(created_at__gt=timezone.now()).exists()
    # Mentions and reply notifications exist exactly where the bodies say so.
    for mention in Mention.objects.select_related("post", "user")[:50]:
        assert mention.post.body.startswith(f"@{mention.user.username} ")
    assert Notification.objects.filter(kind=Notification.Kind.REPLY).exists()
    # Some posts are uncivil, and the uncivil ones draw more likes than the rest.
    jabs = [jab for stance_jabs in JABS.values() for jab in stance_jabs]
    uncivil = [p for p in Post.objects.all() if any(j in p.body for j in jabs)]
    civil_likes = Post.objects.exclude(id__in=[p.id for p in uncivil]).values_list(
        "like_count", flat=True
    )
    assert 0.03 * Post.objects.count() < len(uncivil) < 0.3 * Post.objects.count()
    assert np.mean([p.like_count for p in uncivil]) > 1.5 * np.mean(list(civil_likes))
    assert Report.objects.filter(status=Report.Status.OPEN).exists()

    assert User.objects.filter(is_moderator=True).count() == 2
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    alice = User.objects.get(username="alice")
    assert alice.check_password(DEMO_PASSWORD)
    assert f"Demo logins: alice / {DEMO_PASSWORD}" in output
    assert "Admin login: admin / " in output


@pytest.mark.django_db
def test_seed_demo_society_has_two_camps_that_mostly_follow_and_endorse_their_own() -> (
    None
):
    _seed_demo("--scale", "0.5", "--seed", "11")
    stance = {
        p.username: p.stance
        for p in demo_plan(seed=11, scale=0.5, now=FIXED_NOW).personas
    }
    assert set(stance.values()) == {"people", "moving", "moderate"}
    follows = Follow.objects.values_list("follower__username", "followee__username")
    camp_pairs = [
        (stance[a], stance[b])
        for a, b in follows
        if "moderate" not in (stance[a], stance[b])
    ]
    within = sum(1 for a, b in camp_pairs if a == b)
    bridges = len(camp_pairs) - within
    assert within > 0.75 * len(camp_pairs)
    assert bridges > 0

    # Ratings across camps are mostly unhelpful, within a camp mostly helpful.
    ratings = Rating.objects.values_list(
        "user__username", "post__author__username", "value"
    )
    same = [v for u, a, v in ratings if stance[u] == stance[a] != "moderate"]
    other = [v for u, a, v in ratings if {stance[u], stance[a]} == {"people", "moving"}]
    assert np.mean([v == 1 for v in same]) > 0.6
    assert np.mean([v == 1 for v in other]) < np.mean([v == 1 for v in same]) - 0.2


@pytest.mark.django_db
def test_seed_demo_if_empty_leaves_an_existing_database_alone() -> None:
    _seed_demo("--scale", "0.2", "--if-empty")
    counts = (
        User.objects.count(),
        Post.objects.count(),
        Like.objects.count(),
        Rating.objects.count(),
    )
    output = _seed_demo("--scale", "0.2", "--if-empty")
    assert "not loaded" in output
    assert counts == (
        User.objects.count(),
        Post.objects.count(),
        Like.objects.count(),
        Rating.objects.count(),
    )
    with pytest.raises(CommandError, match="already exist"):
        _seed_demo("--scale", "0.2")


@pytest.mark.django_db
def test_seed_demo_if_empty_skips_when_any_account_exists(make_user) -> None:
    make_user("someone")
    _seed_demo("--if-empty")
    assert Post.objects.count() == 0


def test_demo_plan_is_a_function_of_its_seed() -> None:
    first = demo_plan(seed=5, scale=0.3, now=FIXED_NOW)
    assert first == demo_plan(seed=5, scale=0.3, now=FIXED_NOW)
    other = demo_plan(seed=6, scale=0.3, now=FIXED_NOW)
    assert [p.body for p in other.posts] != [p.body for p in first.posts]


@pytest.mark.django_db
def test_seed_demo_writes_exactly_the_planned_society() -> None:
    _seed_demo("--scale", "0.2", "--seed", "3")
    plan = demo_plan(seed=3, scale=0.2, now=FIXED_NOW)
    names = [p.username for p in plan.personas]
    assert sorted(
        User.objects.exclude(username="admin").values_list("username", flat=True)
    ) == sorted(names)
    # The plan's times are relative to "now", so compare in time order.
    assert list(
        Post.objects.order_by("created_at", "id").values_list(
            "author__username", "body"
        )
    ) == [
        (names[p.author], p.body)
        for p in sorted(plan.posts, key=lambda p: p.created_at)
    ]
    assert sorted(
        Follow.objects.values_list("follower__username", "followee__username")
    ) == sorted((names[a], names[b]) for a, b in plan.follows)
    bodies = [p.body for p in plan.posts]
    assert sorted(
        Rating.objects.values_list("user__username", "post__body", "value")
    ) == sorted((names[u], bodies[p], v) for u, p, v in plan.ratings)


def test_seed_demo_rejects_a_nonsense_scale() -> None:
    with pytest.raises(CommandError, match="--scale"):
        _seed_demo("--scale", "0")


# seed_scale ---------------------------------------------------------------------


def _seed_scale(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("seed_scale", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_seed_scale_loads_the_requested_sizes_with_consistent_counters() -> None:
    output, progress = _seed_scale(
        "--users",
        "50",
        "--posts",
        "500",
        "--ratings",
        "1500",
        "--likes",
        "800",
        "--follows-per-user",
        "10",
        "--reply-share",
        "0.2",
        "--seed",
        "4",
    )
    assert User.objects.filter(username__startswith="load").count() == 50
    assert Post.objects.count() == 500
    assert Rating.objects.count() == 1500
    assert Like.objects.count() == 800
    assert Follow.objects.count() == 500
    assert set(
        Counter(Follow.objects.values_list("follower_id", flat=True)).values()
    ) == {10}
    assert not Follow.objects.filter(follower_id=F("followee_id")).exists()
    assert Post.objects.exclude(parent=None).count() > 50
    _assert_counters_match_rows()
    _assert_threads_consistent()
    assert User.objects.get(username="load7").check_password(DEMO_PASSWORD)
    assert "Loaded 50 users, 500 posts" in output
    assert "[seed_scale] ratings" in progress

    # Application writes after a bulk load get fresh ids (sequences are in step).
    post = Post.objects.create(
        author=User.objects.get(username="load0"),
        body="after the load",
        created_at=timezone.now(),
    )
    assert post.id > max(Post.objects.exclude(id=post.id).values_list("id", flat=True))

    with pytest.raises(CommandError, match="already exist"):
        _seed_scale("--users", "5", "--posts", "5")
    _seed_scale(
        "--users", "5", "--posts", "5", "--prefix", "more", "--follows-per-user", "10"
    )
    assert Follow.objects.filter(follower__username="more0").count() == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--users", "1", "--posts", "5"], "--users"),
        (["--users", "5", "--posts", "-1"], "--posts"),
        (["--users", "3", "--posts", "3", "--ratings", "100"], "at most"),
        (["--users", "5", "--posts", "5", "--reply-share", "1.5"], "--reply-share"),
        (["--users", "5", "--posts", "5", "--prefix", "no spaces"], "--prefix"),
    ],
)
@pytest.mark.django_db
def test_seed_scale_explains_bad_arguments(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        _seed_scale(*args)
    assert not User.objects.exists()


def test_scale_plan_is_deterministic_and_exact() -> None:
    kwargs = dict(
        users=300,
        posts=3000,
        ratings=5000,
        likes=2000,
        follows_per_user=40,
        reply_share=0.1,
        days=10.0,
        seed=9,
    )
    plan = scale_plan(**kwargs)  # type: ignore[arg-type]
    again = scale_plan(**kwargs)  # type: ignore[arg-type]
    assert np.array_equal(plan.rating_post, again.rating_post)
    assert np.array_equal(plan.follow_dst, again.follow_dst)
    assert len(plan.rating_user) == 5000 and len(plan.like_user) == 2000
    keys = plan.rating_user * plan.posts + plan.rating_post
    assert len(np.unique(keys)) == len(keys)
    assert not np.any(plan.post_author[plan.rating_post] == plan.rating_user)
    follow_keys = plan.follow_src * plan.users + plan.follow_dst
    assert len(np.unique(follow_keys)) == 300 * 40
    assert not np.any(plan.follow_src == plan.follow_dst)
    replies = np.nonzero(plan.post_parent >= 0)[0]
    assert np.all(plan.post_parent[replies] < replies)
    assert np.all(np.diff(plan.post_seconds) >= 0)
    assert plan.helpful_count.sum() + plan.unhelpful_count.sum() == 5000

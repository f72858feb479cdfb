"""Writes of the social core against the real database: rules, counters, constraints."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.http import Http404

from feed import selectors, services
from feed.models import (
    Block,
    Follow,
    Like,
    Mention,
    Mute,
    Notification,
    Post,
    Rating,
    Report,
    User,
)

pytestmark = pytest.mark.django_db


# Accounts -----------------------------------------------------------------------------


def test_signup_refuses_a_username_differing_only_in_case(make_user):
    make_user("alice")
    with pytest.raises(ValidationError, match="taken"):
        services.user_signup(username="Alice", password="a-long-passphrase-9")
    assert User.objects.count() == 1


def test_signup_checks_password_against_the_username(db):
    with pytest.raises(ValidationError) as exc:
        services.user_signup(username="gardener", password="gardener1")
    assert "password" in exc.value.message_dict
    assert not User.objects.exists()


def test_signup_creates_usable_account(db):
    user = services.user_signup(
        username="newbie", password="a-long-passphrase-9", display_name=" N "
    )
    assert user.check_password("a-long-passphrase-9")
    assert user.display_name == "N"


def test_profile_update_validates_lengths(make_user):
    alice = make_user("alice")
    with pytest.raises(ValidationError) as exc:
        services.profile_update(user=alice, display_name="d" * 51, bio="b" * 301)
    assert set(exc.value.message_dict) == {"display_name", "bio"}
    alice.refresh_from_db()
    assert alice.display_name == ""


def test_password_change_validates_new_password(make_user):
    alice = make_user("alice")
    with pytest.raises(ValidationError) as exc:
        services.password_change(
            user=alice, old_password="correct-horse-42", new_password="short"
        )
    assert "new_password" in exc.value.message_dict
    alice.refresh_from_db()
    assert alice.check_password("correct-horse-42")


def test_account_delete_keeps_others_replies_and_fixes_counters(make_user, make_post):
    alice, bob = make_user("alice"), make_user("bob")
    bobs_post = make_post(bob)
    alices_post = make_post(alice)
    services.like_create(user=alice, post_id=bobs_post.id)
    services.rating_set(user=alice, post_id=bobs_post.id, value="helpful")
    make_post(alice, "alice replies", parent=bobs_post)
    bobs_reply = make_post(bob, "bob replies", parent=alices_post)
    services.follow_create(follower=alice, followee_id=bob.id)

    with pytest.raises(ValidationError):
        services.account_delete(user=alice, password="wrong")
    assert User.objects.filter(id=alice.id).exists()

    services.account_delete(user=alice, password="correct-horse-42")
    assert not User.objects.filter(id=alice.id).exists()
    bobs_post.refresh_from_db()
    assert (bobs_post.like_count, bobs_post.helpful_count, bobs_post.reply_count) == (
        0,
        0,
        0,
    )
    bobs_reply.refresh_from_db()
    assert bobs_reply.parent_id is None  # detached, not deleted
    assert not Follow.objects.exists()
    assert not Post.objects.filter(author_id=alice.id).exists()


def test_account_export_lists_everything_chosen(make_user, make_post):
    alice, bob = make_user("alice"), make_user("bob")
    post = make_post(bob)
    make_post(alice, "mine")
    services.follow_create(follower=alice, followee_id=bob.id)
    services.like_create(user=alice, post_id=post.id)
    services.rating_set(user=alice, post_id=post.id, value="unhelpful")
    services.report_create(reporter=alice, post_id=post.id, reason="spam")
    services.mute_create(muter=alice, muted_id=make_user("carol").id)
    services.block_create(blocker=alice, blocked_id=make_user("dave").id)
    data = selectors.account_export(user=alice)
    assert data["format"] == "charter-social-export/1"
    assert [p["body"] for p in data["posts"]] == ["mine"]
    assert data["following"][0]["username"] == "bob"
    assert data["likes"][0]["post_id"] == post.id
    assert data["ratings"][0]["value"] == "unhelpful"
    assert data["reports"][0]["reason"] == "spam"
    assert (data["mutes"], data["blocks"]) == (["carol"], ["dave"])


# Posts --------------------------------------------------------------------------------


def test_reply_counts_and_notifies_parent_author(make_user, make_post):
    alice, bob = make_user("alice"), make_user("bob")
    root = make_post(alice)
    reply = make_post(bob, parent=root)
    nested = make_post(alice, parent=reply)
    root.refresh_from_db()
    reply.refresh_from_db()
    assert (root.reply_count, reply.reply_count) == (1, 1)
    assert nested.root_id == root.id
    assert Notification.objects.filter(recipient=alice, kind="reply").count() == 1
    assert Notification.objects.filter(recipient=bob, kind="reply").count() == 1


def test_mentions_notify_once_and_skip_unknown_and_blocked(make_user):
    alice, carol = make_user("alice"), make_user("carol")
    make_user("bob")
    services.block_create(blocker=carol, blocked_id=alice.id)
    post = services.post_create(author=alice, body="@bob @BOB @carol @nobody hello")
    assert list(
        Mention.objects.filter(post=post).values_list("user__username", flat=True)
    ) == ["bob"]
    assert Notification.objects.filter(kind="mention").count() == 1


def test_failed_transaction_leaves_no_post_counter_or_notification(
    make_user, make_post
):
    alice, bob = make_user("alice"), make_user("bob")
    root = make_post(alice)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.post_create(author=bob, body="@alice hi", parent_id=root.id)
        raise RuntimeError("later step failed")
    root.refresh_from_db()
    assert root.reply_count == 0
    assert Post.objects.count() == 1
    assert not Notification.objects.exists()


def test_blocked_account_cannot_reply(make_user, make_post):
    alice, bob = make_user("alice"), make_user("bob")
    post = make_post(alice)
    services.block_create(blocker=alice, blocked_id=bob.id)
    with pytest.raises((PermissionDenied, Http404)):
        services.post_create(author=bob, body="hello?", parent_id=post.id)
    # The blocker can't reply into the blocked account's threads either.
    bobs = Post.objects.create(author=bob, body="bob's", created_at=post.created_at)
    with pytest.raises((PermissionDenied, Http404)):
        services.post_create(author=alice, body="hey", parent_id=bobs.id)
    assert Post.objects.count() == 2


def test_delete_post_decrements_parent_and_detaches_replies(make_user, make_post):
    alice, bob = make_user("alice"), make_user("bob")
    root = make_post(alice)
    middle = make_post(bob, parent=root)
    leaf = make_post(alice, parent=middle)
    services.post_delete(user=bob, post_id=middle.id)
    root.refresh_from_db()
    leaf.refresh_from_db()
    assert root.reply_count == 0
    assert leaf.parent_id is None and leaf.root_id == root.id
    with pytest.raises(PermissionDenied):
        services.post_delete(user=bob, post_id=root.id)


# Follows, blocks, mutes ---------------------------------------------------------------


def test_follow_rules_and_notification(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    services.follow_create(follower=alice, followee_id=bob.id)
    assert Notification.objects.get().kind == "follow"
    with pytest.raises(ValidationError, match="already follow"):
        services.follow_create(follower=alice, followee_id=bob.id)
    with pytest.raises(ValidationError, match="yourself"):
        services.follow_create(follower=alice, followee_id=alice.id)
    with pytest.raises(Http404):
        services.follow_create(follower=alice, followee_id=987654)
    assert Follow.objects.count() == 1
    assert Notification.objects.count() == 1


def test_follow_priority_range(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    services.follow_create(follower=alice, followee_id=bob.id)
    for bad in (3, -3, True, "1"):
        with pytest.raises(ValidationError):
            services.follow_priority_set(
                follower=alice, followee_id=bob.id, priority=bad
            )
    assert (
        services.follow_priority_set(
            follower=alice, followee_id=bob.id, priority=-2
        ).priority
        == -2
    )


def test_block_ends_follows_both_ways_and_prevents_following(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    services.follow_create(follower=alice, followee_id=bob.id)
    services.follow_create(follower=bob, followee_id=alice.id)
    services.block_create(blocker=alice, blocked_id=bob.id)
    assert not Follow.objects.exists()
    with pytest.raises(PermissionDenied):
        services.follow_create(follower=bob, followee_id=alice.id)
    with pytest.raises(PermissionDenied):
        services.follow_create(follower=alice, followee_id=bob.id)
    with pytest.raises(ValidationError, match="already block"):
        services.block_create(blocker=alice, blocked_id=bob.id)
    services.block_delete(blocker=alice, blocked_id=bob.id)
    services.follow_create(follower=bob, followee_id=alice.id)


def test_mute_rules(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    services.mute_create(muter=alice, muted_id=bob.id)
    with pytest.raises(ValidationError):
        services.mute_create(muter=alice, muted_id=bob.id)
    with pytest.raises(ValidationError):
        services.mute_create(muter=alice, muted_id=alice.id)
    services.mute_delete(muter=alice, muted_id=bob.id)
    with pytest.raises(ValidationError):
        services.mute_delete(muter=alice, muted_id=bob.id)
    assert not Mute.objects.exists()


# Reactions and reports ----------------------------------------------------------------


def test_like_when_a_like_row_already_exists_hits_the_constraint_cleanly(
    make_user, make_post
):
    post = make_post(make_user("alice"))
    bob = make_user("bob")
    # As if a concurrent request had inserted first: only the constraint can tell.
    Like.objects.create(user=bob, post=post)
    with pytest.raises(ValidationError, match="already like"):
        services.like_create(user=bob, post_id=post.id)
    post.refresh_from_db()
    assert post.like_count == 0


def test_rating_change_moves_the_count(make_user, make_post):
    post = make_post(make_user("alice"))
    bob = make_user("bob")
    services.rating_set(user=bob, post_id=post.id, value="helpful")
    services.rating_set(user=bob, post_id=post.id, value=-1)
    services.rating_set(user=bob, post_id=post.id, value="unhelpful")  # unchanged
    post.refresh_from_db()
    assert (post.helpful_count, post.unhelpful_count) == (0, 1)
    assert Rating.objects.get().value == -1
    for bad in ("meh", 0, 2, True, None):
        with pytest.raises(ValidationError):
            services.rating_set(user=bob, post_id=post.id, value=bad)


def test_report_rules(make_user, make_post):
    alice, bob = make_user("alice"), make_user("bob")
    post = make_post(alice)
    with pytest.raises(ValidationError, match="own post"):
        services.report_create(reporter=alice, post_id=post.id, reason="spam")
    with pytest.raises(ValidationError):
        services.report_create(
            reporter=bob, post_id=post.id, reason="spam", details="x" * 1001
        )
    services.report_create(reporter=bob, post_id=post.id, reason="incivility")
    with pytest.raises(ValidationError, match="already reported"):
        services.report_create(reporter=bob, post_id=post.id, reason="spam")
    assert Report.objects.count() == 1


def test_notifications_mark_read_counts_only_unread(make_user):
    alice = make_user("alice")
    for _ in range(2):
        services.follow_create(follower=make_user(), followee_id=alice.id)
    assert services.notifications_mark_read(user=alice) == 2
    assert services.notifications_mark_read(user=alice) == 0
    assert selectors.notifications_unread_count(user=alice) == 0


# Database constraints (the last line of defence) --------------------------------------


@pytest.mark.parametrize(
    "write",
    [
        lambda a, b, p: Follow.objects.create(follower=a, followee=a),
        lambda a, b, p: Follow.objects.bulk_create(
            [Follow(follower=a, followee=b)] * 2
        ),
        lambda a, b, p: Follow.objects.create(follower=a, followee=b, priority=5),
        lambda a, b, p: Rating.objects.create(user=b, post=p, value=3),
        lambda a, b, p: Rating.objects.bulk_create(
            [Rating(user=b, post=p, value=1)] * 2
        ),
        lambda a, b, p: Like.objects.bulk_create([Like(user=b, post=p)] * 2),
        lambda a, b, p: Block.objects.create(blocker=a, blocked=a),
        lambda a, b, p: Mute.objects.create(muter=a, muted=a),
        lambda a, b, p: Post.objects.create(author=a, body="", created_at=p.created_at),
        lambda a, b, p: Report.objects.bulk_create(
            [Report(reporter=b, post=p, reason="spam")] * 2
        ),
    ],
)
def test_database_constraints_refuse_invalid_rows(
    make_user, make_post, write: Callable[..., Any]
):
    alice, bob = make_user("alice"), make_user("bob")
    post = make_post(alice)
    with pytest.raises(IntegrityError), transaction.atomic():
        write(alice, bob, post)


# Concurrency --------------------------------------------------------------------------


def run_concurrently(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released together; return each result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def worker(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[index] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_double_like_counts_once(make_user, make_post):
    post = make_post(make_user("alice"))
    bob = make_user("bob")
    results = run_concurrently(
        *[lambda: services.like_create(user=bob, post_id=post.id)] * 2
    )
    assert sum(isinstance(r, Like) for r in results) == 1
    assert sum(isinstance(r, ValidationError) for r in results) == 1
    post.refresh_from_db()
    assert post.like_count == 1 and Like.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_double_follow_succeeds_once(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    results = run_concurrently(
        *[lambda: services.follow_create(follower=alice, followee_id=bob.id)] * 2
    )
    assert sum(isinstance(r, Follow) for r in results) == 1
    assert sum(isinstance(r, ValidationError) for r in results) == 1
    assert Follow.objects.count() == 1
    assert Notification.objects.filter(kind="follow").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_ratings_by_one_user_leave_one_rating_and_consistent_counts(
    make_user, make_post
):
    post = make_post(make_user("alice"))
    bob = make_user("bob")
    results = run_concurrently(
        lambda: services.rating_set(user=bob, post_id=post.id, value="helpful"),
        lambda: services.rating_set(user=bob, post_id=post.id, value="unhelpful"),
    )
    assert all(isinstance(r, Rating) for r in results), results
    rating = Rating.objects.get()
    post.refresh_from_db()
    expected = (1, 0) if rating.value == 1 else (0, 1)
    assert (post.helpful_count, post.unhelpful_count) == expected

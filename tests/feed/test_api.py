"""The REST API end to end over HTTP: shapes, auth, and every bad-input rule."""

from __future__ import annotations

import json
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from feed import services
from feed.models import Follow, Like, Notification, Post, Rating, Report, User

pytestmark = pytest.mark.django_db


def post_json(client: APIClient, url: str, data: object, method: str = "post"):
    return getattr(client, method)(
        url, data=json.dumps(data), content_type="application/json"
    )


# Auth ---------------------------------------------------------------------------------


def test_token_is_issued_for_correct_credentials_and_works(api_client, make_user):
    make_user("alice")
    response = post_json(
        api_client,
        "/api/auth/token/",
        {"username": "alice", "password": "correct-horse-42"},
    )
    assert response.status_code == 200
    token = response.json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/me/").json()["username"] == "alice"


def test_token_errors_do_not_reveal_which_usernames_exist(api_client, make_user):
    make_user("alice")
    wrong_password = post_json(
        api_client, "/api/auth/token/", {"username": "alice", "password": "nope-nope-1"}
    )
    unknown_user = post_json(
        api_client,
        "/api/auth/token/",
        {"username": "nobody", "password": "nope-nope-1"},
    )
    assert wrong_password.status_code == unknown_user.status_code == 400
    assert wrong_password.json() == unknown_user.json()
    assert "username and password" in wrong_password.json()["detail"]


def test_repeated_sign_in_attempts_are_throttled(api_client, make_user):
    make_user("alice")
    guesses = [
        post_json(
            api_client,
            "/api/auth/token/",
            {"username": "alice", "password": f"guess-{n}"},
        )
        for n in range(11)
    ]
    assert [r.status_code for r in guesses] == [400] * 10 + [429]
    assert "throttled" in guesses[-1].json()["detail"].lower()
    assert "Retry-After" in guesses[-1]
    # A forged X-Forwarded-For does not reset the count.
    forged = api_client.post(
        "/api/auth/token/",
        data=json.dumps({"username": "alice", "password": "guess-x"}),
        content_type="application/json",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    assert forged.status_code == 429
    # Another account from the same address is counted separately.
    other = post_json(
        api_client, "/api/auth/token/", {"username": "bob", "password": "x"}
    )
    assert other.status_code == 400


def test_token_request_without_password_names_the_field(api_client):
    response = post_json(api_client, "/api/auth/token/", {"username": "alice"})
    assert response.status_code == 400
    assert "password" in response.json()["errors"]


def test_revoked_token_no_longer_authenticates(client_for, make_user):
    alice = make_user("alice")
    client = client_for(alice)
    assert client.delete("/api/auth/token/").status_code == 204
    assert not Token.objects.filter(user=alice).exists()
    response = client.get("/api/me/")
    assert response.status_code == 401
    assert response.json()["detail"]


def test_signup_creates_account_and_returns_token(api_client):
    response = post_json(
        api_client,
        "/api/auth/signup/",
        {
            "username": "newbie",
            "password": "a-long-passphrase-9",
            "display_name": "New Bie",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["user"]["display_name"] == "New Bie"
    assert Token.objects.get(key=body["token"]).user.username == "newbie"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"username": "ab", "password": "a-long-passphrase-9"}, "username"),
        ({"username": "admin", "password": "a-long-passphrase-9"}, "username"),
        ({"username": "has space", "password": "a-long-passphrase-9"}, "username"),
        ({"username": "newbie", "password": "123"}, "password"),
        ({"username": "newbie", "password": "password"}, "password"),
        ({"username": "newbie"}, "password"),
        ({"username": 12345, "password": "a-long-passphrase-9"}, "username"),
        (
            {
                "username": "newbie",
                "password": "a-long-passphrase-9",
                "email": "not-an-email",
            },
            "email",
        ),
    ],
)
def test_signup_rejects_bad_input_with_field_message(api_client, payload, field):
    response = post_json(api_client, "/api/auth/signup/", payload)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not User.objects.filter(
        username__iexact=str(payload.get("username"))
    ).exists()


def test_signup_refuses_taken_username_in_any_case(api_client, make_user):
    make_user("alice")
    response = post_json(
        api_client,
        "/api/auth/signup/",
        {"username": "ALICE", "password": "a-long-passphrase-9"},
    )
    assert response.status_code == 400
    assert "taken" in response.json()["detail"]


def test_me_requires_sign_in(api_client):
    response = api_client.get("/api/me/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")


def test_profile_patch_changes_only_given_fields(client_for, make_user):
    alice = make_user("alice", bio="old bio")
    response = post_json(
        client_for(alice), "/api/me/", {"display_name": "Alice A."}, method="patch"
    )
    assert response.status_code == 200
    alice.refresh_from_db()
    assert (alice.display_name, alice.bio) == ("Alice A.", "old bio")


def test_profile_patch_rejects_long_bio_and_keeps_old_values(client_for, make_user):
    alice = make_user("alice", bio="old bio")
    response = post_json(
        client_for(alice),
        "/api/me/",
        {"display_name": "X", "bio": "b" * 301},
        method="patch",
    )
    assert response.status_code == 400
    assert "300" in response.json()["errors"]["bio"][0]
    alice.refresh_from_db()
    assert (alice.display_name, alice.bio) == ("", "old bio")


def test_password_change_checks_old_password(client_for, make_user):
    alice = make_user("alice")
    client = client_for(alice)
    wrong = post_json(
        client,
        "/api/me/password/",
        {"old_password": "nope", "new_password": "another-long-one-7"},
    )
    assert wrong.status_code == 400
    assert "old_password" in wrong.json()["errors"]
    ok = post_json(
        client,
        "/api/me/password/",
        {"old_password": "correct-horse-42", "new_password": "another-long-one-7"},
    )
    assert ok.status_code == 200
    alice.refresh_from_db()
    assert alice.check_password("another-long-one-7")
    # The old token is revoked; the one in the response works.
    assert client.get("/api/me/").status_code == 401
    fresh = APIClient()
    fresh.credentials(HTTP_AUTHORIZATION=f"Token {ok.json()['token']}")
    assert fresh.get("/api/me/").json()["username"] == "alice"


def test_password_change_keeps_this_session_and_ends_others(make_user):
    alice = make_user("alice")
    client, other_device = APIClient(), APIClient()
    client.force_login(alice)
    other_device.force_login(alice)
    response = post_json(
        client,
        "/api/me/password/",
        {"old_password": "correct-horse-42", "new_password": "another-long-one-7"},
    )
    assert response.status_code == 200
    assert client.get("/api/me/").status_code == 200
    assert other_device.get("/api/me/").status_code == 401


def test_session_writes_need_csrf_token(make_user):
    alice = make_user("alice")
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)
    response = post_json(client, "/api/posts/", {"body": "hello"})
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not Post.objects.exists()


def test_export_contains_what_the_account_wrote(client_for, make_user, make_post):
    alice, bob = make_user("alice"), make_user("bob")
    make_post(alice, "my own words")
    services.follow_create(follower=alice, followee_id=bob.id)
    response = client_for(alice).get("/api/me/export/")
    assert response.status_code == 200
    data = response.json()
    assert data["account"]["username"] == "alice"
    assert [p["body"] for p in data["posts"]] == ["my own words"]
    assert data["following"][0]["username"] == "bob"
    assert "attachment" in response["Content-Disposition"]


def test_account_delete_needs_the_password(client_for, make_user):
    alice = make_user("alice")
    client = client_for(alice)
    wrong = post_json(client, "/api/me/", {"password": "wrong"}, method="delete")
    assert wrong.status_code == 400
    assert User.objects.filter(id=alice.id).exists()
    missing = client.delete("/api/me/")
    assert missing.status_code == 400
    ok = post_json(
        client, "/api/me/", {"password": "correct-horse-42"}, method="delete"
    )
    assert ok.status_code == 204
    assert not User.objects.filter(id=alice.id).exists()


def test_notifications_list_and_mark_read(client_for, make_user, make_post):
    alice, bob = make_user("alice"), make_user("bob")
    post = make_post(alice)
    make_post(bob, "hi @alice", parent=post)
    client = client_for(alice)
    data = client.get("/api/me/notifications/").json()
    assert data["unread"] == 1  # a reply that also mentions notifies once
    assert data["results"][0]["kind"] == "reply"
    assert data["results"][0]["actor"]["username"] == "bob"
    assert client.post("/api/me/notifications/read/").json() == {"marked": 1}
    assert client.get("/api/me/").json()["unread_notifications"] == 0


# Posts --------------------------------------------------------------------------------


def test_create_post_returns_full_representation(client_for, make_user):
    alice = make_user("alice", display_name="Alice")
    response = post_json(
        client_for(alice), "/api/posts/", {"body": "<b>hi</b> https://example.org"}
    )
    assert response.status_code == 201
    data = response.json()
    assert data["author"] == {"username": "alice", "display_name": "Alice"}
    assert data["body"] == "<b>hi</b> https://example.org"
    assert data["body_html"].startswith(
        '&lt;b&gt;hi&lt;/b&gt; <a href="https://example.org"'
    )
    assert data["parent_id"] is None
    assert data["root_id"] == data["id"]
    assert data["counts"] == {"likes": 0, "replies": 0, "helpful": 0, "unhelpful": 0}
    assert data["viewer"] == {"liked": False, "rating": None}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "empty"),
        ("   \n ", "empty"),
        ("\u200b\u200b", "empty"),
        ("x" * 501, "at most 500"),
        (12, "string"),
        (None, "null"),
        (["a"], "string"),
        ("nul\x00char", "Null"),
    ],
)
def test_create_post_rejects_bad_bodies_and_writes_nothing(
    client_for, make_user, body, message
):
    response = post_json(client_for(make_user()), "/api/posts/", {"body": body})
    assert response.status_code == 400
    assert message.lower() in response.json()["detail"].lower()
    assert not Post.objects.exists()


def test_post_of_exactly_500_characters_is_accepted(client_for, make_user):
    response = post_json(client_for(make_user()), "/api/posts/", {"body": "x" * 500})
    assert response.status_code == 201


def test_create_post_without_body_field(client_for, make_user):
    response = post_json(client_for(make_user()), "/api/posts/", {})
    assert response.status_code == 400
    assert "body" in response.json()["errors"]


def test_malformed_json_is_a_400_with_a_message(client_for, make_user):
    response = client_for(make_user()).post(
        "/api/posts/", data='{"body": "oops"', content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_json_that_is_not_an_object_is_a_400(client_for, make_user):
    response = post_json(client_for(make_user()), "/api/posts/", ["body"])
    assert response.status_code == 400
    assert response.json()["detail"]


def test_writing_while_signed_out_is_refused(api_client, make_user, make_post):
    post = make_post(make_user())
    attempts = [
        post_json(api_client, "/api/posts/", {"body": "hello"}),
        api_client.post(f"/api/posts/{post.id}/like/"),
        post_json(
            api_client,
            f"/api/posts/{post.id}/rating/",
            {"value": "helpful"},
            method="put",
        ),
        api_client.delete(f"/api/posts/{post.id}/"),
        api_client.post("/api/users/citizen1/follow/"),
    ]
    assert [r.status_code for r in attempts] == [401] * len(attempts)
    assert all(r.json()["detail"] for r in attempts)
    assert Post.objects.count() == 1
    assert not Like.objects.exists() and not Rating.objects.exists()


def test_reply_to_unknown_post_is_404_and_writes_nothing(client_for, make_user):
    response = post_json(
        client_for(make_user()), "/api/posts/", {"body": "hi", "parent_id": 999999}
    )
    assert response.status_code == 404
    assert response.json()["detail"] == "No such post."
    assert not Post.objects.exists()


def test_reply_with_non_numeric_parent_is_400(client_for, make_user):
    response = post_json(
        client_for(make_user()), "/api/posts/", {"body": "hi", "parent_id": "abc"}
    )
    assert response.status_code == 400
    assert "parent_id" in response.json()["errors"]


def test_reply_points_at_thread_root(client_for, make_user, make_post):
    alice, bob = make_user("alice"), make_user("bob")
    root = make_post(alice)
    first = make_post(bob, parent=root)
    response = post_json(
        client_for(alice), "/api/posts/", {"body": "deeper", "parent_id": first.id}
    )
    assert response.status_code == 201
    assert (response.json()["parent_id"], response.json()["root_id"]) == (
        first.id,
        root.id,
    )
    thread = client_for(bob).get(f"/api/posts/{first.id}/thread/").json()
    assert thread["root_id"] == root.id
    assert [p["id"] for p in thread["results"]] == [
        root.id,
        first.id,
        response.json()["id"],
    ]


def test_unknown_post_is_404_with_message(api_client):
    response = api_client.get("/api/posts/424242/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No such post."}


def test_only_the_author_deletes_a_post(client_for, make_user, make_post):
    alice, bob = make_user("alice"), make_user("bob")
    post = make_post(alice)
    assert client_for(bob).delete(f"/api/posts/{post.id}/").status_code == 403
    assert Post.objects.filter(id=post.id).exists()
    assert client_for(alice).delete(f"/api/posts/{post.id}/").status_code == 204
    assert not Post.objects.filter(id=post.id).exists()
    assert client_for(alice).delete(f"/api/posts/{post.id}/").status_code == 404


def test_like_twice_is_refused_and_counted_once(client_for, make_user, make_post):
    post = make_post(make_user("alice"))
    client = client_for(make_user("bob"))
    first = client.post(f"/api/posts/{post.id}/like/")
    assert first.status_code == 201
    assert first.json()["counts"]["likes"] == 1
    assert first.json()["viewer"]["liked"] is True
    second = client.post(f"/api/posts/{post.id}/like/")
    assert second.status_code == 400
    assert "already" in second.json()["detail"]
    post.refresh_from_db()
    assert post.like_count == 1 and Like.objects.count() == 1
    undo = client.delete(f"/api/posts/{post.id}/like/")
    assert undo.status_code == 200 and undo.json()["counts"]["likes"] == 0
    again = client.delete(f"/api/posts/{post.id}/like/")
    assert again.status_code == 400


def test_like_unknown_post_is_404(client_for, make_user):
    assert client_for(make_user()).post("/api/posts/999999/like/").status_code == 404


def test_rating_is_one_per_user_and_changeable(client_for, make_user, make_post):
    post = make_post(make_user("alice"))
    client = client_for(make_user("bob"))
    url = f"/api/posts/{post.id}/rating/"
    first = post_json(client, url, {"value": "helpful"}, method="put")
    assert first.status_code == 200
    assert first.json()["counts"]["helpful"] == 1
    assert first.json()["viewer"]["rating"] == "helpful"
    changed = post_json(client, url, {"value": "unhelpful"}, method="put")
    assert changed.json()["counts"] == {
        "likes": 0,
        "replies": 0,
        "helpful": 0,
        "unhelpful": 1,
    }
    assert Rating.objects.count() == 1
    removed = client.delete(url)
    assert removed.status_code == 200 and removed.json()["viewer"]["rating"] is None
    assert client.delete(url).status_code == 400


@pytest.mark.parametrize("value", ["great", 1, None, True, ""])
def test_rating_with_bad_value_is_400(client_for, make_user, make_post, value):
    post = make_post(make_user("alice"))
    response = post_json(
        client_for(make_user("bob")),
        f"/api/posts/{post.id}/rating/",
        {"value": value},
        method="put",
    )
    assert response.status_code == 400
    assert "value" in response.json()["errors"]
    assert not Rating.objects.exists()


def test_rating_own_post_is_refused(client_for, make_user, make_post):
    alice = make_user("alice")
    post = make_post(alice)
    response = post_json(
        client_for(alice),
        f"/api/posts/{post.id}/rating/",
        {"value": "helpful"},
        method="put",
    )
    assert response.status_code == 400
    assert "own" in response.json()["detail"]


def test_report_once_with_a_valid_reason(client_for, make_user, make_post):
    post = make_post(make_user("alice"))
    client = client_for(make_user("bob"))
    url = f"/api/posts/{post.id}/report/"
    bad = post_json(client, url, {"reason": "ugly"})
    assert bad.status_code == 400 and "reason" in bad.json()["errors"]
    ok = post_json(client, url, {"reason": "spam", "details": "link farm"})
    assert ok.status_code == 201
    assert ok.json()["status"] == "open"
    again = post_json(client, url, {"reason": "spam"})
    assert again.status_code == 400 and "already" in again.json()["detail"]
    assert Report.objects.count() == 1


# Timelines ----------------------------------------------------------------------------


def test_home_requires_sign_in(api_client):
    assert api_client.get("/api/timelines/home/").status_code == 401


def test_home_shows_followed_and_own_posts_only(client_for, make_user, make_post):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    services.follow_create(follower=alice, followee_id=bob.id)
    own, followed = make_post(alice), make_post(bob)
    make_post(carol)
    data = client_for(alice).get("/api/timelines/home/").json()
    assert [p["id"] for p in data["results"]] == [followed.id, own.id]
    assert data["next"] is None


def _home_queries(django_assert_num_queries, client, expected: int) -> list[dict]:
    with django_assert_num_queries(expected):
        response = client.get("/api/timelines/home/?limit=50")
    assert response.status_code == 200
    return response.json()["results"]


def test_home_query_count_does_not_grow_with_posts_or_authors(
    client_for, make_user, make_post, django_assert_num_queries
):
    alice = make_user("alice")
    client = client_for(alice)
    # token lookup, one block/mute union, the page, the viewer's reactions.
    expected = 4
    followed = make_user()
    services.follow_create(follower=alice, followee_id=followed.id)
    make_post(followed)
    assert len(_home_queries(django_assert_num_queries, client, expected)) == 1
    for _ in range(8):
        author = make_user()
        services.follow_create(follower=alice, followee_id=author.id)
        post = make_post(author)
        make_post(alice, parent=post)
        services.like_create(user=alice, post_id=post.id)
        services.rating_set(user=alice, post_id=post.id, value="helpful")
    services.mute_create(muter=alice, muted_id=make_user().id)
    results = _home_queries(django_assert_num_queries, client, expected)
    assert len(results) == 17
    assert sum(p["viewer"]["liked"] for p in results) == 8


@pytest.mark.parametrize("limit", ["0", "101", "ten", "-1"])
def test_bad_limit_is_400(api_client, limit):
    response = api_client.get(f"/api/timelines/public/?limit={limit}")
    assert response.status_code == 400
    assert "limit" in response.json()["detail"]


@pytest.mark.parametrize("cursor", ["garbage", "!!!", "MjAyNHxhYmM", "w4k"])
def test_bad_cursor_is_400(api_client, cursor):
    response = api_client.get(f"/api/timelines/public/?cursor={cursor}")
    assert response.status_code == 400
    assert "cursor" in response.json()["detail"]


def test_public_timeline_pages_with_cursor(api_client, make_user, make_post):
    alice = make_user("alice")
    posts = [make_post(alice) for _ in range(5)]
    first = api_client.get("/api/timelines/public/?limit=2").json()
    assert [p["id"] for p in first["results"]] == [posts[4].id, posts[3].id]
    assert first["results"][0]["viewer"] is None
    second = api_client.get(
        f"/api/timelines/public/?limit=2&cursor={first['next']}"
    ).json()
    third = api_client.get(
        f"/api/timelines/public/?limit=2&cursor={second['next']}"
    ).json()
    assert [p["id"] for p in second["results"] + third["results"]] == [
        posts[2].id,
        posts[1].id,
        posts[0].id,
    ]
    assert third["next"] is None


def test_user_posts_timeline_and_unknown_user(api_client, make_user, make_post):
    alice, bob = make_user("alice"), make_user("bob")
    mine = make_post(alice)
    make_post(bob)
    data = api_client.get("/api/users/alice/posts/").json()
    assert [p["id"] for p in data["results"]] == [mine.id]
    assert api_client.get("/api/users/nobody/posts/").status_code == 404


# Profiles and relations ---------------------------------------------------------------


def test_profile_shows_stats_and_relationship(client_for, make_user, make_post):
    alice, bob = make_user("alice"), make_user("bob", bio="hello")
    make_post(bob)
    services.follow_create(follower=alice, followee_id=bob.id)
    data = client_for(alice).get("/api/users/bob/").json()
    assert data["bio"] == "hello"
    assert data["stats"] == {"posts": 1, "followers": 1, "following": 0}
    assert data["relationship"]["following"] is True


def test_follow_rules(client_for, make_user):
    alice, _ = make_user("alice"), make_user("bob")
    client = client_for(alice)
    first = client.post("/api/users/bob/follow/")
    assert first.status_code == 201 and first.json()["following"] is True
    twice = client.post("/api/users/bob/follow/")
    assert twice.status_code == 400 and "already follow" in twice.json()["detail"]
    self_follow = client.post("/api/users/alice/follow/")
    assert self_follow.status_code == 400 and "yourself" in self_follow.json()["detail"]
    assert client.post("/api/users/nobody/follow/").status_code == 404
    assert Follow.objects.count() == 1
    assert client.delete("/api/users/bob/follow/").json()["following"] is False
    assert client.delete("/api/users/bob/follow/").status_code == 400


def test_follow_priority(client_for, make_user):
    alice, _ = make_user("alice"), make_user("bob")
    client = client_for(alice)
    url = "/api/users/bob/follow/"
    not_following = post_json(client, url, {"priority": 1}, method="put")
    assert not_following.status_code == 400
    client.post(url)
    ok = post_json(client, url, {"priority": 2}, method="put")
    assert ok.json() == {"username": "bob", "priority": 2}
    for bad in (3, -3, "high", None, 1.5):
        response = post_json(client, url, {"priority": bad}, method="put")
        assert response.status_code == 400, bad
        assert "priority" in response.json()["errors"]
    assert Follow.objects.get().priority == 2


def test_blocked_account_cannot_see_reply_to_or_follow_the_blocker(
    client_for, make_user, make_post
):
    alice, bob = make_user("alice"), make_user("bob")
    services.follow_create(follower=bob, followee_id=alice.id)
    post = make_post(alice, "alice speaks")
    assert client_for(alice).post("/api/users/bob/block/").status_code == 201
    assert not Follow.objects.exists()  # the block ended bob's follow
    bob_client = client_for(bob)
    assert bob_client.get("/api/users/alice/").status_code == 404
    assert bob_client.get("/api/users/alice/posts/").status_code == 404
    assert bob_client.get(f"/api/posts/{post.id}/").status_code == 404
    public = bob_client.get("/api/timelines/public/").json()["results"]
    assert post.id not in [p["id"] for p in public]
    reply = post_json(
        bob_client, "/api/posts/", {"body": "let me in", "parent_id": post.id}
    )
    assert reply.status_code in (403, 404)
    follow = bob_client.post("/api/users/alice/follow/")
    assert follow.status_code == 403 and follow.json()["detail"]
    assert Post.objects.count() == 1 and not Follow.objects.exists()
    # The blocker can still find the account to lift the block.
    assert client_for(alice).delete("/api/users/bob/block/").json()["blocking"] is False
    assert bob_client.get("/api/users/alice/").status_code == 200


def test_block_twice_and_self_block_are_refused(client_for, make_user):
    alice, _ = make_user("alice"), make_user("bob")
    client = client_for(alice)
    client.post("/api/users/bob/block/")
    assert client.post("/api/users/bob/block/").status_code == 400
    assert client.post("/api/users/alice/block/").status_code == 400
    assert client.delete("/api/users/alice/block/").status_code == 400


def test_muted_account_vanishes_from_home_and_public(client_for, make_user, make_post):
    alice, bob = make_user("alice"), make_user("bob")
    services.follow_create(follower=alice, followee_id=bob.id)
    post = make_post(bob)
    client = client_for(alice)
    assert client.post("/api/users/bob/mute/").json()["muting"] is True
    for url in ("/api/timelines/home/", "/api/timelines/public/"):
        assert post.id not in [p["id"] for p in client.get(url).json()["results"]]
    assert client.post("/api/users/bob/mute/").status_code == 400
    client.delete("/api/users/bob/mute/")
    assert post.id in [
        p["id"] for p in client.get("/api/timelines/home/").json()["results"]
    ]


# Search -------------------------------------------------------------------------------


def test_search_posts_and_users(api_client, make_user, make_post):
    alice = make_user("alice", display_name="Alice Gardener")
    hit = make_post(alice, "Community gardens are growing")
    make_post(alice, "Nothing to see")
    posts = api_client.get("/api/search/?q=gardens").json()
    assert posts["type"] == "posts"
    assert [p["id"] for p in posts["results"]] == [hit.id]
    users = api_client.get("/api/search/?q=garden&type=users").json()
    assert users == {
        "type": "users",
        "results": [{"username": "alice", "display_name": "Alice Gardener", "bio": ""}],
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [("q=a", "q"), ("", "q"), ("q=ok&type=tags", "type"), ("q=" + "x" * 201, "q")],
)
def test_search_bad_input_is_400(api_client, query, field):
    response = api_client.get(f"/api/search/?{query}")
    assert response.status_code == 400
    assert field in response.json()["errors"]


@pytest.mark.parametrize(
    ("url", "status_code"),
    [
        ("/api/search/?q=ab%00cd", 400),
        ("/api/search/?q=ab%00cd&type=users", 400),
        ("/api/users/a%00b/", 404),
        ("/api/users/a%00b/posts/", 404),
        ("/api/timelines/public/?cursor=a%00b", 400),
        ("/api/timelines/public/?limit=1%00", 400),
        ("/api/posts/99999999999999999999999/", 404),
    ],
)
def test_nul_bytes_and_huge_ids_are_4xx_not_500(api_client, url, status_code):
    # PostgreSQL refuses NUL in text parameters and ids beyond bigint.
    response = api_client.get(url)
    assert response.status_code == status_code
    assert response.json()["detail"]


def test_nul_in_a_write_is_400(client_for, make_user):
    client = client_for(make_user("alice"))
    response = post_json(client, "/api/me/", {"bio": "a\x00b"}, method="patch")
    assert response.status_code == 400
    assert client.post("/api/users/a%00b/follow/").status_code == 404


# Schema -------------------------------------------------------------------------------


def test_openapi_schema_validates_without_warnings(tmp_path):
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(tmp_path / "schema.yaml"),
    )


def test_openapi_schema_documents_feed_requests_and_responses(api_client):
    response = api_client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    paths = schema["paths"]
    create = paths["/api/posts/"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"][
        "$ref"
    ].endswith("PostCreateRequest")
    assert set(create["responses"]) >= {"201", "400", "401"}
    for path in (
        "/api/timelines/home/",
        "/api/timelines/public/",
        "/api/users/{username}/posts/",
    ):
        assert paths[path]["get"]["responses"]["200"]["content"]["application/json"][
            "schema"
        ]["$ref"].endswith("Timeline")
    post_schema = schema["components"]["schemas"]["Post"]["properties"]
    assert {
        "id",
        "author",
        "body",
        "body_html",
        "parent_id",
        "root_id",
        "created_at",
        "counts",
        "viewer",
    } <= set(post_schema)


def test_no_notification_for_own_activity(client_for, make_user, make_post):
    alice = make_user("alice")
    post = make_post(alice, "talking to @alice myself")
    post_json(
        client_for(alice), "/api/posts/", {"body": "me again", "parent_id": post.id}
    )
    assert not Notification.objects.exists()


def test_account_delete_documents_its_password_body(api_client):
    schema = json.loads(api_client.get("/api/schema/?format=json").content)
    body = schema["paths"]["/api/me/"]["delete"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("PasswordConfirmRequest")


def test_api_docs_are_served_offline(api_client):
    response = api_client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/schema/" in html
    assert "cdn" not in html.lower()


def test_public_timeline_for_anonymous_is_one_query(
    api_client, make_user, make_post, django_assert_num_queries
):
    for _ in range(5):
        author = make_user()
        parent = make_post(author)
        make_post(make_user(), parent=parent)
    with django_assert_num_queries(1):
        response = api_client.get("/api/timelines/public/")
    assert len(response.json()["results"]) == 10


def test_thread_query_count_does_not_grow_with_replies(
    client_for, make_user, make_post
):
    alice = make_user("alice")
    root = make_post(alice)
    client = client_for(alice)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/api/posts/{root.id}/thread/").status_code == 200
        return len(captured)

    # token, the post's author and root, blocks both ways, the thread, the
    # viewer's likes and ratings
    assert count_queries() == 5
    for _ in range(6):
        make_post(make_user(), parent=root)
    assert count_queries() == 5


def test_signed_out_thread_is_two_queries(
    api_client, make_user, make_post, django_assert_num_queries
):
    root = make_post(make_user())
    reply = make_post(make_user(), parent=root)
    with django_assert_num_queries(2):
        response = api_client.get(f"/api/posts/{reply.id}/thread/")
    assert [p["id"] for p in response.json()["results"]] == [root.id, reply.id]
    assert response.json()["results"][1]["viewer"] is None


def test_rating_answers_with_fresh_counts_in_a_fixed_number_of_queries(
    client_for, make_user, make_post, django_assert_num_queries
):
    alice, bob = make_user("alice"), make_user("bob")
    post = make_post(alice)
    services.like_create(user=bob, post_id=post.id)
    client = client_for(bob)
    url = f"/api/posts/{post.id}/rating/"
    # token; savepoint; the post; blocks; the rating, locked; savepoint,
    # insert, release; the counter; release; the post as it now stands; the
    # viewer's likes and ratings
    with django_assert_num_queries(12):
        response = post_json(client, url, {"value": "helpful"}, method="put")
    assert response.status_code == 200
    assert response.json()["counts"]["helpful"] == 1
    assert response.json()["viewer"] == {"liked": True, "rating": "helpful"}
    assert response.json()["author"]["username"] == "alice"
    again = post_json(client, url, {"value": "helpful"}, method="put")
    assert again.json()["counts"]["helpful"] == 1


def test_new_post_answers_without_reading_reactions(
    client_for, make_user, django_assert_num_queries
):
    client = client_for(make_user("alice"))
    # token; savepoint; insert; release. Nobody has reacted to it yet.
    with django_assert_num_queries(4):
        response = post_json(client, "/api/posts/", {"body": "fresh"})
    assert response.status_code == 201
    assert response.json()["viewer"] == {"liked": False, "rating": None}
    assert response.json()["counts"] == {
        "likes": 0,
        "replies": 0,
        "helpful": 0,
        "unhelpful": 0,
    }


def test_reply_to_a_reply_finds_the_root_without_reading_it(
    client_for, make_user, make_post, django_assert_num_queries
):
    alice, bob = make_user("alice"), make_user("bob")
    root = make_post(alice)
    first = make_post(bob, parent=root)
    client = client_for(alice)
    # token; savepoint; the parent; blocks; insert; the parent's reply count;
    # the reply notification; release
    with django_assert_num_queries(8):
        response = post_json(
            client, "/api/posts/", {"body": "deeper", "parent_id": first.id}
        )
    assert response.json()["root_id"] == root.id


def test_follow_and_unfollow_answer_in_a_fixed_number_of_queries(
    client_for, make_user, django_assert_num_queries
):
    alice, bob = make_user("alice"), make_user("bob")
    services.follow_create(follower=bob, followee_id=alice.id)
    client = client_for(alice)
    # token; the account by name; the account by id; blocks; savepoint,
    # follow, notification, release; the relationship
    with django_assert_num_queries(9):
        followed = client.post("/api/users/bob/follow/")
    assert followed.status_code == 201
    assert followed.json() == {
        "following": True,
        "followed_by": True,
        "muting": False,
        "blocking": False,
    }
    # token; the account; savepoint, delete, release; the relationship
    with django_assert_num_queries(6):
        unfollowed = client.delete("/api/users/bob/follow/")
    assert unfollowed.json()["following"] is False
    assert unfollowed.json()["followed_by"] is True


def test_feed_endpoints_add_no_schema_errors_or_warnings(tmp_path, capsys):
    """The feed's share of the schema is clean even while another app's is not."""
    call_command("spectacular", "--validate", "--file", str(tmp_path / "schema.yaml"))
    err = capsys.readouterr().err
    assert "/feed/" not in err
    assert not re.search(r"Warning( \[[^\]]*\])?: ", err), err

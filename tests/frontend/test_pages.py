"""Server-rendered pages: render for everyone, reject bad input, keep CSRF."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from feed import services
from feed.models import Block, Follow, Like, Post, Rating, Report, User

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-42"


@pytest.fixture
def alice(make_user: Any) -> User:
    return make_user("alice", display_name="Alice A.")


@pytest.fixture
def bob(make_user: Any) -> User:
    return make_user("bob")


@pytest.fixture
def alice_client(alice: User) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def bobs_post(bob: User) -> Post:
    return services.post_create(
        author=bob, body="Hello from Bob, see https://example.org and @alice"
    )


def _text(response: Any) -> str:
    return response.content.decode()


# Rendering --------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "frontend:home",
        "frontend:public",
        "frontend:search",
        "frontend:login",
        "frontend:signup",
    ],
)
def test_public_pages_render_for_anonymous_visitors(
    client: Client, bobs_post: Post, name: str
) -> None:
    response = client.get(reverse(name))
    assert response.status_code == 200
    html = _text(response)
    assert 'href="#main"' in html and '<main id="main"' in html


def test_anonymous_home_shows_public_posts_and_a_signup_call_to_action(
    client: Client, bobs_post: Post
) -> None:
    html = _text(client.get("/"))
    assert "Hello from Bob" in html
    assert reverse("frontend:signup") in html
    assert "live.js" not in html  # no websocket for visitors


def test_signed_in_pages_render(
    alice_client: Client, alice: User, bob: User, bobs_post: Post
) -> None:
    for url in [
        "/",
        "/public/",
        "/search/",
        "/search/?q=hello",
        "/notifications/",
        "/settings/",
        f"/@{bob.username}/",
        f"/@{alice.username}/",
        f"/posts/{bobs_post.id}/",
        f"/posts/{bobs_post.id}/report/",
    ]:
        response = alice_client.get(url)
        assert response.status_code == 200, url


def test_anonymous_visitors_can_read_profiles_and_threads(
    client: Client, bob: User, bobs_post: Post
) -> None:
    assert "Hello from Bob" in _text(client.get(f"/@{bob.username}/"))
    html = _text(client.get(f"/posts/{bobs_post.id}/"))
    assert "Hello from Bob" in html and "to reply and react" in html


@pytest.mark.parametrize("url", ["/notifications/", "/settings/", "/settings/export/"])
def test_private_pages_send_anonymous_visitors_to_login(
    client: Client, url: str
) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("frontend:login"))


def test_post_body_is_escaped_with_clickable_links(
    alice_client: Client, bob: User
) -> None:
    post = services.post_create(
        author=bob, body="<script>alert(1)</script> https://example.org @alice"
    )
    html = _text(alice_client.get(f"/posts/{post.id}/"))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
    assert '<a href="https://example.org"' in html
    assert f'href="{reverse("frontend:profile", kwargs={"username": "alice"})}"' in html


def test_home_shows_followed_posts_with_viewer_state(
    alice_client: Client, alice: User, bob: User, bobs_post: Post
) -> None:
    services.follow_create(follower=alice, followee_id=bob.id)
    services.like_create(user=alice, post_id=bobs_post.id)
    services.rating_set(user=alice, post_id=bobs_post.id, value="helpful")
    html = _text(alice_client.get("/"))
    assert "Hello from Bob" in html
    assert re.search(rf'id="like-{bobs_post.id}"[^>]*aria-pressed="true"', html)
    assert re.search(rf'id="helpful-{bobs_post.id}"[^>]*aria-pressed="true"', html)
    assert re.search(rf'id="unhelpful-{bobs_post.id}"[^>]*aria-pressed="false"', html)
    assert 'data-live="home"' in html and "live.js" in html


def test_home_keeps_a_per_post_extension_point(
    alice_client: Client, alice: User
) -> None:
    services.post_create(author=alice, body="mine")
    html = _text(alice_client.get("/"))
    assert 'class="post-actions"' in html


def test_home_query_count_is_fixed(
    alice_client: Client, alice: User, make_user: Any, django_assert_num_queries: Any
) -> None:
    for n in range(5):
        author = make_user(f"author{n}")
        services.follow_create(follower=alice, followee_id=author.id)
        for i in range(3):
            post = services.post_create(
                author=author, body=f"post {i} by {author.username}"
            )
            if i == 0:
                services.like_create(user=alice, post_id=post.id)
        services.post_create(author=alice, body="reply", parent_id=post.id)
    # session, user, the feed context (stored feed choice, policy, models and
    # the viewer's inputs in one query), blocks+mutes (one union), posts,
    # likes and ratings (one union), unread badge
    with django_assert_num_queries(7):
        response = alice_client.get("/")
    assert response.status_code == 200
    assert _text(response).count('class="feed-item"') == 20


def test_cursor_pagination_has_a_load_more_link_and_partial(
    alice_client: Client, alice: User
) -> None:
    for i in range(35):
        services.post_create(author=alice, body=f"number {i}")
    html = _text(alice_client.get("/"))
    match = re.search(r'href="\?cursor=([^"]+)"', html)
    assert match, "first page links to the next"
    partial = _text(alice_client.get(f"/?cursor={match.group(1)}&partial=1"))
    assert "<html" not in partial
    assert partial.count('class="feed-item"') == 5
    assert "number 0" in partial and "number 5" not in partial


def test_malformed_cursor_is_a_readable_400(alice_client: Client) -> None:
    response = alice_client.get("/public/?cursor=%%%nonsense")
    assert response.status_code == 400
    assert "cursor is malformed" in _text(response)


def test_unknown_post_and_profile_are_readable_404s(alice_client: Client) -> None:
    for url in ["/posts/999999/", "/@nobody_here/", "/posts/99999999999999999/"]:
        response = alice_client.get(url)
        assert response.status_code == 404, url
        assert "couldn't find" in _text(response)


# Compose ----------------------------------------------------------------------


def test_compose_publishes_and_redirects_without_js(
    alice_client: Client, alice: User
) -> None:
    response = alice_client.post("/posts/", {"body": "A calm first post", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert Post.objects.get().body == "A calm first post"


def test_compose_with_htmx_returns_the_new_post_and_a_fresh_form(
    alice_client: Client,
) -> None:
    response = alice_client.post(
        "/posts/", {"body": "via htmx"}, HTTP_HX_REQUEST="true"
    )
    html = _text(response)
    assert response.status_code == 200
    assert (
        "via htmx" in html and 'hx-swap-oob="outerHTML"' in html and "<html" not in html
    )


@pytest.mark.parametrize(
    "body, message",
    [
        ("", "can&#x27;t be empty"),
        ("   \u200b ", "can&#x27;t be empty"),
        ("x" * 501, "at most 500 characters"),
    ],
)
def test_compose_rejects_bad_bodies_and_writes_nothing(
    alice_client: Client, body: str, message: str
) -> None:
    response = alice_client.post("/posts/", {"body": body})
    assert response.status_code == 400
    html = _text(response)
    assert message in html
    assert 'aria-invalid="true"' in html and 'id="id_body_error"' in html
    assert Post.objects.count() == 0
    htmx = alice_client.post("/posts/", {"body": body}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 400 and htmx["HX-Retarget"] == "#compose"
    assert Post.objects.count() == 0


def test_reply_to_unknown_post_is_a_form_error(alice_client: Client) -> None:
    response = alice_client.post("/posts/", {"body": "hi", "parent_id": "424242"})
    assert response.status_code == 400
    assert "No such post" in _text(response)
    assert Post.objects.count() == 0


def test_reply_goes_back_to_the_thread(alice_client: Client, bobs_post: Post) -> None:
    response = alice_client.post(
        "/posts/", {"body": "a reply", "parent_id": bobs_post.id}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(f"/posts/{bobs_post.id}/")
    assert Post.objects.get(body="a reply").parent_id == bobs_post.id


def test_signed_out_compose_is_sent_to_login(client: Client) -> None:
    response = client.post("/posts/", {"body": "hello"})
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert Post.objects.count() == 0


def test_open_redirect_through_next_is_refused(alice_client: Client) -> None:
    response = alice_client.post(
        "/posts/", {"body": "x", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


# Reactions, reports, deletion -------------------------------------------------


def test_like_and_rate_with_htmx_swap_the_action_bar(
    alice_client: Client, alice: User, bobs_post: Post
) -> None:
    url = f"/posts/{bobs_post.id}/react/"
    html = _text(alice_client.post(url, {"reaction": "like"}, HTTP_HX_REQUEST="true"))
    assert re.search(
        rf'id="like-{bobs_post.id}"[^>]*value="unlike"[^>]*aria-pressed="true"', html
    )
    assert "<html" not in html
    alice_client.post(url, {"reaction": "helpful"}, HTTP_HX_REQUEST="true")
    html = _text(
        alice_client.post(url, {"reaction": "unhelpful"}, HTTP_HX_REQUEST="true")
    )
    bobs_post.refresh_from_db()
    assert (
        bobs_post.like_count,
        bobs_post.helpful_count,
        bobs_post.unhelpful_count,
    ) == (1, 0, 1)
    assert Rating.objects.get(user=alice).value == -1
    assert re.search(rf'id="unhelpful-{bobs_post.id}"[^>]*aria-pressed="true"', html)


def test_liking_twice_is_a_400_with_the_reason(
    alice_client: Client, bobs_post: Post
) -> None:
    url = f"/posts/{bobs_post.id}/react/"
    alice_client.post(url, {"reaction": "like"})
    response = alice_client.post(url, {"reaction": "like"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "already like" in _text(response)
    assert Like.objects.count() == 1


def test_unknown_reaction_and_unknown_post(
    alice_client: Client, bobs_post: Post
) -> None:
    response = alice_client.post(
        f"/posts/{bobs_post.id}/react/", {"reaction": "love"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400 and "Choose like" in _text(response)
    response = alice_client.post(
        "/posts/987654/react/", {"reaction": "like"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 404
    response = alice_client.post("/posts/987654/react/", {"reaction": "like"})
    assert response.status_code == 302  # back, with a notice
    assert Like.objects.count() == 0


def test_rating_own_post_is_refused_without_js(
    alice_client: Client, alice: User
) -> None:
    post = services.post_create(author=alice, body="mine")
    response = alice_client.post(
        f"/posts/{post.id}/react/", {"reaction": "helpful"}, follow=True
    )
    assert "can&#x27;t rate your own post" in _text(response)
    assert Rating.objects.count() == 0


def test_report_requires_a_valid_reason(alice_client: Client, bobs_post: Post) -> None:
    url = f"/posts/{bobs_post.id}/report/"
    response = alice_client.post(url, {"reason": "because"})
    assert response.status_code == 400 and "Select a valid choice" in _text(response)
    assert Report.objects.count() == 0
    response = alice_client.post(url, {"reason": "spam", "details": "ads"})
    assert response.status_code == 302
    response = alice_client.post(url, {"reason": "spam"})
    assert response.status_code == 400 and "already reported" in _text(response)
    assert Report.objects.count() == 1


def test_only_the_author_can_delete(
    alice_client: Client, alice: User, bobs_post: Post
) -> None:
    response = alice_client.post(f"/posts/{bobs_post.id}/delete/")
    assert response.status_code == 403
    assert "only delete your own" in _text(response)
    own = services.post_create(author=alice, body="mine")
    response = alice_client.post(f"/posts/{own.id}/delete/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Post deleted" in _text(response)
    assert not Post.objects.filter(id=own.id).exists()
    assert Post.objects.filter(id=bobs_post.id).exists()


# Relationships ----------------------------------------------------------------


def test_follow_and_unfollow_from_a_profile(
    alice_client: Client, alice: User, bob: User
) -> None:
    html = _text(alice_client.post(f"/@{bob.username}/follow/", HTTP_HX_REQUEST="true"))
    assert "You follow @bob" in html and "Unfollow" in html
    assert Follow.objects.filter(follower=alice, followee=bob).exists()
    response = alice_client.post(f"/@{bob.username}/follow/", HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "already follow" in _text(response)
    alice_client.post(f"/@{bob.username}/unfollow/")
    assert not Follow.objects.exists()


def test_following_yourself_is_refused(alice_client: Client, alice: User) -> None:
    response = alice_client.post(f"/@{alice.username}/follow/", follow=True)
    assert "can&#x27;t follow yourself" in _text(response)
    assert not Follow.objects.exists()


def test_block_hides_the_profile_and_unblock_from_settings(
    alice_client: Client, alice: User, bob: User
) -> None:
    response = alice_client.post(f"/@{bob.username}/block/")
    assert response.status_code == 302 and "/settings/" in response["Location"]
    assert Block.objects.filter(blocker=alice, blocked=bob).exists()
    assert alice_client.get(f"/@{bob.username}/").status_code == 404
    assert "@bob" in _text(alice_client.get("/settings/"))
    alice_client.post(f"/@{bob.username}/unblock/")
    assert not Block.objects.exists()


def test_unknown_relationship_action_is_404(alice_client: Client, bob: User) -> None:
    assert alice_client.post(f"/@{bob.username}/befriend/").status_code == 404


# Accounts ---------------------------------------------------------------------


def test_signup_creates_account_and_signs_in(client: Client) -> None:
    response = client.post(
        "/signup/",
        {
            "username": "newcomer",
            "password": "a-long-phrase-9",
            "password_confirm": "a-long-phrase-9",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(username="newcomer").check_password("a-long-phrase-9")
    assert "@newcomer" in _text(client.get("/"))


@pytest.mark.parametrize(
    "data, field, message",
    [
        (
            {
                "username": "a b",
                "password": "a-long-phrase-9",
                "password_confirm": "a-long-phrase-9",
            },
            "username",
            "letters, digits or underscores",
        ),
        (
            {
                "username": "admin",
                "password": "a-long-phrase-9",
                "password_confirm": "a-long-phrase-9",
            },
            "username",
            "reserved",
        ),
        (
            {"username": "newcomer", "password": "123", "password_confirm": "123"},
            "password",
            "too short",
        ),
        (
            {
                "username": "newcomer",
                "password": "a-long-phrase-9",
                "password_confirm": "different-9",
            },
            "password_confirm",
            "two passwords differ",
        ),
    ],
)
def test_signup_rejects_bad_input_next_to_the_field(
    client: Client, data: dict[str, str], field: str, message: str
) -> None:
    before = User.objects.count()
    response = client.post("/signup/", data)
    assert response.status_code == 400
    html = _text(response)
    assert message in html
    assert re.search(
        rf'id="id_{field}"[^>]*aria-describedby="[^"]*id_{field}_error', html
    ) or re.search(
        rf'aria-describedby="[^"]*id_{field}_error[^"]*"[^>]*id="id_{field}"', html
    )
    assert User.objects.count() == before


def test_signup_rejects_taken_username_case_insensitively(
    client: Client, alice: User
) -> None:
    response = client.post(
        "/signup/",
        {
            "username": "ALICE",
            "password": "a-long-phrase-9",
            "password_confirm": "a-long-phrase-9",
        },
    )
    assert response.status_code == 400 and "taken" in _text(response)


def test_login_page_signs_in_and_reports_bad_credentials(
    client: Client, alice: User
) -> None:
    response = client.post("/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200 and "don&#x27;t match an account" in _text(
        response
    )
    response = client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.post("/logout/").status_code == 302
    assert client.get("/settings/").status_code == 302


def test_settings_profile_and_password(alice_client: Client, alice: User) -> None:
    response = alice_client.post(
        "/settings/profile/", {"display_name": "Al", "bio": "x" * 301}
    )
    assert response.status_code == 400 and "at most 300 characters" in _text(response)
    alice_client.post("/settings/profile/", {"display_name": "Al", "bio": "Gardener"})
    alice.refresh_from_db()
    assert (alice.display_name, alice.bio) == ("Al", "Gardener")
    response = alice_client.post(
        "/settings/password/",
        {"old_password": "nope", "new_password": "a-new-phrase-77"},
    )
    assert response.status_code == 400 and "current password is not correct" in _text(
        response
    )
    response = alice_client.post(
        "/settings/password/",
        {"old_password": PASSWORD, "new_password": "a-new-phrase-77"},
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("a-new-phrase-77")
    assert alice_client.get("/settings/").status_code == 200  # still signed in


def test_data_export_is_a_json_download(alice_client: Client, alice: User) -> None:
    services.post_create(author=alice, body="exported")
    response = alice_client.get("/settings/export/")
    assert response["Content-Disposition"].startswith("attachment")
    data = json.loads(response.content)
    assert data["account"]["username"] == "alice"
    assert [p["body"] for p in data["posts"]] == ["exported"]


def test_account_delete_needs_the_password(alice_client: Client, alice: User) -> None:
    response = alice_client.post("/settings/delete/", {"password": "wrong"})
    assert response.status_code == 400 and "current password" in _text(response)
    assert User.objects.filter(id=alice.id).exists()
    response = alice_client.post("/settings/delete/", {"password": PASSWORD})
    assert response.status_code == 302
    assert not User.objects.filter(id=alice.id).exists()


# Search, notifications, live endpoints ----------------------------------------


def test_search_finds_people_and_posts_and_rejects_short_queries(
    client: Client, bob: User, bobs_post: Post
) -> None:
    html = _text(client.get("/search/?q=bob"))
    assert "@bob" in html and "Hello from Bob" in html
    response = client.get("/search/?q=x")
    assert response.status_code == 400 and "at least 2 characters" in _text(response)


def test_notifications_list_and_mark_read(
    alice_client: Client, alice: User, bob: User, bobs_post: Post
) -> None:
    html = _text(alice_client.get("/"))
    assert "data-unread-badge" in html  # bob mentioned alice
    html = _text(alice_client.get("/notifications/"))
    assert "mentioned you" in html
    alice_client.post("/notifications/read/")
    assert "data-unread-badge" not in _text(alice_client.get("/"))


def test_new_count_endpoint(
    alice_client: Client, client: Client, alice: User, bob: User
) -> None:
    services.follow_create(follower=alice, followee_id=bob.id)
    services.post_create(author=bob, body="old")
    response = alice_client.get("/?partial=1")
    marker = response["X-Feed-Marker"]
    services.post_create(author=bob, body="new 1")
    services.post_create(author=bob, body="new 2")
    services.post_create(author=alice, body="my own does not count")
    assert alice_client.get(f"/feed/new-count/?since={marker}").json()["count"] == 2
    assert alice_client.get("/feed/new-count/?since=").json()["count"] == 3
    assert alice_client.get("/feed/new-count/?since=garbage!").status_code == 400
    assert client.get("/feed/new-count/").status_code == 401


def test_thread_counts_endpoint(client: Client, alice: User, bobs_post: Post) -> None:
    services.rating_set(user=alice, post_id=bobs_post.id, value="helpful")
    data = client.get(f"/posts/{bobs_post.id}/counts/").json()
    assert data["posts"][str(bobs_post.id)]["helpful_count"] == 1


# CSRF -------------------------------------------------------------------------


def test_csrf_is_enforced_on_every_form(
    alice: User, bob: User, bobs_post: Post
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    for url, data in [
        ("/posts/", {"body": "forged"}),
        (f"/posts/{bobs_post.id}/react/", {"reaction": "like"}),
        (f"/@{bob.username}/follow/", {}),
        ("/settings/delete/", {"password": PASSWORD}),
        ("/logout/", {}),
    ]:
        response = client.post(url, data)
        assert response.status_code == 403, url
        assert "form expired" in _text(response)
    assert (
        Post.objects.count() == 1
        and not Like.objects.exists()
        and not Follow.objects.exists()
    )
    assert User.objects.filter(id=alice.id).exists()


def test_csrf_token_from_the_page_is_accepted(alice: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    html = _text(client.get("/"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    assert (
        client.post(
            "/posts/", {"body": "real", "csrfmiddlewaretoken": token}
        ).status_code
        == 302
    )
    header_token = re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/posts/",
        {"body": "htmx"},
        HTTP_X_CSRFTOKEN=header_token,
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200


def test_error_templates_render_without_a_request_context() -> None:
    from django.template.loader import render_to_string

    assert "Something went wrong" in render_to_string("500.html")


def test_thread_page_carries_live_hooks_and_reply_form(
    alice_client: Client, bobs_post: Post
) -> None:
    reply = services.post_create(
        author=bobs_post.author, body="more", parent_id=bobs_post.id
    )
    html = _text(alice_client.get(f"/posts/{reply.id}/"))
    assert f'data-root-id="{bobs_post.id}"' in html
    assert f'name="parent_id" value="{reply.id}"' in html
    assert "Write a reply" in html and "live.js" in html


def test_reply_with_a_malformed_parent_says_so(alice_client: Client) -> None:
    response = alice_client.post("/posts/", {"body": "hi", "parent_id": "abc"})
    assert response.status_code == 400
    assert "replying to isn't valid" in _text(response)
    assert Post.objects.count() == 0


@pytest.mark.parametrize(
    "url, status",
    [
        ("/@a%00b/", 404),
        ("/search/?q=ab%00c", 400),
        ("/?cursor=%00", 400),
        ("/public/?cursor=" + "A" * 3000, 400),
        ("/feed/new-count/?since=%00", 400),
        ("/posts/0/", 404),
        (f"/posts/{10**12}/counts/", 404),
    ],
)
def test_odd_urls_get_a_4xx_not_a_500(
    alice_client: Client, url: str, status: int
) -> None:
    assert alice_client.get(url).status_code == status


@pytest.mark.parametrize(
    "url, data",
    [
        ("/posts/", {"body": "a\x00b"}),
        ("/posts/", {"body": "ok", "parent_id": str(10**20)}),
        ("/settings/profile/", {"display_name": "nul\x00", "bio": ""}),
        ("/@bob%00/follow/", {}),
    ],
)
def test_odd_form_input_gets_a_4xx_and_writes_nothing(
    alice_client: Client, bob: User, url: str, data: dict[str, str]
) -> None:
    response = alice_client.post(url, data)
    assert 400 <= response.status_code < 500
    assert not Post.objects.exists() and not Follow.objects.exists()


def test_admin_made_usernames_with_dots_have_profiles(
    client: Client, make_user: Any
) -> None:
    person = make_user("first.last")
    services.post_create(author=person, body="made by an admin")
    assert client.get("/public/").status_code == 200
    assert "made by an admin" in _text(client.get("/@first.last/"))


def test_thread_and_public_query_counts_do_not_grow_with_posts(
    alice_client: Client,
    alice: User,
    make_user: Any,
    django_assert_max_num_queries: Any,
) -> None:
    root = services.post_create(author=alice, body="root")
    for n in range(12):
        replier = make_user(f"replier{n}")
        reply = services.post_create(
            author=replier, body=f"reply {n}", parent_id=root.id
        )
        services.rating_set(user=alice, post_id=reply.id, value="helpful")
    # session, user, blocks x2, thread, likes, ratings, unread badge (+ root lookup)
    with django_assert_max_num_queries(9):
        assert alice_client.get(f"/posts/{root.id}/").status_code == 200
    with django_assert_max_num_queries(9):
        assert alice_client.get("/public/").status_code == 200

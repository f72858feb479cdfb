"""Rate limits, sign-in lockout and account enumeration, on pages and the API.

The counters live in the configured cache (Redis under CI). The "cache down"
tests point the cache at a loopback port where nothing listens: a real
connection failure, not a mock.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import Client, override_settings
from rest_framework.test import APIClient

from charter_social import ratelimit
from feed.models import Post, User
from feed.services import post_create

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-42"
LOCKOUT_TEXT = "Too many failed sign-in attempts"

# Nothing listens on this port; connecting is refused at once.
DEAD_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}


@pytest.fixture
def small_rates() -> Iterator[None]:
    """Small limits so a test reaches them in a few requests."""
    with override_settings(
        RATE_LIMITS={
            "post": (3, 60),
            "rate": (3, 60),
            "follow": (3, 60),
            "signup": (2, 3600),
            "sign_in": (100, 60),
            "lockout_user": (3, 900),
            "lockout_address": (6, 900),
        }
    ):
        yield


def _login_page(client: Client, username: str, password: str) -> Any:
    return client.post("/login/", {"username": username, "password": password})


def _token(client: APIClient, username: str, password: str) -> Any:
    return client.post(
        "/api/auth/token/",
        data=json.dumps({"username": username, "password": password}),
        content_type="application/json",
    )


# Lockout -----------------------------------------------------------------------------


def test_page_login_locks_a_username_after_repeated_failures(
    small_rates: None, make_user: Callable[..., User]
) -> None:
    make_user("alice")
    client = Client()
    for n in range(3):
        assert _login_page(client, "alice", f"guess-{n}").status_code == 200
    locked = _login_page(client, "alice", PASSWORD)
    # Even the right password is refused while locked: the guesser learns nothing.
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    assert LOCKOUT_TEXT in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_lockout_follows_the_username_across_addresses_and_into_the_api(
    small_rates: None, make_user: Callable[..., User]
) -> None:
    make_user("alice")
    for n in range(3):
        client = Client(REMOTE_ADDR=f"198.51.100.{n}")
        assert _login_page(client, "ALICE", f"guess-{n}").status_code == 200
    api = APIClient(REMOTE_ADDR="198.51.100.99")
    response = _token(api, "alice", PASSWORD)
    assert response.status_code == 429
    assert LOCKOUT_TEXT in response.json()["detail"]
    assert "Retry-After" in response


def test_lockout_per_address_stops_password_spraying(
    small_rates: None, make_user: Callable[..., User]
) -> None:
    for n in range(6):
        make_user(f"user{n}")
    sprayer = APIClient(REMOTE_ADDR="203.0.113.7")
    codes = [_token(sprayer, f"user{n}", "Password1").status_code for n in range(6)]
    assert codes == [400] * 6
    # A seventh account from the same address is refused before any check...
    make_user("fresh")
    assert _token(sprayer, "fresh", PASSWORD).status_code == 429
    # ...while the same account from another address signs in.
    assert (
        _token(APIClient(REMOTE_ADDR="203.0.113.8"), "fresh", PASSWORD).status_code
        == 200
    )


def test_sign_in_attempts_are_throttled_on_the_page_like_the_api(
    make_user: Callable[..., User],
) -> None:
    """The page and the API share one counter (scope sign_in, 10 a minute)."""
    make_user("alice")
    api = APIClient()
    for n in range(5):
        assert _token(api, "alice", f"guess-{n}").status_code == 400
    client = Client()
    codes = [_login_page(client, "alice", f"guess-{n}").status_code for n in range(6)]
    assert codes == [200] * 5 + [429]


# Enumeration -------------------------------------------------------------------------


def test_login_page_answers_unknown_user_and_wrong_password_alike(
    make_user: Callable[..., User],
) -> None:
    make_user("alice")
    wrong = _login_page(Client(), "alice", "not-her-password")
    unknown = _login_page(Client(), "nobody-here", "not-her-password")
    assert wrong.status_code == unknown.status_code == 200

    def errors(response: Any) -> list[str]:
        return [str(e) for e in response.context["form"].non_field_errors()]

    assert errors(wrong) == errors(unknown)
    assert errors(wrong)


def test_lockout_of_an_unknown_username_looks_like_a_real_one(
    small_rates: None, make_user: Callable[..., User]
) -> None:
    make_user("alice")
    answers = {}
    for name in ("alice", "ghost"):
        client = APIClient(REMOTE_ADDR=f"192.0.2.{len(name)}")
        codes = [_token(client, name, f"guess-{n}").status_code for n in range(4)]
        answers[name] = (codes, _token(client, name, "x").json()["detail"])
    assert answers["alice"][0] == answers["ghost"][0] == [400, 400, 400, 429]
    # The countdowns ("wait 12 minute(s)", "in 700 seconds") may tick between
    # the two answers; everything else must read the same.
    alike = [re.sub(r"\d+", "N", answers[n][1]) for n in answers]
    assert alike[0] == alike[1]


class _TimingHasher(PBKDF2PasswordHasher):
    """PBKDF2 with enough work to dominate the request, few enough to stay quick."""

    iterations = 60_000


def test_unknown_user_and_wrong_password_take_similar_time(
    make_user: Callable[..., User], settings: Any
) -> None:
    """Django's ModelBackend hashes the password even for an unknown username;
    this keeps it that way (a shortcut would make the response time reveal
    which usernames exist)."""
    settings.PASSWORD_HASHERS = [f"{__name__}._TimingHasher"]
    make_user("alice")
    api = APIClient()

    from django.core.cache import cache

    def timed(username: str, n: int) -> float:
        ratelimit.local_counter.clear()
        cache.clear()
        started = time.perf_counter()
        assert _token(api, username, f"wrong-{n}").status_code == 400
        return time.perf_counter() - started

    samples: dict[str, list[float]] = {"alice": [], "ghost": []}
    for n in range(9):  # interleaved, so load from elsewhere hits both alike
        for name in samples:
            samples[name].append(timed(name, n))
    known = statistics.median(samples["alice"])
    unknown = statistics.median(samples["ghost"])
    assert 0.4 < unknown / known < 2.5, (known, unknown)


def test_signup_of_a_taken_username_says_only_what_the_field_reveals(
    make_user: Callable[..., User],
) -> None:
    """Usernames are public (every profile is at /@name/), so a sign-up form may
    say a name is taken; it reveals nothing else (no email check, same status
    and shape as any other invalid username)."""
    make_user("alice")  # email alice@example.org
    taken = APIClient().post(
        "/api/auth/signup/",
        {"username": "alice", "password": "a-long-fresh-pass-9"},
        format="json",
    )
    reserved = APIClient().post(
        "/api/auth/signup/",
        {"username": "admin", "password": "a-long-fresh-pass-9"},
        format="json",
    )
    assert taken.status_code == reserved.status_code == 400
    assert set(taken.json()["errors"]) == set(reserved.json()["errors"]) == {"username"}
    # A reused email is not a signal: it signs up like any other.
    same_email = APIClient().post(
        "/api/auth/signup/",
        {
            "username": "alice2",
            "password": "a-long-fresh-pass-9",
            "email": "alice@example.org",
        },
        format="json",
    )
    assert same_email.status_code == 201


# Write limits ------------------------------------------------------------------------


def test_posting_is_limited_per_account_on_api_and_page_together(
    small_rates: None, make_user: Callable[..., User]
) -> None:
    alice = make_user("alice")
    api = APIClient()
    api.force_authenticate(alice)
    codes = [
        api.post("/api/posts/", {"body": f"hi {n}"}, format="json").status_code
        for n in range(2)
    ]
    page = Client()
    page.force_login(alice)
    codes.append(page.post("/posts/", {"body": "from the page"}).status_code)
    over_page = page.post("/posts/", {"body": "one too many"})
    over_api = api.post("/api/posts/", {"body": "one too many"}, format="json")
    assert codes == [201, 201, 302]
    assert over_page.status_code == over_api.status_code == 429
    assert int(over_page["Retry-After"]) > 0 and int(over_api["Retry-After"]) > 0
    assert Post.objects.filter(author=alice).count() == 3
    # Another account is not affected.
    bob = make_user("bob")
    api.force_authenticate(bob)
    assert api.post("/api/posts/", {"body": "bob"}, format="json").status_code == 201


def test_rating_is_limited_per_account(
    small_rates: None, make_user: Callable[..., User]
) -> None:
    author, rater = make_user("author"), make_user("rater")
    posts = [post_create(author=author, body=f"p{n}") for n in range(4)]
    api = APIClient()
    api.force_authenticate(rater)
    codes = [
        api.put(
            f"/api/posts/{p.id}/rating/", {"value": "helpful"}, format="json"
        ).status_code
        for p in posts
    ]
    assert codes == [200, 200, 200, 429]


def test_page_actions_answer_htmx_with_a_429_fragment(
    small_rates: None, make_user: Callable[..., User]
) -> None:
    author, follower = make_user("author"), make_user("follower")
    page = Client()
    page.force_login(follower)
    for _ in range(3):
        page.post(f"/@{author.username}/follow/")
    response = page.post(f"/@{author.username}/unfollow/", HTTP_HX_REQUEST="true")
    assert response.status_code == 429
    assert "Wait" in response.content.decode()
    assert "<html" not in response.content.decode()


def test_signup_page_and_api_share_the_per_address_limit(small_rates: None) -> None:
    def page_signup(name: str) -> int:
        return (
            Client()
            .post(
                "/signup/",
                {
                    "username": name,
                    "password": "a-long-fresh-pass-9",
                    "password_confirm": "a-long-fresh-pass-9",
                },
            )
            .status_code
        )

    api_status = (
        APIClient()
        .post(
            "/api/auth/signup/",
            {"username": "first", "password": "a-long-fresh-pass-9"},
            format="json",
        )
        .status_code
    )
    assert [api_status, page_signup("second"), page_signup("third")] == [201, 302, 429]
    assert not User.objects.filter(username="third").exists()


# Failing safe ------------------------------------------------------------------------


@override_settings(CACHES=DEAD_REDIS)
def test_writes_are_allowed_while_the_cache_is_down(
    small_rates: None, make_user: Callable[..., User]
) -> None:
    alice = make_user("alice")
    api = APIClient()
    api.force_authenticate(alice)
    codes = [
        api.post("/api/posts/", {"body": f"hi {n}"}, format="json").status_code
        for n in range(5)
    ]
    assert codes == [201] * 5  # over the limit of 3, but no counter to consult
    signup = APIClient().post(
        "/api/auth/signup/",
        {"username": "newcomer", "password": "a-long-fresh-pass-9"},
        format="json",
    )
    assert signup.status_code == 201


@override_settings(CACHES=DEAD_REDIS)
def test_sign_in_stays_protected_while_the_cache_is_down(
    small_rates: None, make_user: Callable[..., User]
) -> None:
    make_user("alice")
    client = Client()
    for n in range(3):
        assert _login_page(client, "alice", f"guess-{n}").status_code == 200
    assert _login_page(client, "alice", PASSWORD).status_code == 429
    # The API shares the per-process fallback counter.
    assert _token(APIClient(), "alice", PASSWORD).status_code == 429
    # Another account still signs in: the outage is not a lockout of everyone.
    make_user("bob")
    assert (
        _token(APIClient(REMOTE_ADDR="192.0.2.50"), "bob", PASSWORD).status_code == 200
    )


def test_rate_limit_keys_hold_no_personal_data(make_user: Callable[..., User]) -> None:
    key, _ = ratelimit._key("sign_in", "203.0.113.5:alice", 60)
    assert "alice" not in key and "203.0.113.5" not in key


def test_signing_a_petition_works_while_the_cache_is_down(
    make_user: Callable[..., User], active_charter: Any
) -> None:
    from accountability.petitions import petition_file

    petition = petition_file(
        author=make_user("author"),
        target="article",
        title="Article 1 is too vague",
        text="Say what incivility means.",
        article="1",
    )
    api = APIClient()
    api.force_authenticate(make_user("signer"))
    with override_settings(CACHES=DEAD_REDIS):
        response = api.post(f"/api/petitions/{petition.pk}/signatures/")
    assert response.status_code == 201, response.status_code


def test_every_counting_window_on_redis_expires(make_user: Callable[..., User]) -> None:
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        pytest.skip("the one-round-trip count is Redis's; other caches add + incr")
    window = ratelimit.rate_for("post").window
    assert [ratelimit.hit("post", "user:1").count for _ in range(3)] == [1, 2, 3]
    # The same key as cache.get reads: peek and hit see one count.
    assert ratelimit.peek("post", "user:1").count == 3
    key, _ = ratelimit._key("post", "user:1", window)
    full_key = backend.make_and_validate_key(key)
    client = backend._cache.get_client(full_key, write=True)
    assert 0 < client.ttl(full_key) <= window + 1
    # A counter found without an expiry (written by anything else) gets one:
    # a key that never expires would lock its account out for good.
    client.persist(full_key)
    assert client.ttl(full_key) == -1
    assert ratelimit.hit("post", "user:1").count == 4
    assert 0 < client.ttl(full_key) <= window + 1

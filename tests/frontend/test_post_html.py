"""frontend.post_html emits the markup of the post templates it replaced.

tests/frontend/legacy_templates/legacy/ holds `_post.html`, `_post_actions.html`,
`_post_extra.html` and `_feed_items.html` as they were before posts were built
in Python. Each test renders the same context both ways and requires the same
bytes (CSRF tokens aside: every render masks the token afresh), over a mix of
viewers and post states, including hostile text.
"""

from __future__ import annotations

import contextlib
import random
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from datetime import timezone as dt_timezone
from pathlib import Path
from typing import Any, cast

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from django.template import Engine, RequestContext
from django.template.loader import render_to_string
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince

from feed import services
from feed.models import Post, User
from frontend import feeds, post_text
from ranking.feed import Explanation

pytestmark = pytest.mark.django_db

OPTIONS = cast(dict[str, Any], settings.TEMPLATES[0]["OPTIONS"])
LEGACY = Engine(
    dirs=[str(Path(__file__).parent / "legacy_templates")],
    context_processors=OPTIONS["context_processors"],
    libraries={"frontend_tags": "frontend.templatetags.frontend_tags"},
)
CSRF_INPUT = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')
HOSTILE = "<script>alert('x')</script> & \"quotes\""


def _same_tokens(html: str) -> str:
    tokens = {m.group(0) for m in CSRF_INPUT.finditer(html)}
    assert len(tokens) <= 1, "one masked token serves the whole page"
    return CSRF_INPUT.sub(r"\1TOKEN\2", html)


def _request(user: Any, path: str = "/") -> HttpRequest:
    request = RequestFactory().get(path)
    request.user = user
    request.session = SessionBase()
    return request


def _legacy(template: str, context: dict[str, Any], request: HttpRequest) -> str:
    return LEGACY.get_template(f"legacy/{template}").render(
        RequestContext(request, context)
    )


def _assert_same(template: str, context: dict[str, Any], request: Any) -> str:
    new = render_to_string(f"frontend/{template}", context, request)
    old = _legacy(template, context, request)
    assert _same_tokens(new) == _same_tokens(old)
    return new


@pytest.fixture
def alice(make_user: Any) -> User:
    return make_user("alice", display_name="Alice <b>A.</b> & co")


@pytest.fixture
def bob(make_user: Any) -> User:
    return make_user("bob", display_name=HOSTILE)


def _aged(post: Post, **delta: float) -> Post:
    # A fixed age, so "3 hours ago" cannot tick over between the two renders.
    post.created_at = timezone.now() - timedelta(**delta)
    post.save(update_fields=["created_at"])
    return post


@pytest.fixture
def mix(alice: User, bob: User) -> list[feeds.FeedItem]:
    """A ranked page as alice sees it: her own post, bob's, a reply, links,
    mentions and hostile text, every reaction and feedback state."""
    own = _aged(
        services.post_create(
            author=alice, body="Mine, see https://example.org/a?b=1&c=2"
        ),
        hours=3,
    )
    theirs = _aged(
        services.post_create(author=bob, body=f"{HOSTILE}\nline two @alice"),
        days=2,
    )
    reply = services.post_create(author=bob, body="Agreed @alice", parent_id=own.id)
    quiet = _aged(services.post_create(author=bob, body="Quiet"), minutes=5)
    fresh = services.post_create(author=bob, body="Just posted")
    posts = list(
        Post.objects.select_related("author", "parent__author").filter(
            id__in=[own.id, theirs.id, reply.id, quiet.id, fresh.id]
        )
    )
    by_id = {p.id: p for p in posts}
    explained = Explanation(
        reasons=[
            {"signal": "bridging", "text": "people who disagree agree", "article": "2"},
            {"signal": "x<y", "text": HOSTILE, "article": ""},
            # Marked safe by its producer, so neither way escapes it; the
            # same words as plain text are escaped.
            {"signal": "tone", "text": mark_safe("<em>kept</em>"), "article": "4"},
            {"signal": "tone", "text": "<em>kept</em>", "article": "4"},
        ],
        notes=["No opinion group yet.", HOSTILE],
        policy_version=3,
        model_versions={"consensus": 2, "incivility": 1},
        demoted=True,
        score=0.5,
    )
    plain = replace(explained, reasons=[], notes=[], model_versions={}, demoted=False)
    return feeds.feed_items(
        [by_id[i] for i in (own.id, theirs.id, reply.id, quiet.id, fresh.id)],
        {
            theirs.id: {"liked": True, "rating": 1},
            reply.id: {"liked": False, "rating": -1},
            own.id: {"liked": True, "rating": None},
        },
        {own.id: explained, theirs.id: explained, reply.id: plain, quiet.id: plain},
        {theirs.id: True, reply.id: False},
    )


def test_feed_items_match_the_templates_for_the_author_and_others(
    alice: User, mix: list[feeds.FeedItem]
) -> None:
    html = _assert_same(
        "_feed_items.html",
        {"items": mix, "next_cursor": "abc"},
        _request(alice, "/?q=<x>&y='1'"),
    )
    # The comparison is only worth something if the states are really there.
    assert 'value="unrate" aria-pressed="true">Helpful' in html
    assert 'value="unrate" aria-pressed="true">Unhelpful' in html
    assert "Delete</button>" in html and ">Report</a>" in html
    assert 'class="why-demoted"' in html and 'class="why-notes"' in html
    assert 'value="clear" aria-pressed="true">Show more' in html
    assert 'value="clear" aria-pressed="true">Show less' in html
    assert 'class="reply-to"' in html and "just now" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert ">&lt;em&gt;kept&lt;/em&gt; <a" in html and "><em>kept</em> <a" in html
    assert 'value="/?q=%3Cx%3E&amp;y=&#x27;1&#x27;#post-' in html


def test_feed_items_match_the_templates_for_an_anonymous_visitor(
    mix: list[feeds.FeedItem],
) -> None:
    html = _assert_same(
        "_feed_items.html",
        {"items": mix, "next_cursor": None},
        _request(AnonymousUser()),
    )
    assert "<form" not in html and "Likes <span" in html


def test_thread_focus_and_new_post_match_the_templates(
    alice: User, mix: list[feeds.FeedItem]
) -> None:
    context = {"items": mix, "focus_id": mix[2].post.id, "is_new": True}
    html = _assert_same("_feed_items.html", context, _request(alice))
    assert html.count(" is-focus") == 1 and html.count(" is-new") == len(mix)


def test_action_bar_with_an_error_matches_the_template(
    alice: User, mix: list[feeds.FeedItem]
) -> None:
    for item in mix:
        html = _assert_same(
            "_post_actions.html",
            {"item": item, "action_error": HOSTILE},
            _request(alice, f"/posts/{item.pid}/"),
        )
        assert html.startswith('\n<div class="post-actions"')
        assert 'class="action-error" role="alert">&lt;script&gt;' in html


def test_items_render_without_a_request(mix: list[feeds.FeedItem]) -> None:
    context = {"items": mix, "next_cursor": None}
    new = render_to_string("frontend/_feed_items.html", context)
    old = LEGACY.get_template("legacy/_feed_items.html").render(
        RequestContext(HttpRequest(), context)
    )
    assert _same_tokens(new) == _same_tokens(old)


def _views_match(client: Client, url: str, template: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    context = {
        key: response.context[key]
        for key in ("items", "next_cursor", "focus_id", "is_new")
        if key in response.context
    }
    old = _legacy(template, context, response.wsgi_request)
    new = response.content.decode()
    assert _same_tokens(new) == _same_tokens(old)
    return new


def test_home_partial_from_the_view_matches_the_template(
    alice: User, bob: User, mix: list[feeds.FeedItem]
) -> None:
    services.follow_create(follower=alice, followee_id=bob.id)
    client = Client()
    client.force_login(alice)
    html = _views_match(client, "/?partial=1", "_feed_items.html")
    assert "<html" not in html and html.count('class="feed-item"') == len(mix)
    anonymous = _views_match(Client(), "/?partial=1", "_feed_items.html")
    assert "<form" not in anonymous


def test_thread_page_items_match_the_templates(
    alice: User, mix: list[feeds.FeedItem]
) -> None:
    client = Client()
    client.force_login(alice)
    root = mix[0].post
    response = client.get(f"/posts/{root.id}/")
    items = response.context["items"]
    expected = _legacy(
        "_feed_items.html",
        {"items": items, "next_cursor": None, "focus_id": root.id},
        response.wsgi_request,
    ).removesuffix("\n")
    html = _same_tokens(response.content.decode())
    assert _same_tokens(expected) in html
    assert html.count(" is-focus") == 1


def test_counts_follow_thousand_separators_like_the_templates(
    alice: User, mix: list[feeds.FeedItem]
) -> None:
    Post.objects.filter(id=mix[1].post.id).update(like_count=1234567)
    mix[1].post.refresh_from_db()
    context = {"items": mix, "next_cursor": None}
    with override_settings(USE_THOUSAND_SEPARATOR=True):
        html = _assert_same("_feed_items.html", context, _request(alice))
    assert ">1,234,567</span>" in html
    html = _assert_same("_feed_items.html", context, _request(alice))
    assert ">1234567</span>" in html


def _random_moment(rng: random.Random) -> datetime:
    moment = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(
        seconds=rng.randrange(0, 30 * 365 * 24 * 3600),
        microseconds=rng.randrange(0, 1_000_000),
    )
    if rng.random() < 0.3:
        # Month ends and leap days, where the month arithmetic turns.
        day = rng.choice([28, 29, 30, 31])
        with contextlib.suppress(ValueError):
            moment = moment.replace(day=day)
    return moment


def test_post_ages_read_as_djangos_timesince() -> None:
    rng = random.Random(11)
    spans = [60, 3600, 86400, 7 * 86400, 31 * 86400, 366 * 86400, 10 * 366 * 86400]
    checked = 0
    for _ in range(6000):
        moment = _random_moment(rng)
        now = moment + timedelta(seconds=rng.uniform(-120, rng.choice(spans)))
        if rng.random() < 0.2:
            # The same day and hour a whole number of months later, give or
            # take a second: timesince's day / time-of-day comparison.
            months = rng.randrange(1, 30)
            year, month = divmod(moment.month - 1 + months, 12)
            try:
                now = moment.replace(year=moment.year + year, month=month + 1)
            except ValueError:
                continue
            now += timedelta(seconds=rng.choice([-1, 0, 1]))
        if rng.random() < 0.2:
            now = now.astimezone(dt_timezone(timedelta(hours=rng.randrange(-11, 12))))
        if now - moment < timedelta(minutes=1):
            expected = "just now"
        else:
            expected = f"{timesince(moment, now, depth=1)} ago"
        assert post_text.age(moment, now, "en") == expected, (moment, now)
        checked += 1
    assert checked > 5000

"""The memoised template helpers answer what the uncached ones would."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.template import Context, Template
from django.urls import NoReverseMatch, set_script_prefix

from feed import services
from feed.models import User
from frontend import feeds
from frontend.post_html import PostListContext, post_list_html

ROUTES = [
    "'frontend:home'",
    "'frontend:thread' 42",
    "'frontend:thread' post_id=7",
    "'frontend:profile' username=name",
    "'charter:version' 3",
    "'accountability:petitions'",
]


@pytest.fixture
def mounted() -> Iterator[None]:
    set_script_prefix("/mount/")
    yield
    set_script_prefix("/")


def _both(route: str) -> tuple[str, str]:
    context = Context({"name": "a.b@c+d-e"})
    plain = Template(f"{{% url {route} %}}").render(context)
    cached = Template(f"{{% load frontend_tags %}}{{% url_cached {route} %}}").render(
        context
    )
    return plain, cached


@pytest.mark.parametrize("route", ROUTES)
def test_url_cached_answers_what_url_does(route: str) -> None:
    plain, cached = _both(route)
    assert cached == plain


@pytest.mark.parametrize("route", ROUTES)
def test_url_cached_follows_the_mount_point(route: str, mounted: None) -> None:
    plain, cached = _both(route)
    assert plain.startswith("/mount/") and cached == plain


def test_url_cached_raises_like_url_for_an_unknown_route() -> None:
    template = Template("{% load frontend_tags %}{% url_cached 'frontend:nope' %}")
    with pytest.raises(NoReverseMatch):
        template.render(Context())


@pytest.mark.django_db
def test_post_links_follow_the_mount_point(make_user: Any, mounted: None) -> None:
    author: User = make_user("carol")
    post = services.post_create(author=author, body="hi @carol")
    html = post_list_html(
        feeds.feed_items([post], {}), PostListContext.from_context(Context())
    )
    assert f'href="/mount/posts/{post.id}/"' in html
    assert 'href="/mount/@carol/"' in html
    assert '<a href="/mount/@carol/" class="mention">' in html
    set_script_prefix("/")
    plain = post_list_html(
        feeds.feed_items([post], {}), PostListContext.from_context(Context())
    )
    assert "/mount/" not in plain

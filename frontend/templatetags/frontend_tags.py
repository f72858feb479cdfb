"""Template helpers: posts, accessible form fields, the unread badge."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any

from django import template
from django.forms import BoundField
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.safestring import SafeString

from feed import selectors
from feed.text import render_post_body

from ..feeds import FeedItem
from ..post_html import (
    PostListContext,
    post_actions_html,
    post_item_html,
    post_list_html,
)
from ..post_text import post_age

register = template.Library()


@lru_cache(maxsize=2048)
def _reverse(
    name: str,
    args: tuple[tuple[type, Any], ...],
    kwargs: tuple[tuple[str, type, Any], ...],
    script_prefix: str,
    urlconf: str | None,
) -> str:
    # Types are in the key so that 1 and True (equal, same hash) stay apart;
    # `script_prefix` is only there to key the memo, as reverse() prepends
    # the current one itself.
    return reverse(
        name,
        urlconf=urlconf,
        args=[value for _, value in args],
        kwargs={key: value for key, _, value in kwargs},
    )


@register.simple_tag
def url_cached(name: str, *args: Any, **kwargs: Any) -> str:
    """`{% url %}` memoised per route, arguments, mount point and URLconf.

    Reversing walks the resolver (~60 us a URL on this machine, ~20 a page in
    the site chrome). Every namespace here is mounted once, so `{% url %}`'s
    current-app lookup cannot change the answer. Unlike `{% url ... as var %}`
    a missing route raises, as plain `{% url %}` does.
    """
    return _reverse(
        name,
        tuple((type(value), value) for value in args),
        tuple((key, type(value), value) for key, value in sorted(kwargs.items())),
        get_script_prefix(),
        get_urlconf(),
    )


@register.filter
def post_body(body: str) -> SafeString:
    """A post body escaped, with links and @mentions made clickable."""
    return render_post_body(body)


@register.simple_tag(takes_context=True)
def post_items(context: template.Context, items: Iterable[FeedItem]) -> SafeString:
    """Each FeedItem's `<li>`, as a feed, thread or search result lists them.

    Reads `user`, `request`, `csrf_token`, `is_new`, `focus_id` and
    `action_error` from the context, like the post templates it replaced.
    """
    return post_list_html(items, PostListContext.from_context(context))


@register.simple_tag(takes_context=True)
def post_item(context: template.Context, item: FeedItem) -> SafeString:
    """One FeedItem's `<li>` (a new post answering compose, the report page)."""
    return post_item_html(item, PostListContext.from_context(context))


@register.simple_tag(takes_context=True)
def post_actions(context: template.Context, item: FeedItem) -> SafeString:
    """One FeedItem's action bar, as a reaction answers htmx with it."""
    return post_actions_html(item, PostListContext.from_context(context))


@register.simple_tag
def field_widget(field: BoundField) -> SafeString:
    """Render a widget tied to its help text and errors with aria-describedby,
    marked aria-invalid when it has errors, so screen readers announce why."""
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}_help")
    if field.errors:
        described.append(f"{field.auto_id}_error")
    attrs: dict[str, Any] = {}
    if described:
        attrs["aria-describedby"] = " ".join(described)
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)


@register.simple_tag(takes_context=True)
def unread_notifications(context: template.Context) -> int:
    """Unread notifications of the signed-in viewer (0 when signed out)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    return selectors.notifications_unread_count(user=user)


@register.filter
def ago(moment: datetime) -> str:
    """A post's age in calm words: "just now", "5 minutes ago", "2 days ago"."""
    return post_age(moment)

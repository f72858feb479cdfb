"""The markup of a post in a list (feeds, threads, search, report), built in Python.

A 30-post home page spent ~50 ms in the template engine: each post was ~100
template nodes (three includes, two `{% csrf_token %}`, `{% url %}`, date
filters), at several microseconds a node on a slow core. These functions emit
the same bytes the templates `frontend/_post.html`, `_post_actions.html` and
`_post_extra.html` did (tests/frontend/test_post_html.py renders both and
compares), so the markup is edited here now.

Every value that comes from a person (bodies, names, explanation texts, the
request path) goes through frontend.post_text's `esc` (conditional_escape) or
its memoised body renderer; only digits (ids, counts) and constant text are
written unescaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.template import Context
from django.template.defaultfilters import capfirst
from django.template.defaulttags import CsrfTokenNode
from django.urls import get_script_prefix
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from feed.text import render_post_body_under

from .feeds import FeedItem
from .post_text import (
    age,
    esc,
    href_parts,
    number,
    post_times,
    profile_href,
    text,
)


@dataclass(frozen=True)
class PostListContext:
    """What a list of posts needs from the page around it, read once per list
    instead of once or twice per post."""

    authenticated: bool
    viewer_id: int | None
    # `{% csrf_token %}`'s output: one masked token serves the whole page.
    csrf_input: str
    # `request.get_full_path`, escaped, for the forms' "next" fields.
    next_path: str
    is_new: bool
    focus_id: Any
    action_error: Any
    language: str | None
    zone: str
    script_prefix: str
    # One "now" for every post's age on the page.
    now: datetime
    # settings.USE_THOUSAND_SEPARATOR, read once: through the settings proxy
    # each read is a Python-level __getattribute__.
    grouping: bool

    @classmethod
    def from_context(cls, context: Context) -> PostListContext:
        """The values the post templates read from their context: `user`,
        `request`, `csrf_token`, `is_new`, `focus_id` and `action_error`."""
        user = context.get("user")
        request = context.get("request")
        authenticated = bool(getattr(user, "is_authenticated", False))
        return cls(
            authenticated=authenticated,
            viewer_id=getattr(user, "id", None) if authenticated else None,
            csrf_input=CsrfTokenNode().render(context),
            next_path=esc(request.get_full_path()) if request is not None else "",
            is_new=bool(context.get("is_new")),
            focus_id=context.get("focus_id"),
            action_error=context.get("action_error"),
            language=translation.get_language(),
            zone=timezone.get_current_timezone_name(),
            script_prefix=get_script_prefix(),
            now=timezone.now(),
            grouping=bool(settings.USE_THOUSAND_SEPARATOR),
        )

    def href(self, name: str, kwarg: str, value: int) -> str:
        """The escaped URL of an integer-argument route, as `{% url %}` gives."""
        head, tail = href_parts(name, kwarg, self.script_prefix)
        return f"{head}{int(value)}{tail}"


def post_list_html(items: Iterable[FeedItem], page: PostListContext) -> SafeString:
    """The `<li>` of each post, in order, as a feed or thread lists them."""
    return mark_safe("".join([_item(item, page) for item in items]))  # noqa: S308


def post_item_html(item: FeedItem, page: PostListContext) -> SafeString:
    """One post's `<li class="feed-item">`: byline, body, actions and, in the
    ranked feed, why it is there."""
    return mark_safe(_item(item, page))  # noqa: S308


def post_actions_html(item: FeedItem, page: PostListContext) -> SafeString:
    """The post's action bar (replies, reactions, delete or report), also what
    a reaction answers htmx with."""
    return mark_safe(_actions(item, page, str(int(item.post.id))))  # noqa: S308


def _item(item: FeedItem, page: PostListContext) -> str:
    p = item.post
    pid = str(int(p.id))
    author = p.author
    iso, title = post_times(p.created_at, page.language, page.zone)
    when = esc(age(p.created_at, page.now, page.language))
    classes = "post"
    if page.is_new:
        classes += " is-new"
    if p.id == page.focus_id:
        classes += " is-focus"
    reply_to = ""
    if p.parent_id:
        try:
            parent = p.parent
        except ObjectDoesNotExist:
            # The template engine read a vanished parent as empty, too.
            parent = None
        if parent:
            reply_to = (
                '<p class="reply-to">Replying to <a href="'
                f'{page.href("frontend:thread", "post_id", p.parent_id)}">'
                f"@{text(parent.author.username)}</a></p>"
            )
    return (
        f'\n<li class="feed-item" id="item-{pid}">\n'
        f'  <article class="{classes}" id="post-{pid}" data-post-id="{pid}" '
        f'tabindex="-1" aria-labelledby="post-{pid}-by">\n'
        '    <header class="post-meta">\n'
        f'      <a class="author" id="post-{pid}-by" '
        f'href="{profile_href(author.username, page.script_prefix)}">'
        f'<span class="author-name">{text(author.name)}</span> '
        f'<span class="handle">@{text(author.username)}</span></a>\n'
        '      <a class="post-time" '
        f'href="{page.href("frontend:thread", "post_id", p.id)}">'
        f'<time datetime="{iso}" title="{title} UTC">{when}</time></a>\n'
        "    </header>\n"
        f"    {reply_to}\n"
        '    <div class="post-body">'
        f"{render_post_body_under(p.body, page.script_prefix)}</div>\n"
        f"    {_actions(item, page, pid)}\n"
        f"    {_extra(item, page, pid)}\n"
        "  </article>\n"
        "</li>\n"
        "\n"
    )


def _field(reason: Any, name: str) -> Any:
    # `{{ r.name }}` on a reason: a dict from the ranker today, read like the
    # template engine did (key, then attribute, '' when missing).
    if type(reason) is dict or isinstance(reason, Mapping):
        return reason.get(name, "")
    return getattr(reason, name, "")


@lru_cache(maxsize=1024, typed=True)
def _reason_html(signal: Any, words: Any, article: Any, charter_url: str) -> str:
    # One "why" line. The ranker words a reason from a few templates, so
    # lines repeat down a page and across pages; `typed` keeps a str and a
    # SafeString of the same text (escaped or not) apart.
    link = (
        f' <a href="{charter_url}#article-{text(article)}">Article {text(article)}</a>'
        if article
        else ""
    )
    return f'<li data-signal="{text(signal)}">{text(capfirst(words))}{link}</li>'


def _pressed(on: bool) -> str:
    return "true" if on else "false"


def _count(pid: str, field: str, value: object, page: PostListContext) -> str:
    return (
        f'<span class="count" data-count="{field}" data-post="{pid}">'
        f"{number(value, page.grouping)}</span>"
    )


def _actions(item: FeedItem, page: PostListContext, pid: str) -> str:
    p = item.post
    replies = _count(pid, "reply_count", p.reply_count, page)
    likes = _count(pid, "like_count", p.like_count, page)
    helpful = _count(pid, "helpful_count", p.helpful_count, page)
    unhelpful = _count(pid, "unhelpful_count", p.unhelpful_count, page)
    head = (
        "\n"
        f'<div class="post-actions" id="actions-{pid}">\n'
        '  <a class="action reply-link" '
        f'href="{page.href("frontend:thread", "post_id", p.id)}'
        f'#compose">Replies {replies}</a>\n'
        "  "
    )
    if not page.authenticated:
        body = (
            "\n"
            f'  <span class="action static">Likes {likes}</span>\n'
            f'  <span class="action static">Helpful {helpful}</span>\n'
            f'  <span class="action static">Unhelpful {unhelpful}</span>\n'
            "  "
        )
    else:
        own = p.author_id == page.viewer_id
        react_url = page.href("frontend:react", "post_id", p.id)
        rating = item.rating
        if own:
            ratings = ""
        else:
            ratings = (
                "\n"
                f'    <button type="submit" class="action" id="helpful-{pid}" '
                'name="reaction" value="'
                f'{"unrate" if rating == 1 else "helpful"}" '
                f'aria-pressed="{_pressed(rating == 1)}">Helpful {helpful}</button>\n'
                f'    <button type="submit" class="action" id="unhelpful-{pid}" '
                'name="reaction" value="'
                f'{"unrate" if rating == -1 else "unhelpful"}" '
                f'aria-pressed="{_pressed(rating == -1)}">Unhelpful {unhelpful}'
                "</button>\n"
                "    "
            )
        if own:
            delete_url = page.href("frontend:delete", "post_id", p.id)
            tail = (
                "\n"
                f'  <span class="action static">Helpful {helpful}</span>\n'
                f'  <span class="action static">Unhelpful {unhelpful}</span>\n'
                f'  <form method="post" action="{delete_url}" class="inline-form"\n'
                f'        hx-post="{delete_url}" hx-target="#item-{pid}" '
                'hx-swap="outerHTML"\n'
                '        hx-confirm="Delete this post? This can\'t be undone.">\n'
                f'    {page.csrf_input}<input type="hidden" name="next" '
                f'value="{page.next_path}">\n'
                '    <button type="submit" class="action quiet">Delete</button>\n'
                "  </form>\n"
                "  "
            )
        else:
            report_url = page.href("frontend:report", "post_id", p.id)
            tail = f'\n  <a class="action quiet" href="{report_url}">Report</a>\n  '
        body = (
            "\n"
            f'  <form method="post" action="{react_url}" class="reactions"\n'
            f'        hx-post="{react_url}" hx-target="#actions-{pid}" '
            'hx-swap="outerHTML">\n'
            f'    {page.csrf_input}<input type="hidden" name="next" '
            f'value="{page.next_path}#post-{pid}">\n'
            f'    <button type="submit" class="action" id="like-{pid}" '
            'name="reaction" value="'
            f'{"unlike" if item.liked else "like"}" '
            f'aria-pressed="{_pressed(item.liked)}">Like {likes}</button>\n'
            f"    {ratings}\n"
            "  </form>\n"
            f"  {tail}\n"
            "  "
        )
    error = ""
    if page.action_error:
        error = f'<p class="action-error" role="alert">{text(page.action_error)}</p>'
    return f"{head}{body}\n  {error}\n</div>\n\n"


def _extra(item: FeedItem, page: PostListContext, pid: str) -> str:
    # The ranked feed's part of a post: "Why am I seeing this?" and "show
    # more / less like this"; two empty lines in chronological lists.
    ex = item.explanation
    if not ex:
        return "\n\n"
    demoted = (
        '<p class="why-demoted"><strong>Moved down</strong> under a charter rule. '
        "The author can see and appeal this decision.</p>"
        if ex.demoted
        else ""
    )
    if ex.reasons:
        charter_url = page.href("charter:version", "number", ex.policy_version)
        lines = [
            _reason_html(
                _field(r, "signal"),
                _field(r, "text"),
                _field(r, "article"),
                charter_url,
            )
            for r in ex.reasons
        ]
        reasons = (
            f'\n    <ul class="why-reasons">\n      {"".join(lines)}\n    </ul>\n    '
        )
    else:
        reasons = (
            "<p>No signal moved this post much: it is here mostly because of its "
            "place in time.</p>"
        )
    notes = ""
    if ex.notes:
        notes = (
            '<ul class="why-notes">'
            + "".join([f"<li>{text(n)}</li>" for n in ex.notes])
            + "</ul>"
        )
    models = ""
    if ex.model_versions:
        models = "; models " + ", ".join(
            [
                f"{text(name)} v{number(v, page.grouping)}"
                for name, v in ex.model_versions.items()
            ]
        )
    feedback = ""
    if page.authenticated and item.post.author_id != page.viewer_id:
        choice = item.feedback
        feedback_url = page.href("ranking:feedback", "post_id", item.post.id)
        feedback = (
            "\n"
            f'<form method="post" action="{feedback_url}" '
            'class="feedback-form inline-form" hx-boost="true">\n'
            f'  {page.csrf_input}<input type="hidden" name="next" '
            f'value="{page.next_path}#post-{pid}">\n'
            '  <button type="submit" class="action quiet" name="more" '
            f'value="{"clear" if choice is True else "1"}" '
            f'aria-pressed="{_pressed(choice is True)}">Show more like this</button>\n'
            '  <button type="submit" class="action quiet" name="more" '
            f'value="{"clear" if choice is False else "0"}" '
            f'aria-pressed="{_pressed(choice is False)}">Show less like this</button>\n'
            "</form>\n"
        )
    return (
        "\n\n"
        f'<details class="why" id="why-{pid}">\n'
        "  <summary>Why am I seeing this?</summary>\n"
        '  <div class="why-body">\n'
        f"    {demoted}\n"
        f"    {reasons}\n"
        f"    {notes}\n"
        '    <p class="help">Ranked under charter policy version '
        f"{number(ex.policy_version, page.grouping)}{models}.</p>\n"
        "  </div>\n"
        "</details>\n"
        f"{feedback}\n"
        "\n"
    )

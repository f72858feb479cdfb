"""Post text: validation, @mentions and safe rendering with clickable links."""

from __future__ import annotations

import re
from functools import lru_cache

from django.urls import get_script_prefix, reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .models import POST_MAX_LENGTH

USERNAME_PATTERN = r"[A-Za-z0-9_]{3,30}"
MENTION_RE = re.compile(r"(?<![A-Za-z0-9_@])@(" + USERNAME_PATTERN + r")\b")
URL_RE = re.compile(r"\bhttps?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
# Invisible characters that would let an "empty" post slip through.
INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")


def post_body_clean(raw: object) -> str:
    """Normalise a post body, or raise ValueError with a message for the author."""
    if not isinstance(raw, str):
        raise ValueError("Write your post as text.")
    body = raw.replace("\r\n", "\n").strip()
    if not INVISIBLE_RE.sub("", body).strip():
        raise ValueError("Write something: a post can't be empty.")
    if len(body) > POST_MAX_LENGTH:
        raise ValueError(
            f"Posts can be at most {POST_MAX_LENGTH} characters; this one has "
            f"{len(body)}. Shorten it or split it into a thread."
        )
    if "\x00" in body:
        raise ValueError("Posts can't contain NUL characters.")
    return body


def mentioned_usernames(body: str) -> list[str]:
    """Usernames mentioned with @, lower-cased, in order, without repeats."""
    seen: dict[str, None] = {}
    for match in MENTION_RE.finditer(body):
        seen.setdefault(match.group(1).lower(), None)
    return list(seen)


TOKEN_RE = re.compile(f"(?P<url>{URL_RE.pattern})|(?P<mention>{MENTION_RE.pattern})")


def render_post_body(body: str) -> SafeString:
    """Escape the body, then turn URLs and @mentions into links (one pass, so a
    mention inside a URL stays part of the URL).

    Tokens are found in the raw text and each piece is escaped on its own: matching
    the escaped text instead would let a link swallow entities such as `&quot;`.

    The result depends only on the text and the URL prefix, and the same posts
    are shown to many viewers, so recent results are kept (measured: ~1 ms of a
    30-item feed page's CPU rendered the same bodies again).
    """
    return render_post_body_under(body, get_script_prefix())


# Bodies are at most POST_MAX_LENGTH characters: a few MB at most.
@lru_cache(maxsize=8192)
def render_post_body_under(body: str, script_prefix: str) -> SafeString:
    """`render_post_body(body)` for a caller that already holds the current
    URL prefix (a page rendering many posts); `script_prefix` must be it, as
    it is only the cache's key: reverse() below reads the prefix itself."""
    parts: list[str] = []
    position = 0
    for match in TOKEN_RE.finditer(body):
        parts.append(escape(body[position : match.start()]))
        position = match.end()
        if match.group("url"):
            url = escape(match.group("url"))
            parts.append(
                f'<a href="{url}" rel="nofollow noopener ugc" target="_blank">{url}</a>'
            )
        else:
            # USERNAME_PATTERN admits only [A-Za-z0-9_], so the name needs no escaping.
            username = match.group(3)
            href = reverse("frontend:profile", kwargs={"username": username})
            parts.append(f'<a href="{escape(href)}" class="mention">@{username}</a>')
    parts.append(escape(body[position:]))
    return mark_safe("".join(parts).replace("\n", "<br>"))  # noqa: S308

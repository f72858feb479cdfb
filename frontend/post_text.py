"""The pieces of text a post's markup is made of: escaped, localised, memoised.

frontend.post_html assembles them; they mirror what the template engine did
with the same values (`{{ value }}`, `|date`, `|ago`, `{% url %}`), only
without its per-node costs, and tests/frontend/test_post_html.py compares
the result with the old templates.
"""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django.template.defaultfilters import date as date_filter
from django.utils import timezone, translation
from django.utils.formats import localize
from django.utils.functional import Promise
from django.utils.html import avoid_wrapping
from django.utils.timesince import TIME_STRINGS
from django.utils.timezone import (  # type: ignore[attr-defined]
    is_aware,
    template_localtime,
)

from .feeds import id_url_parts, profile_url


def esc(value: Any) -> str:
    """conditional_escape(value), minus the lazy-argument wrapper around
    Django's escape(), which cost more than the escaping on short strings."""
    if isinstance(value, Promise):
        value = str(value)
    markup = getattr(value, "__html__", None)
    if markup is not None:
        return str(markup())
    return html.escape(str(value))


def text(value: object) -> str:
    """`{{ value }}` in an autoescaping template (localised, then escaped)."""
    if isinstance(value, str):
        return esc(value)
    return esc(str(localize(template_localtime(value))))


def number(value: object, grouping: bool) -> str:
    """`{{ count }}`: what localize() gives an int when `grouping`
    (USE_THOUSAND_SEPARATOR) is off, at a fraction of its cost."""
    if type(value) is int and not grouping:
        return str(value)
    return text(value)


@lru_cache(maxsize=4096)
def post_times(moment: datetime, language: str | None, zone: str) -> tuple[str, str]:
    """`|date:'c'` and `|date:'j M Y, H:i'` of a post's creation time, escaped.

    The month name follows the active language and the hour the current time
    zone: both are passed in (the current ones) only to key the memo.
    """
    local = template_localtime(moment)
    return esc(date_filter(local, "c")), esc(date_filter(local, "j M Y, H:i"))


@lru_cache(maxsize=4096)
def profile_href(username: str, script_prefix: str) -> str:
    """The escaped profile URL of `username`; `script_prefix` (the current
    one) keys the mount point profile_url() reverses under."""
    return esc(profile_url(username))


@lru_cache(maxsize=64)
def href_parts(name: str, kwarg: str, script_prefix: str) -> tuple[str, str]:
    """Escaped text before and after the id in `name`'s URL (under the
    current `script_prefix`). Escaping goes character by character, so head
    + digits + tail is the escaped URL."""
    head, tail = id_url_parts(name, kwarg)
    return esc(head), esc(tail)


# timesince()'s units, largest first, and the lengths of those below a month.
_UNITS = ("year", "month", "week", "day", "hour", "minute")
_CHUNKS = (60 * 60 * 24 * 7, 60 * 60 * 24, 60 * 60, 60)


def _age_unit(moment: datetime, now: datetime) -> tuple[str, int]:
    # The largest unit of timesince(moment, now) and its count, by Django
    # 5.2's arithmetic (tests/frontend/test_post_html.py compares the two over
    # thousands of pairs), minus the two translation lookups each call made:
    # they were a third of a post's cost. Only the first non-zero part counts
    # at depth 1, so the month pivot never matters: below a month it is
    # `moment` itself. Only ages of a minute or more are asked for, so
    # timesince's "0 minutes" for a moment in the future cannot arise.
    if is_aware(now) and is_aware(moment):
        now = now.astimezone(moment.tzinfo)
    delta = now - moment
    total_months = (now.year - moment.year) * 12 + (now.month - moment.month)
    if moment.day > now.day or (moment.day == now.day and moment.time() > now.time()):
        total_months -= 1
    years, months = divmod(total_months, 12)
    if years:
        return "year", years
    if months:
        return "month", months
    remaining = delta.total_seconds()
    for name, chunk in zip(_UNITS[2:], _CHUNKS, strict=True):
        count = int(remaining // chunk)
        if count:
            return name, count
        remaining -= chunk * count
    return "minute", 0


@lru_cache(maxsize=1024)
def _age_words(unit: str, count: int, language: str | None) -> str:
    # "14 hours" (with a no-break space) in the active language, which is
    # only part of the key.
    return avoid_wrapping(TIME_STRINGS[unit] % {"num": count})


def age(moment: datetime, now: datetime, language: str | None) -> str:
    """post_age() at `now` in `language` (the active one, read once a page)."""
    if now - moment < timedelta(minutes=1):
        return "just now"
    unit, count = _age_unit(moment, now)
    return f"{_age_words(unit, count, language)} ago"


def post_age(moment: datetime) -> str:
    """A post's age in calm words: "just now", "5 minutes ago", "2 days ago"."""
    return age(moment, timezone.now(), translation.get_language())

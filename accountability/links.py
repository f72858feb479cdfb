"""Where a ledger entry's subject and article live on the site.

Subjects are references like "charter:v3", "amendment:12" or "post:7". Each
pattern below names the URL patterns that show such a subject; the first one
that exists wins, so the transparency page links to an app's page as soon as
that app routes it. Anything else links to the ledger filtered by that
subject, which always works.
"""

from __future__ import annotations

import re

from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

# (subject pattern with one id group, URL names taking that id as their argument)
SUBJECT_ROUTES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"charter(?:\.version)?:v?(\d+)"), ("charter:version",)),
    (re.compile(r"amendment:(\d+)"), ("charter:amendment",)),
    (re.compile(r"petition:(\d+)"), ("accountability:petition", "frontend:petition")),
    (re.compile(r"appeal:(\d+)"), ("accountability:appeal", "frontend:appeal")),
    (re.compile(r"post:(\d+)"), ("frontend:post", "frontend:post_detail")),
    (re.compile(r"user:(\w+)"), ("frontend:profile",)),
)
# The charter's current text marks each article with an id="article-N" anchor.
CHARTER_HOME = "charter:home"


def _first_reverse(names: tuple[str, ...], arg: str) -> str | None:
    for name in names:
        try:
            return reverse(name, args=[arg])
        except NoReverseMatch:
            continue
    return None


def ledger_filter_url(**filters: str) -> str:
    """The transparency page filtered (e.g. by subject or article)."""
    return f"{reverse('accountability:index')}?{urlencode(filters)}"


def subject_url(subject: str) -> str:
    """A page about `subject`, or the ledger entries that concern it."""
    for pattern, names in SUBJECT_ROUTES:
        match = pattern.fullmatch(subject)
        if match:
            url = _first_reverse(names, match.group(1))
            if url:
                return url
    return ledger_filter_url(subject=subject)


def article_url(article: str) -> str:
    """The article in the charter, or the ledger entries citing it."""
    try:
        return f"{reverse(CHARTER_HOME)}#article-{article}"
    except NoReverseMatch:
        return ledger_filter_url(article=article)

"""Where a ledger entry's subject and article live on the site.

Subjects are references like "charter.version:3" or "post:12". Each subject
type names the URL patterns that show it; the first one that exists wins, so
the transparency page links to an app's page as soon as that app provides it.
Unknown or not-yet-routed subjects link to the ledger filtered by that subject,
which always works.
"""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

# subject type -> URL names to try with the subject's id as the only argument.
SUBJECT_ROUTES: dict[str, tuple[str, ...]] = {
    "charter.version": ("charter:version_detail", "charter:version"),
    "amendment": ("charter:amendment_detail", "charter:amendment"),
    "policy": ("charter:version_detail",),
    "petition": ("frontend:petition_detail", "accountability:petition_detail"),
    "appeal": ("frontend:appeal_detail", "accountability:appeal_detail"),
    "model": ("ranking:model_detail",),
    "model.version": ("ranking:model_detail",),
    "post": ("frontend:post_detail", "frontend:post"),
    "user": ("frontend:profile",),
}
ARTICLE_ROUTES: tuple[str, ...] = ("charter:article", "charter:article_detail")


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
    kind, _, ident = subject.partition(":")
    routes = SUBJECT_ROUTES.get(kind)
    if routes and ident:
        url = _first_reverse(routes, ident)
        if url:
            return url
    return ledger_filter_url(subject=subject)


def article_url(article: str) -> str:
    """The charter article's page, or the ledger entries citing it."""
    return _first_reverse(ARTICLE_ROUTES, article) or ledger_filter_url(article=article)

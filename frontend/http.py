"""Typed access to the request: the htmx details and the signed-in account."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from feed.models import User


class HtmxHttpRequest(HttpRequest):
    """A request that passed through django_htmx's HtmxMiddleware."""

    htmx: HtmxDetails


def viewer_of(request: HttpRequest) -> User | None:
    """The signed-in account, or None for a visitor."""
    user = request.user
    return user if isinstance(user, User) and user.is_authenticated else None


def account_of(request: HttpRequest) -> User:
    """The signed-in account of a view guarded by login_required."""
    user = viewer_of(request)
    if user is None:
        # login_required runs first; reaching this means a view forgot it.
        raise PermissionDenied("Sign in first.")
    return user

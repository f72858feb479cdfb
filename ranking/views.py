"""Pages of the ranking app: the feed-mode controls and "more / less like this".

Both forms work without JavaScript (POST, then back to the home page with a
notice) and are htmx-boosted on the home page. Service errors become a notice
and a 400, never a 500.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from charter.selectors import NoActiveCharter
from feed.models import User
from feed.selectors import Page
from ranking.models import FeedMode
from ranking.preferences import (
    feed_preference_set,
    item_feedback_clear,
    item_feedback_on,
    item_feedback_set,
    multipliers_clamp,
    user_controls_bounds,
)
from ranking.registry import SIGNALS


def feed_controls(*, viewer: User, page: Page) -> dict[str, Any]:
    """Template context of the home page's feed controls for this page."""
    policy = getattr(page, "policy", None) or {}
    stored = multipliers_clamp(getattr(page, "multipliers", None) or {}, policy)
    sliders = [
        {
            "signal": name,
            "label": SIGNALS[name].description if name in SIGNALS else name,
            "min": lo,
            "max": hi,
            "value": stored.get(name, 1.0 if lo <= 1.0 <= hi else lo),
        }
        for name, (lo, hi) in sorted(user_controls_bounds(policy).items())
    ]
    mode = getattr(page, "mode", FeedMode.CHRONOLOGICAL)
    ranked = mode != FeedMode.CHRONOLOGICAL
    return {
        "feed_mode": mode,
        "feed_modes": FeedMode.choices,
        "feed_sliders": sliders,
        "caught_up": getattr(page, "caught_up", False),
        "feed_notes": getattr(page, "notes", []),
        "feedback": item_feedback_on(user=viewer, post_ids=[p.id for p in page.items])
        if ranked and page.items
        else {},
    }


def _back(request: HttpRequest) -> HttpResponseRedirect:
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("frontend:home")
    return HttpResponseRedirect(target)


def _refused(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    for message in exc.messages:
        messages.error(request, message)
    response = _back(request)
    # Without JS the redirect shows the notice; htmx follows the redirect too.
    return response


@login_required
@require_POST
def preferences_update(request: HttpRequest) -> HttpResponse:
    """Switch feed mode and/or set the tuned feed's sliders (form fields
    `mode` and `m_<signal>`)."""
    viewer = request.user
    assert isinstance(viewer, User)
    mode = request.POST.get("mode") or None
    raw = {
        key[2:]: value
        for key, value in request.POST.items()
        if key.startswith("m_") and value != ""
    }
    try:
        feed_preference_set(user=viewer, mode=mode, multipliers=raw or None)
    except ValidationError as exc:
        return _refused(request, exc)
    except NoActiveCharter:
        messages.error(request, "No charter is in force yet, so sliders cannot be set.")
        return _back(request)
    labels = dict(FeedMode.choices)
    if mode:
        messages.success(request, f"Your feed: {labels.get(mode, mode)}.")
    return _back(request)


@login_required
@require_POST
def feedback_update(request: HttpRequest, post_id: int) -> HttpResponse:
    """ "Show more / less like this" (`more` = "1" / "0"), or "clear"."""
    viewer = request.user
    assert isinstance(viewer, User)
    choice = request.POST.get("more", "")
    try:
        if choice == "clear":
            item_feedback_clear(user=viewer, post_id=post_id)
            messages.success(request, "Feedback withdrawn.")
        elif choice in ("1", "0"):
            item_feedback_set(user=viewer, post_id=post_id, more=choice == "1")
            messages.success(
                request,
                "Thanks: you'll see more like this."
                if choice == "1"
                else "Thanks: you'll see less like this.",
            )
        else:
            raise ValidationError("Choose 'show more' or 'show less'.")
    except ValidationError as exc:
        return _refused(request, exc)
    except Http404:
        messages.error(request, "That post is no longer available.")
    return _back(request)

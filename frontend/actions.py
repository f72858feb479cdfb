"""POST actions on posts and accounts. Each calls one service.

Every action works without JavaScript (POST, then redirect back with a notice)
and, when htmx sent it, answers with the fragment to swap instead. Service
errors become a readable 4xx: a message in the fragment, or a notice on the
page the person came from; never a 500.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_htmx.http import reswap, retarget

from charter_social.ratelimit import rate_limited
from feed import selectors, services
from feed.models import Post, User

from . import feeds
from .forms import ComposeForm, ReportForm, add_service_errors, error_messages
from .http import HtmxHttpRequest, account_of


def _back(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    """Redirect to the page the form came from (`next`), if it is ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = fallback
    return HttpResponseRedirect(target)


def _user(request: HttpRequest) -> User:
    return account_of(request)


def _item_for(viewer: User, post: Post) -> feeds.FeedItem:
    reactions = selectors.viewer_reactions_for(viewer=viewer, posts=[post])
    return feeds.feed_items([post], reactions)[0]


# Compose ---------------------------------------------------------------------------


@login_required
@require_POST
@rate_limited("post")
def compose(request: HtmxHttpRequest) -> HttpResponse:
    """Publish a post or a reply; htmx gets the new post's item and a fresh form."""
    form = ComposeForm(request.POST)
    parent_id: int | None = None
    if form.is_valid():
        parent_id = form.cleaned_data["parent_id"]
        try:
            post = services.post_create(
                author=_user(request),
                body=form.cleaned_data["body"],
                parent_id=parent_id,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except (PermissionDenied, Http404) as exc:
            form.add_error(None, str(exc) or "You can't reply to this post.")
        else:
            if request.htmx:
                fresh = ComposeForm(initial={"parent_id": parent_id})
                return render(
                    request,
                    "frontend/_compose_done.html",
                    {
                        "item": _item_for(_user(request), post),
                        "compose_form": fresh,
                        "is_new": True,
                    },
                )
            messages.success(
                request,
                "Your reply is posted." if parent_id else "Your post is published.",
            )
            if parent_id:
                return HttpResponseRedirect(
                    reverse("frontend:thread", args=[parent_id]) + f"#post-{post.id}"
                )
            return _back(request, reverse("frontend:home"))
    status = 400
    if request.htmx:
        response = render(
            request, "frontend/_compose.html", {"compose_form": form}, status=status
        )
        return reswap(retarget(response, "#compose"), "outerHTML")
    # Without JS, show the form again with its errors on a page of its own.
    return render(
        request, "frontend/compose_error.html", {"compose_form": form}, status=status
    )


# Reactions -------------------------------------------------------------------------

REACTIONS: dict[str, Callable[..., object]] = {
    "like": lambda user, pid: services.like_create(user=user, post_id=pid),
    "unlike": lambda user, pid: services.like_delete(user=user, post_id=pid),
    "helpful": lambda user, pid: services.rating_set(
        user=user, post_id=pid, value="helpful"
    ),
    "unhelpful": lambda user, pid: services.rating_set(
        user=user, post_id=pid, value="unhelpful"
    ),
    "unrate": lambda user, pid: services.rating_delete(user=user, post_id=pid),
}


@login_required
@require_POST
@rate_limited("rate")
def react(request: HtmxHttpRequest, post_id: int) -> HttpResponse:
    """Like, unlike, rate or withdraw a rating. htmx gets the post's new action bar."""
    viewer = _user(request)
    reaction = request.POST.get("reaction", "")
    error: str | None = None
    status = 200
    action = REACTIONS.get(reaction)
    try:
        if action is None:
            raise ValidationError("Choose like, unlike, helpful, unhelpful or unrate.")
        action(viewer, post_id)
    except ValidationError as exc:
        error, status = " ".join(error_messages(exc)), 400
    except PermissionDenied as exc:
        error, status = str(exc) or "You can't react to this post.", 403
    except Http404:
        error, status = "This post no longer exists.", 404
    if request.htmx:
        try:
            post = selectors.post_get_for_viewer(viewer=viewer, post_id=post_id)
        except Http404:
            return render(request, "frontend/_gone.html", {}, status=404)
        return render(
            request,
            "frontend/_post_actions.html",
            {"item": _item_for(viewer, post), "action_error": error},
            status=status,
        )
    if error:
        messages.error(request, error)
    return _back(
        request, reverse("frontend:thread", args=[post_id]) if status != 404 else "/"
    )


@login_required
def report(request: HtmxHttpRequest, post_id: int) -> HttpResponse:
    """Flag a post for moderators: a small form page, so it works without JS."""
    viewer = _user(request)
    post = selectors.post_get_for_viewer(viewer=viewer, post_id=post_id)
    form = ReportForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.report_create(
                    reporter=viewer,
                    post_id=post.id,
                    reason=form.cleaned_data["reason"],
                    details=form.cleaned_data["details"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request, "Thank you. Moderators will review this post."
                )
                return HttpResponseRedirect(reverse("frontend:thread", args=[post.id]))
        status = 400
    return render(
        request,
        "frontend/report.html",
        {"form": form, "item": _item_for(viewer, post)},
        status=status,
    )


@login_required
@require_POST
def delete(request: HtmxHttpRequest, post_id: int) -> HttpResponse:
    """Delete one's own post."""
    try:
        services.post_delete(user=_user(request), post_id=post_id)
    except PermissionDenied as exc:
        if request.htmx:
            return render(
                request, "frontend/_notice.html", {"message": str(exc)}, status=403
            )
        raise
    except Http404:
        if request.htmx:
            return render(request, "frontend/_gone.html", {}, status=404)
        raise
    if request.htmx:
        return render(request, "frontend/_gone.html", {"deleted": True})
    messages.success(request, "Your post is deleted.")
    target = request.POST.get("next", "")
    if target.startswith(reverse("frontend:thread", args=[post_id])):
        return HttpResponseRedirect(reverse("frontend:home"))
    return _back(request, reverse("frontend:home"))


# Relationships ---------------------------------------------------------------------

RELATIONSHIPS: dict[str, tuple[Callable[..., object], str]] = {
    "follow": (
        lambda me, uid: services.follow_create(follower=me, followee_id=uid),
        "You follow @{}.",
    ),
    "unfollow": (
        lambda me, uid: services.follow_delete(follower=me, followee_id=uid),
        "You no longer follow @{}.",
    ),
    "mute": (
        lambda me, uid: services.mute_create(muter=me, muted_id=uid),
        "You muted @{}.",
    ),
    "unmute": (
        lambda me, uid: services.mute_delete(muter=me, muted_id=uid),
        "You unmuted @{}.",
    ),
    "block": (
        lambda me, uid: services.block_create(blocker=me, blocked_id=uid),
        "You blocked @{}.",
    ),
    "unblock": (
        lambda me, uid: services.block_delete(blocker=me, blocked_id=uid),
        "You unblocked @{}.",
    ),
}


@login_required
@require_POST
@rate_limited("follow")
def relationship(request: HtmxHttpRequest, username: str, action: str) -> HttpResponse:
    """Follow, unfollow, mute, unmute, block or unblock an account."""
    viewer = _user(request)
    if action not in RELATIONSHIPS:
        raise Http404("No such action.")
    if action == "unblock":
        # The blocked account is hidden from its blocker's lookups; find it by name.
        person = selectors.user_get_by_username(username=username)
    else:
        person = selectors.user_get_for_viewer(viewer=viewer, username=username)
    run, done = RELATIONSHIPS[action]
    notice, status, is_error = done.format(person.username), 200, False
    try:
        run(viewer, person.id)
    except ValidationError as exc:
        notice, status, is_error = " ".join(error_messages(exc)), 400, True
    except PermissionDenied as exc:
        notice, status, is_error = str(exc), 403, True
    if request.htmx and action not in ("block", "unblock"):
        return render(
            request,
            "frontend/_relationship.html",
            {
                "person": person,
                "relationship": selectors.relationship_for(viewer=viewer, other=person),
                "notice": notice,
                "notice_is_error": is_error,
            },
            status=status,
        )
    (messages.error if is_error else messages.success)(request, notice)
    if action == "block" and not is_error:
        # The blocked profile is no longer visible to its blocker.
        return HttpResponseRedirect(reverse("frontend:settings") + "#blocked")
    return _back(
        request, reverse("frontend:profile", kwargs={"username": person.username})
    )


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    """Mark every notification read."""
    services.notifications_mark_read(user=_user(request))
    return HttpResponseRedirect(reverse("frontend:notifications"))

"""Pages: timelines, threads, profiles, search and notifications (reads only).

Views stay thin: parse the request, call one selector, render. Writes live in
frontend/actions.py and frontend/accounts.py.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from feed import selectors
from ranking.views import feed_controls

from . import feeds
from .forms import ComposeForm, SearchForm, add_service_errors, error_messages
from .http import account_of, viewer_of


def _timeline_response(
    request: HttpRequest,
    template: str,
    page: selectors.Page,
    context: dict[str, object],
) -> HttpResponse:
    """Render a whole timeline page, or only its items for htmx "Load more" and
    the live banner (`?partial=1`)."""
    context = {
        **context,
        "items": feeds.feed_items(
            page.items,
            page.viewer_reactions,
            getattr(page, "explanations", None),
            context.get("feedback"),  # type: ignore[arg-type]
        ),
        "next_cursor": page.next_cursor,
    }
    if request.GET.get("partial"):
        return render(request, "frontend/_feed_items.html", context)
    return render(request, template, context)


def _cursor_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return render(
        request,
        "frontend/error.html",
        {
            "title": "That page link is broken",
            "messages_list": error_messages(exc),
            "status": 400,
        },
        status=400,
    )


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Signed in: the home feed with compose and live updates. Signed out: the
    public timeline and an invitation to join."""
    cursor = request.GET.get("cursor") or None
    viewer = viewer_of(request)
    try:
        if viewer is None:
            page = selectors.timeline_public(viewer=None, cursor=cursor)
        else:
            page = feeds.home_feed_for(viewer, cursor)
    except ValidationError as exc:
        return _cursor_error(request, exc)
    context: dict[str, object] = {
        "compose_form": ComposeForm(),
        "live_marker": feeds.top_marker(page) if cursor is None else "",
        "is_first_page": cursor is None,
    }
    if viewer is not None:
        # The feed-mode controls, explanations and caught-up marker (ranking).
        context.update(feed_controls(viewer=viewer, page=page))
    response = _timeline_response(request, "frontend/home.html", page, context)
    if viewer is not None and cursor is None:
        # live.js polls for posts newer than this after reloading the list.
        response["X-Feed-Marker"] = feeds.top_marker(page)
    return response


@require_GET
def public(request: HttpRequest) -> HttpResponse:
    """Every public post, newest first."""
    try:
        page = selectors.timeline_public(
            viewer=viewer_of(request), cursor=request.GET.get("cursor") or None
        )
    except ValidationError as exc:
        return _cursor_error(request, exc)
    return _timeline_response(request, "frontend/public.html", page, {})


@require_GET
def profile(request: HttpRequest, username: str) -> HttpResponse:
    """An account's profile, its relationship buttons and its posts."""
    viewer = viewer_of(request)
    person = selectors.user_get_for_viewer(viewer=viewer, username=username)
    try:
        page = selectors.timeline_profile(
            viewer=viewer, author=person, cursor=request.GET.get("cursor") or None
        )
    except ValidationError as exc:
        return _cursor_error(request, exc)
    context: dict[str, object] = {"person": person}
    if not request.GET.get("partial"):
        context["relationship"] = selectors.relationship_for(
            viewer=viewer, other=person
        )
        context["stats"] = selectors.profile_stats(user=person)
    return _timeline_response(request, "frontend/profile.html", page, context)


@require_GET
def thread(request: HttpRequest, post_id: int) -> HttpResponse:
    """A post in its whole thread, with a reply form and live counts."""
    viewer = viewer_of(request)
    post, posts, reactions = selectors.thread_for(viewer=viewer, post_id=post_id)
    context = {
        "post": post,
        "root_id": post.root_id or post.id,
        "items": feeds.feed_items(posts, reactions),
        "compose_form": ComposeForm(initial={"parent_id": post.id}),
    }
    return render(request, "frontend/thread.html", context)


@require_GET
@never_cache
def thread_counts(request: HttpRequest, post_id: int) -> JsonResponse:
    """Counts of a thread's posts, polled by live.js when the websocket is down."""
    return JsonResponse(
        {"posts": feeds.thread_counts(viewer=viewer_of(request), post_id=post_id)}
    )


@require_GET
@never_cache
def new_count(request: HttpRequest) -> JsonResponse:
    """How many new posts wait above the viewer's open home feed (polling fallback)."""
    viewer = viewer_of(request)
    if viewer is None:
        return JsonResponse({"detail": "Sign in to see your home feed."}, status=401)
    try:
        count = feeds.home_new_count(viewer=viewer, since=request.GET.get("since", ""))
    except ValidationError as exc:
        return JsonResponse({"detail": " ".join(error_messages(exc))}, status=400)
    return JsonResponse({"count": count, "capped": count > feeds.NEW_COUNT_CAP})


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """People and posts matching a query."""
    form = SearchForm(request.GET)
    context: dict[str, object] = {"form": form, "searched": False}
    if "q" in request.GET and form.is_valid():
        viewer = viewer_of(request)
        try:
            query = selectors.search_query_clean(form.cleaned_data["q"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            posts = selectors.posts_search(viewer=viewer, query=query)
            reactions = selectors.viewer_reactions_for(viewer=viewer, posts=posts)
            context.update(
                searched=True,
                query=query,
                people=selectors.users_search(viewer=viewer, query=query),
                items=feeds.feed_items(posts, reactions),
            )
    # Form errors (too short, NUL characters) are the searcher's to fix.
    status = 400 if form.errors else 200
    return render(request, "frontend/search.html", context, status=status)


@login_required
@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    """The signed-in account's notifications, newest first."""
    return render(
        request,
        "frontend/notifications.html",
        {"notifications": selectors.notifications_for(user=account_of(request))},
    )

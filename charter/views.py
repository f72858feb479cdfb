"""Pages of the charter: read it, compare versions, see the board, amend it.

Views stay thin: parse, call one selector or service, render. Services raise
PermissionDenied for anyone who may not act (Django answers 403) and
ValidationError with a message that is shown back on the page.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import selectors, services
from .diff import charter_diff
from .forms import AmendmentProposeForm, CommentForm, OpenVotingForm, VoteForm
from .models import Amendment, AmendmentStatus, CharterVersion, VoteChoice
from .plain import PlainItem, policy_plain_by_article
from .policy import POLICY_SCHEMA, policy_canonical_bytes
from .text import charter_text_render

logger = logging.getLogger(__name__)


def _version_or_404(number: int) -> CharterVersion:
    try:
        return selectors.charter_version_get(number=number)
    except CharterVersion.DoesNotExist:
        raise Http404(f"There is no charter version {number}.") from None


def _amendment_or_404(amendment_id: int) -> Amendment:
    try:
        return selectors.amendment_get(amendment_id=amendment_id)
    except Amendment.DoesNotExist:
        raise Http404(f"There is no amendment #{amendment_id}.") from None


def _sign_in_first(request: HttpRequest) -> HttpResponse:
    """Send an anonymous visitor to the login page, or refuse if there is none."""
    try:
        return redirect_to_login(request.get_full_path())
    except NoReverseMatch:
        raise PermissionDenied("Sign in as a member of the oversight board.") from None


class _ArticleRow(NamedTuple):
    number: str
    title: str
    body: str


@lru_cache(maxsize=16)
def _articles_html(
    articles: tuple[tuple[_ArticleRow, tuple[PlainItem, ...]], ...],
) -> str:
    # The article rows of a version page: a third of its rendering, and a
    # pure function of the articles and their rules (no URLs, dates or
    # viewer in it), which are the key, so a cached row can never be stale.
    return render_to_string("charter/_articles.html", {"articles": articles})


def _version_context(version: CharterVersion) -> dict[str, Any]:
    rules = policy_plain_by_article(version.policy)
    articles = tuple(
        (_ArticleRow(a.number, a.title, a.body), tuple(rules.get(a.number, [])))
        for a in version.articles.all()
    )
    return {
        "version": version,
        "articles_html": _articles_html(articles),
        "text_sha256": selectors.charter_text_sha256(
            selectors.charter_version_text(version)
        ),
    }


@require_GET
def charter_home(request: HttpRequest) -> HttpResponse:
    """The charter in force, each article beside the rules it authorises."""
    version = selectors.charter_active()
    if version is None:
        return render(request, "charter/no_charter.html", status=503)
    context = _version_context(version)
    context.update(
        is_current=True, pending=selectors.charter_pending(after=version.number)
    )
    return render(request, "charter/version.html", context)


@require_GET
def version_detail(request: HttpRequest, number: int) -> HttpResponse:
    version = _version_or_404(number)
    active = selectors.charter_active()
    context = _version_context(version)
    context["is_current"] = active is not None and active.pk == version.pk
    return render(request, "charter/version.html", context)


@require_GET
def versions_list(request: HttpRequest) -> HttpResponse:
    active = selectors.charter_active()
    return render(
        request,
        "charter/versions.html",
        {
            "versions": selectors.charter_versions_list(),
            "active_number": active.number if active else None,
            "now": timezone.now(),
        },
    )


@require_GET
def version_markdown(request: HttpRequest, number: int) -> HttpResponse:
    """The exact bytes whose SHA-256 the ledger records as `text_sha256`."""
    version = _version_or_404(number)
    body = charter_text_render(selectors.charter_version_text(version))
    response = HttpResponse(body, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="charter-v{number}.md"'
    return response


@require_GET
def version_json(request: HttpRequest, number: int) -> JsonResponse:
    version = _version_or_404(number)
    text = selectors.charter_version_text(version)
    response = JsonResponse(
        {
            "version": version.number,
            "title": version.title,
            "summary": version.summary,
            "adopted_at": version.adopted_at.isoformat(),
            "effective_at": version.effective_at.isoformat(),
            "amendment": version.amendment_id,
            "preamble": version.preamble,
            "articles": [a.as_dict() for a in text.articles],
            "text_sha256": selectors.charter_text_sha256(text),
            "policy": version.policy,
            "policy_sha256": version.policy_sha256,
        },
        json_dumps_params={"indent": 2, "ensure_ascii": False},
    )
    response["Content-Disposition"] = f'attachment; filename="charter-v{number}.json"'
    return response


def _policy_response(version: CharterVersion) -> HttpResponse:
    # Canonical bytes, so `sha256sum policy.json` equals the hash in the ledger.
    response = HttpResponse(
        policy_canonical_bytes(version.policy), content_type="application/json"
    )
    response["X-Charter-Version"] = str(version.number)
    response["X-Policy-SHA256"] = version.policy_sha256
    return response


@require_GET
def policy_json(request: HttpRequest) -> HttpResponse:
    """The policy in force, byte for byte as hashed."""
    version = selectors.charter_active()
    if version is None:
        raise Http404("No charter is in force yet.")
    return _policy_response(version)


@require_GET
def version_policy_json(request: HttpRequest, number: int) -> HttpResponse:
    return _policy_response(_version_or_404(number))


@require_GET
def policy_schema_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        POLICY_SCHEMA,
        content_type="application/schema+json",
        json_dumps_params={"indent": 2},
    )


@require_GET
def diff_page(request: HttpRequest) -> HttpResponse:
    """Two versions side by side; without ?a=&b= a form to pick them."""
    versions = list(selectors.charter_versions_list())
    context: dict[str, Any] = {"versions": versions}
    a_raw, b_raw = request.GET.get("a", ""), request.GET.get("b", "")
    if not a_raw and not b_raw:
        return render(request, "charter/diff.html", context)
    if not (a_raw.isdigit() and b_raw.isdigit()):
        context["error"] = "Choose two version numbers to compare, e.g. ?a=1&b=2."
        return render(request, "charter/diff.html", context, status=400)
    a, b = _version_or_404(int(a_raw)), _version_or_404(int(b_raw))
    context.update(
        a=a,
        b=b,
        a_label=f"v{a.number}",
        b_label=f"v{b.number}",
        diff=charter_diff(
            left_text=selectors.charter_version_text(a),
            left_policy=a.policy,
            right_text=selectors.charter_version_text(b),
            right_policy=b.policy,
        ),
    )
    return render(request, "charter/diff.html", context)


@require_GET
def board_page(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    terms = list(selectors.board_terms_list())
    sitting = [
        t
        for t in terms
        if t.starts_at <= now and (t.ends_at is None or t.ends_at > now)
    ]
    return render(
        request,
        "charter/board.html",
        {
            "sitting": sitting,
            "past": [t for t in terms if t.ends_at is not None and t.ends_at <= now],
            "future": [t for t in terms if t.starts_at > now],
        },
    )


@require_GET
def amendments_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "charter/amendments.html",
        {
            "amendments": selectors.amendments_list(),
            "is_board": selectors.board_member_is(user=request.user),
        },
    )


@require_http_methods(["GET", "POST"])
def amendment_new(request: HttpRequest) -> HttpResponse:
    """Board members draft the next version, starting from the latest adopted one."""
    if request.method == "GET" and not request.user.is_authenticated:
        return _sign_in_first(request)
    if not selectors.board_member_is(user=request.user):
        raise PermissionDenied(
            "Only sitting members of the oversight board can propose."
        )
    base = selectors.charter_latest_adopted()
    if base is None:
        raise Http404("There is no charter to amend yet.")
    if request.method == "POST":
        form = AmendmentProposeForm(request.POST)
        if form.is_valid():
            text = form.cleaned_data["text"]
            try:
                amendment = services.amendment_propose(
                    proposer=request.user,
                    title=form.cleaned_data["title"],
                    rationale=form.cleaned_data["rationale"],
                    text_title=text.title,
                    preamble=text.preamble,
                    articles=[a.as_dict() for a in text.articles],
                    policy=form.cleaned_data["policy"],
                    effective_at=form.cleaned_data["effective_at"],
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(
                    request, "Amendment drafted. Open it for deliberation when ready."
                )
                return redirect("charter:amendment", amendment_id=amendment.pk)
        status = 400
    else:
        form = AmendmentProposeForm(
            initial={
                "text": charter_text_render(selectors.charter_version_text(base)),
                "policy": json.dumps(base.policy, indent=2),
            }
        )
        status = 200
    return render(
        request,
        "charter/amendment_form.html",
        {"form": form, "base": base},
        status=status,
    )


@require_GET
def amendment_detail(request: HttpRequest, amendment_id: int) -> HttpResponse:
    amendment = _amendment_or_404(amendment_id)
    is_board = selectors.board_member_is(user=request.user)
    diff = charter_diff(
        left_text=selectors.charter_version_text(amendment.base_version),
        left_policy=amendment.base_version.policy,
        right_text=selectors.amendment_text(amendment),
        right_policy=amendment.policy,
    )
    now = timezone.now()
    return render(
        request,
        "charter/amendment_detail.html",
        {
            "amendment": amendment,
            "diff": diff,
            "base_label": f"v{amendment.base_version.number}",
            "is_board": is_board,
            "my_vote": selectors.vote_of(amendment=amendment, user=request.user),
            "comment_form": CommentForm(),
            "vote_choices": VoteChoice.choices,
            "window_open": amendment.status == AmendmentStatus.VOTING
            and amendment.voting_closes_at is not None
            and now < amendment.voting_closes_at,
            "adopted_version": getattr(amendment, "adopted_version", None),
            # Before a vote: how the proposed policy would change real feeds.
            "impact": _impact_preview(amendment),
        },
    )


def _impact_preview(amendment: Amendment) -> dict[str, Any] | None:
    """The ranking's impact preview for an open amendment (None once closed, or
    when it cannot be computed: the page must render regardless)."""
    if amendment.is_closed:
        return None
    from ranking.impact_preview import impact_preview_for

    try:
        return impact_preview_for(
            amendment_id=amendment.pk,
            proposed_policy=amendment.policy,
            proposed_sha=amendment.policy_sha256,
        )
    except Exception:
        logger.exception("impact preview of amendment %s failed", amendment.pk)
        return {"error": True}


def _back(amendment_id: int) -> HttpResponse:
    return redirect(reverse("charter:amendment", kwargs={"amendment_id": amendment_id}))


def _report(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


@require_POST
def amendment_deliberation(request: HttpRequest, amendment_id: int) -> HttpResponse:
    amendment = _amendment_or_404(amendment_id)
    try:
        services.amendment_open_deliberation(actor=request.user, amendment=amendment)
        messages.success(request, "The amendment is open for public deliberation.")
    except ValidationError as exc:
        _report(request, exc)
    return _back(amendment_id)


@require_POST
def amendment_voting(request: HttpRequest, amendment_id: int) -> HttpResponse:
    amendment = _amendment_or_404(amendment_id)
    if not selectors.board_member_is(user=request.user):
        raise PermissionDenied(
            "Only sitting members of the oversight board can open votes."
        )
    form = OpenVotingForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, "Give the voting window as a number of days from 1 to 60."
        )
        return _back(amendment_id)
    closes_at = timezone.now() + timedelta(days=form.cleaned_data["days"])
    try:
        services.amendment_open_voting(
            actor=request.user, amendment=amendment, closes_at=closes_at
        )
        messages.success(request, "Voting is open.")
    except ValidationError as exc:
        _report(request, exc)
    return _back(amendment_id)


@require_POST
def amendment_comment(request: HttpRequest, amendment_id: int) -> HttpResponse:
    amendment = _amendment_or_404(amendment_id)
    form = CommentForm(request.POST)
    if not request.user.is_authenticated:
        raise PermissionDenied("Sign in to comment on amendments.")
    if not form.is_valid():
        messages.error(request, "Write a comment of at most 2000 characters.")
        return _back(amendment_id)
    try:
        services.amendment_comment(
            author=request.user, amendment=amendment, body=form.cleaned_data["body"]
        )
        messages.success(request, "Comment posted.")
    except ValidationError as exc:
        _report(request, exc)
    return _back(amendment_id)


@require_POST
def amendment_vote(request: HttpRequest, amendment_id: int) -> HttpResponse:
    amendment = _amendment_or_404(amendment_id)
    form = VoteForm(request.POST)
    if not form.is_valid():
        if not selectors.board_member_is(user=request.user):
            raise PermissionDenied(
                "Only sitting members of the oversight board can vote."
            )
        messages.error(request, "Vote yes, no or abstain.")
        return _back(amendment_id)
    try:
        vote = services.vote_cast(
            voter=request.user, amendment=amendment, choice=form.cleaned_data["choice"]
        )
        messages.success(
            request, f"Your vote is recorded: {vote.get_choice_display()}."
        )
    except ValidationError as exc:
        _report(request, exc)
    return _back(amendment_id)


@require_POST
def amendment_close(request: HttpRequest, amendment_id: int) -> HttpResponse:
    amendment = _amendment_or_404(amendment_id)
    try:
        amendment = services.amendment_close_vote(
            actor=request.user, amendment=amendment
        )
        messages.success(request, amendment.outcome)
    except ValidationError as exc:
        _report(request, exc)
    return _back(amendment_id)

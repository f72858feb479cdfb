"""Pages of decisions, appeals, petitions and the board's queue (under /transparency/).

Thin views: parse the form, call one service or selector, render. A service's
ValidationError re-renders the page with the message and status 400;
PermissionDenied is a 403; an unknown id is a 404; a signature burst is a 429.
Pages that list or show petitions first apply the transitions time has made
due (`petitions_refresh`), so an overdue petition shows as overdue everywhere
without a scheduled job.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from charter.selectors import board_member_is

from . import appeals as appeal_ops
from . import petitions as petition_ops
from .casework_models import (
    PETITION_TEXT_MAX,
    PETITION_TITLE_MAX,
    Appeal,
    DecisionRecord,
    Petition,
    PetitionOutcome,
    PetitionStatus,
    PetitionTarget,
)
from .clock import clock_now
from .decisions import decision_get, decision_replay


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for msgs in exc.message_dict.values() for m in msgs]
    return list(exc.messages)


def _record_or_404(public_id: str) -> DecisionRecord:
    try:
        return decision_get(public_id=public_id)
    except DecisionRecord.DoesNotExist:
        raise Http404(f"There is no decision record {public_id}.") from None


# --- decisions and appeals ---------------------------------------------------


def _decision_page(
    request: HttpRequest, record: DecisionRecord, *, errors: list[str], status: int
) -> HttpResponse:
    appeal = record.appeals.select_related("answered_by").first()
    is_author = bool(
        request.user.is_authenticated
        and record.post is not None
        and record.post.author_id == request.user.pk
    )
    return render(
        request,
        "accountability/decisions/detail.html",
        {
            "record": record,
            "appeal": appeal,
            "is_author": is_author,
            "replay": decision_replay(record=record),
            "overrides": record.overrides.order_by("-created_at"),
            "errors": errors,
            "statement_max": appeal_ops.STATEMENT_MAX,
        },
        status=status,
    )


@require_http_methods(["GET", "HEAD"])
def decision_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """The public statement of reasons, its replay, and (for the author) appeal."""
    return _decision_page(request, _record_or_404(public_id), errors=[], status=200)


@require_POST
@login_required
def decision_appeal(request: HttpRequest, public_id: str) -> HttpResponse:
    record = _record_or_404(public_id)
    try:
        appeal = appeal_ops.appeal_file(
            appellant=request.user,
            public_id=record.public_id,
            statement=request.POST.get("statement", ""),
        )
    except ValidationError as exc:
        return _decision_page(request, record, errors=_errors(exc), status=400)
    messages.success(request, "Your appeal was filed; the board must answer it.")
    return redirect("accountability:appeal", appeal_id=appeal.pk)


@login_required
def my_decisions(request: HttpRequest) -> HttpResponse:
    """Decisions on the signed-in citizen's posts, with their appeals."""
    return render(
        request,
        "accountability/appeals/mine.html",
        {
            "records": appeal_ops.decisions_of_author(user=request.user),
            "petitions": petition_ops.petitions_list().filter(
                author_id=request.user.pk
            ),
            "now": clock_now(),
        },
    )


def _appeal_page(
    request: HttpRequest, appeal: Appeal, *, errors: list[str], status: int
) -> HttpResponse:
    now = clock_now()
    return render(
        request,
        "accountability/appeals/detail.html",
        {
            "appeal": appeal,
            "record": appeal.decision_record,
            "overdue": appeal_ops.appeal_is_overdue(appeal, now=now),
            "can_answer": appeal.status == "pending"
            and appeal.appellant_id != request.user.pk
            and board_member_is(user=request.user, at=now),
            "errors": errors,
        },
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
def appeal_detail(request: HttpRequest, appeal_id: int) -> HttpResponse:
    """An appeal and the board's answer; board members answer it here (POST)."""
    try:
        appeal = appeal_ops.appeal_get(appeal_id=appeal_id)
    except Appeal.DoesNotExist:
        raise Http404(f"There is no appeal #{appeal_id}.") from None
    if request.method != "POST":
        return _appeal_page(request, appeal, errors=[], status=200)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    try:
        appeal = appeal_ops.appeal_answer(
            board_member=request.user,
            appeal_id=appeal.pk,
            outcome=request.POST.get("outcome", ""),
            reasons=request.POST.get("reasons", ""),
        )
    except ValidationError as exc:
        return _appeal_page(request, appeal, errors=_errors(exc), status=400)
    messages.success(request, "The answer is recorded in the public ledger.")
    return redirect("accountability:appeal", appeal_id=appeal.pk)


# --- petitions ---------------------------------------------------------------


@require_http_methods(["GET", "HEAD"])
def petitions_page(request: HttpRequest) -> HttpResponse:
    """Every petition with its state and deadline, filterable; breaches counted."""
    now = clock_now()
    petition_ops.petitions_refresh(now=now)
    status = request.GET.get("status") or None
    target = request.GET.get("target") or None
    if status not in (None, "overdue", *PetitionStatus.values):
        status = None
    if target not in (None, *PetitionTarget.values):
        target = None
    return render(
        request,
        "accountability/petitions/list.html",
        {
            "petitions": petition_ops.petitions_list(status=status, target=target)[
                :200
            ],
            "status": status or "",
            "target": target or "",
            "statuses": PetitionStatus.choices,
            "targets": PetitionTarget.choices,
            "breaches": petition_ops.petition_breach_count(),
            "now": now,
        },
    )


def _new_page(
    request: HttpRequest, values: dict[str, Any], *, errors: list[str], status: int
) -> HttpResponse:
    return render(
        request,
        "accountability/petitions/new.html",
        {
            "values": values,
            "errors": errors,
            "targets": PetitionTarget.choices,
            "title_max": PETITION_TITLE_MAX,
            "text_max": PETITION_TEXT_MAX,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def petition_new(request: HttpRequest) -> HttpResponse:
    """File a petition; ?decision=DR-… / ?post=N / ?article=N prefill the target."""
    source = request.POST if request.method == "POST" else request.GET
    values = {
        key: str(source.get(key, "")).strip()
        for key in ("target", "decision", "post", "article", "title", "text")
    }
    if not values["target"]:
        values["target"] = next(
            (k for k in ("decision", "post", "article") if values[k]), "decision"
        )
    if request.method != "POST":
        return _new_page(request, values, errors=[], status=200)
    post_id = int(values["post"]) if values["post"].isdigit() else None
    try:
        petition = petition_ops.petition_file(
            author=request.user,
            target=values["target"],
            title=values["title"],
            text=values["text"],
            decision_id=values["decision"] or None,
            post_id=post_id,
            article=values["article"] or None,
        )
    except ValidationError as exc:
        return _new_page(request, values, errors=_errors(exc), status=400)
    messages.success(request, "Your petition is open; you are its first signer.")
    return redirect("accountability:petition", petition_id=petition.pk)


def _petition_page(
    request: HttpRequest, petition_id: int, *, errors: list[str], status: int
) -> HttpResponse:
    now = clock_now()
    petition_ops.petitions_refresh(now=now, petition_ids=[petition_id])
    try:
        petition = petition_ops.petition_get(petition_id=petition_id)
    except Petition.DoesNotExist:
        raise Http404(f"There is no petition #{petition_id}.") from None
    return render(
        request,
        "accountability/petitions/detail.html",
        {
            "petition": petition,
            "overdue": petition_ops.petition_is_overdue(petition),
            "signed": petition_ops.petition_signed_by(
                petition=petition, user=request.user
            ),
            "can_sign": petition.status in petition_ops.SIGNABLE,
            "can_answer": petition.status in petition_ops.ANSWERABLE
            and petition.author_id != request.user.pk
            and board_member_is(user=request.user, at=now),
            "outcomes": PetitionOutcome.choices,
            "breaches": petition_ops.petition_breach_count(),
            "errors": errors,
            "now": now,
        },
        status=status,
    )


@require_http_methods(["GET", "HEAD"])
def petition_detail(request: HttpRequest, petition_id: int) -> HttpResponse:
    """A petition with its live signature count, deadline and answer."""
    return _petition_page(request, petition_id, errors=[], status=200)


@require_POST
@login_required
def petition_sign(request: HttpRequest, petition_id: int) -> HttpResponse:
    try:
        petition_ops.petition_sign(signer=request.user, petition_id=petition_id)
    except Petition.DoesNotExist:
        raise Http404(f"There is no petition #{petition_id}.") from None
    except petition_ops.SignatureRateLimited as exc:
        response = _petition_page(request, petition_id, errors=[str(exc)], status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    except ValidationError as exc:
        return _petition_page(request, petition_id, errors=_errors(exc), status=400)
    messages.success(request, "You signed this petition.")
    return redirect("accountability:petition", petition_id=petition_id)


@require_POST
@login_required
def petition_answer(request: HttpRequest, petition_id: int) -> HttpResponse:
    raw_amendment = request.POST.get("amendment", "").strip()
    try:
        petition_ops.petition_answer(
            board_member=request.user,
            petition_id=petition_id,
            outcome=request.POST.get("outcome", ""),
            reasons=request.POST.get("reasons", ""),
            amendment_id=int(raw_amendment) if raw_amendment.isdigit() else None,
        )
    except Petition.DoesNotExist:
        raise Http404(f"There is no petition #{petition_id}.") from None
    except ValidationError as exc:
        return _petition_page(request, petition_id, errors=_errors(exc), status=400)
    messages.success(request, "The answer is recorded; signers are notified.")
    return redirect("accountability:petition", petition_id=petition_id)


@require_http_methods(["GET", "HEAD"])
def board_queue(request: HttpRequest) -> HttpResponse:
    """Appeals and petitions waiting for the board, soonest deadline first (public)."""
    now = clock_now()
    petition_ops.petitions_refresh(now=now)
    items: list[dict[str, Any]] = [
        {
            "kind": "appeal",
            "deadline": a.deadline_at,
            "overdue": appeal_ops.appeal_is_overdue(a, now=now),
            "title": f"Appeal against {a.decision_record.public_id}",
            "url_id": a.pk,
        }
        for a in appeal_ops.appeals_pending()
    ] + [
        {
            "kind": "petition",
            "deadline": p.deadline_at,
            "overdue": petition_ops.petition_is_overdue(p),
            "title": p.title,
            "url_id": p.pk,
        }
        for p in petition_ops.petitions_awaiting_answer()
    ]
    items.sort(key=lambda item: (item["deadline"], item["kind"], item["url_id"]))
    return render(
        request,
        "accountability/board_queue.html",
        {
            "items": items,
            "is_board": board_member_is(user=request.user, at=now),
            "breaches": petition_ops.petition_breach_count(),
        },
    )

"""Pages of the moderation queue, the public moderation log and transparency reports.

The queue is for moderators only (403 otherwise); the log and the reports are
public. Report downloads hold aggregates only.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from charter.selectors import charter_active
from feed.models import Report

from . import moderation, reports
from .casework_models import ModerationOutcome


def _require_moderator(request: HttpRequest) -> None:
    if not getattr(request.user, "is_moderator", False):
        raise PermissionDenied("The moderation queue is for moderators.")


def _queue_page(
    request: HttpRequest, *, errors: dict[int, list[str]], status: int
) -> HttpResponse:
    charter = charter_active()
    return render(
        request,
        "accountability/moderation/queue.html",
        {
            "reports": moderation.moderation_queue()[:100],
            "articles": list(charter.articles.all()) if charter else [],
            "outcomes": ModerationOutcome.choices,
            "errors": errors,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def moderation_queue(request: HttpRequest) -> HttpResponse:
    """Open reports, oldest first, each with uphold/dismiss controls."""
    _require_moderator(request)
    return _queue_page(request, errors={}, status=200)


@require_POST
@login_required
def moderation_decide(request: HttpRequest, report_id: int) -> HttpResponse:
    _require_moderator(request)
    try:
        moderation.moderation_decide(
            moderator=request.user,
            report_id=report_id,
            outcome=request.POST.get("outcome", ""),
            article=request.POST.get("article", ""),
            reasons=request.POST.get("reasons", ""),
        )
    except Report.DoesNotExist:
        raise Http404(f"There is no report #{report_id}.") from None
    except ValidationError as exc:
        flat = (
            [m for ms in exc.message_dict.values() for m in ms]
            if hasattr(exc, "error_dict")
            else list(exc.messages)
        )
        return _queue_page(request, errors={report_id: flat}, status=400)
    messages.success(request, "Decision recorded in the public moderation log.")
    return redirect("accountability:moderation_queue")


@require_http_methods(["GET", "HEAD"])
def moderation_log(request: HttpRequest) -> HttpResponse:
    """Who acted, on what, under which article, and why — never who reported."""
    return render(
        request,
        "accountability/moderation/log.html",
        {"actions": moderation.moderation_log()},
    )


def _rows(request: HttpRequest) -> tuple[list[dict], dict, tuple]:
    first, last = reports.report_range(days=request.GET.get("days"))
    rows = reports.report_daily(first=first, last=last)
    return rows, reports.report_totals(rows), (first, last)


@require_http_methods(["GET", "HEAD"])
def reports_page(request: HttpRequest) -> HttpResponse:
    """Daily transparency report with server-rendered charts and downloads."""
    rows, totals, (first, last) = _rows(request)
    return render(
        request,
        "accountability/reports/index.html",
        {
            "rows": list(reversed(rows)),
            "totals": totals,
            "first": first,
            "last": last,
            "days": (last - first).days + 1,
            "charts": reports.CHART_METRICS,
        },
    )


@require_http_methods(["GET", "HEAD"])
def reports_csv(request: HttpRequest) -> HttpResponse:
    rows, _, (first, last) = _rows(request)
    response = HttpResponse(reports.report_csv(rows), content_type="text/csv")
    response["Content-Disposition"] = (
        f'attachment; filename="transparency-{first}-{last}.csv"'
    )
    return response


@require_http_methods(["GET", "HEAD"])
def reports_json(request: HttpRequest) -> JsonResponse:
    rows, totals, (first, last) = _rows(request)
    return JsonResponse(
        {
            "first_day": first.isoformat(),
            "last_day": last.isoformat(),
            "totals": totals,
            "days": rows,
        }
    )


@require_http_methods(["GET", "HEAD"])
def research_export(request: HttpRequest) -> HttpResponse:
    first, last = reports.report_range(days=request.GET.get("days"))
    response = HttpResponse(
        json.dumps(reports.research_export(first=first, last=last), indent=1),
        content_type="application/json",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="charter-social-aggregates-{first}-{last}.json"'
    )
    return response


@require_http_methods(["GET", "HEAD"])
def report_chart(request: HttpRequest, metric: str) -> HttpResponse:
    if metric not in reports.CHART_METRICS:
        raise Http404(
            f"There is no chart '{metric}'; choose one of "
            f"{', '.join(reports.CHART_METRICS)}."
        )
    rows, _, _ = _rows(request)
    response = HttpResponse(
        reports.chart_svg(rows=rows, metric=metric), content_type="image/svg+xml"
    )
    response["Cache-Control"] = "public, max-age=300"
    return response

"""Public transparency pages and downloads under /transparency/.

Thin views: parse the query, call one selector, render. Bad input answers 400
with a JSON message saying what to change.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import selectors, signing
from .formats import consistency_json, inclusion_json
from .kinds import ENTRY_KINDS
from .links import article_url, subject_url
from .models import LedgerEntry
from .params import int_param, log_range

PAGE_SIZE = 50
VERIFIER_PATH = Path(__file__).resolve().parent / "verify.py"
JSONL_CONTENT_TYPE = "application/jsonl; charset=utf-8"

View = Callable[..., HttpResponseBase]


def _bad_request_as_400(view: View) -> View:
    """Turn a ValidationError from parsing or a selector into a 400 with its message."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except ValidationError as exc:
            errors = (
                exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
            )
            first = next(iter(errors.values()))[0]
            return JsonResponse({"detail": first, "errors": errors}, status=400)

    return wrapper


def _entry_row(entry: LedgerEntry) -> dict[str, Any]:
    kind = ENTRY_KINDS.get(entry.kind)
    return {
        "entry": entry,
        "description": kind.description if kind else "",
        "subject_url": subject_url(entry.subject),
        "article_url": article_url(entry.article) if entry.article else None,
        "payload_text": json.dumps(
            entry.payload, indent=2, sort_keys=True, ensure_ascii=False
        ),
    }


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    filters = {
        name: request.GET.get(name, "").strip()[:200]
        for name in ("q", "kind", "subject", "article")
    }
    entries: Any = (
        selectors.ledger_search(
            text=filters["q"],
            kind=filters["kind"],
            subject=filters["subject"],
            article=filters["article"],
        )
        if any(filters.values())
        else selectors.ledger_newest_first()
    )
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    checkpoint = selectors.checkpoint_latest()
    context = {
        "page": page,
        "rows": [_entry_row(entry) for entry in page.object_list],
        "filters": filters,
        "filtered": any(filters.values()),
        "kinds": list(ENTRY_KINDS.values()),
        "checkpoint": checkpoint,
        "verifier_key": signing.verifier_key(),
        "key_history": signing.key_history(),
        "origin": signing.key_name(),
    }
    return render(request, "accountability/transparency.html", context)


@require_GET
def entry_detail(request: HttpRequest, index: int) -> HttpResponse:
    try:
        entry = selectors.ledger_entry_get(index=index)
    except LedgerEntry.DoesNotExist as exc:
        raise Http404(f"The log has no entry {index}.") from exc
    size = selectors.ledger_size()
    context = {
        "row": _entry_row(entry),
        "proof": selectors.inclusion_proof(index=index, size=size),
        "origin": signing.key_name(),
    }
    return render(request, "accountability/entry.html", context)


@require_GET
@_bad_request_as_400
def log_jsonl(request: HttpRequest) -> StreamingHttpResponse:
    start, end = log_range(request.GET, selectors.ledger_size())
    response = StreamingHttpResponse(
        selectors.ledger_log_lines(start=start, end=end),
        content_type=JSONL_CONTENT_TYPE,
    )
    response["Content-Disposition"] = 'inline; filename="log.jsonl"'
    return response


@require_GET
@_bad_request_as_400
def checkpoint(request: HttpRequest) -> HttpResponse:
    if request.GET.get("size"):
        signed = selectors.checkpoint_at(size=int_param(request.GET, "size"))
    else:
        signed = selectors.checkpoint_latest()
    return HttpResponse(signed.note, content_type="text/plain; charset=utf-8")


@require_GET
def key(request: HttpRequest) -> HttpResponse:
    return HttpResponse(
        signing.verifier_key() + "\n", content_type="text/plain; charset=utf-8"
    )


@require_GET
def keys(request: HttpRequest) -> HttpResponse:
    """Every key the log has used, oldest first, in a file verify.py --key reads."""
    lines = [
        f"# Verifier keys of {signing.key_name()}, oldest first. The last one is "
        "current; give this file to verify.py --key to trust them all."
    ]
    for number, past in enumerate(signing.key_history(), start=1):
        if past.until_size is None:
            lines.append(
                f"# key {number}: current, signs from tree size {past.from_size}"
            )
        else:
            lines.append(
                f"# key {number}: retired, signed from tree size {past.from_size}, "
                f"handed over at tree size {past.until_size}"
            )
        lines.append(past.verifier_key)
    return HttpResponse(
        "\n".join(lines) + "\n", content_type="text/plain; charset=utf-8"
    )


@require_GET
@_bad_request_as_400
def inclusion(request: HttpRequest) -> JsonResponse:
    size = int_param(request.GET, "size", default=selectors.ledger_size())
    proof = selectors.inclusion_proof(index=int_param(request.GET, "index"), size=size)
    return JsonResponse(inclusion_json(proof))


@require_GET
@_bad_request_as_400
def consistency(request: HttpRequest) -> JsonResponse:
    second = int_param(request.GET, "second", default=selectors.ledger_size())
    proof = selectors.consistency_proof(
        first=int_param(request.GET, "first"), second=second
    )
    return JsonResponse(consistency_json(proof))


@require_GET
def verifier_download(request: HttpRequest) -> FileResponse:
    return FileResponse(
        VERIFIER_PATH.open("rb"),
        as_attachment=True,
        filename="verify.py",
        content_type="text/x-python; charset=utf-8",
    )

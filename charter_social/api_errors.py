"""One error shape for the whole API: {"detail": "...", "errors": {field: [...]}}."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def _django_validation_payload(exc: DjangoValidationError) -> dict[str, Any]:
    if hasattr(exc, "error_dict"):
        errors = {
            field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()
        }
        first = next(iter(errors.values()))[0] if errors else "Invalid input."
        return {"detail": first, "errors": errors}
    messages = exc.messages
    return {"detail": " ".join(messages) or "Invalid input."}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map service-layer exceptions to 4xx responses with messages people can act on."""
    if isinstance(exc, DjangoValidationError):
        return Response(
            _django_validation_payload(exc), status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, ObjectDoesNotExist):
        exc = Http404(str(exc) or "Not found.")
    if isinstance(exc, PermissionDenied) and not isinstance(
        exc, exceptions.PermissionDenied
    ):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and "detail" not in data:
        first = next(iter(data.values()), None)
        if isinstance(first, list) and first:
            first = first[0]
        response.data = {
            "detail": str(first) if first else "Invalid input.",
            "errors": data,
        }
    elif isinstance(data, list):
        response.data = {"detail": " ".join(str(d) for d in data)}
    return response

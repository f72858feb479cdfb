"""Middleware: security headers, a clear 503 when the database is down."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

# Everything the pages need is served from this origin (htmx ships inside
# django-htmx's static files); no CDN is ever contacted.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self' ws: wss:; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'; object-src 'none'"
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # Swagger UI needs inline bootstrapping; it is the only page exempted.
        if not request.path.startswith("/api/docs"):
            response.headers.setdefault(
                "Content-Security-Policy", CONTENT_SECURITY_POLICY
            )
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        return response


class DatabaseUnavailableMiddleware:
    """Turn a lost database connection into a 503 a person can read, not a 500 trace."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        if isinstance(exception, DatabaseError) and "locked" in str(exception):
            message = "The database is busy. Please retry in a moment."
        else:
            message = "The database is unavailable. Please retry in a moment."
        logger.warning("database unavailable: %s", exception)
        if request.path.startswith("/api/") or request.headers.get(
            "Accept", ""
        ).startswith("application/json"):
            response: HttpResponse = JsonResponse({"detail": message}, status=503)
        else:
            response = HttpResponse(
                message, status=503, content_type="text/plain; charset=utf-8"
            )
        response["Retry-After"] = "5"
        return response


class IdOutOfRangeMiddleware:
    """An id past the database's integer range names nothing: a 404, not a 500.

    `<int:...>` URL converters accept any number of digits; SQLite cannot bind
    an integer beyond 64 bits and raises OverflowError (PostgreSQL compares it
    as a numeric and finds no row, which is already a 404).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        if not isinstance(exception, OverflowError):
            return None
        message = "Nothing has that id."
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message}, status=404)
        return HttpResponse(
            message, status=404, content_type="text/plain; charset=utf-8"
        )

"""Project-level views that belong to no single app."""

from __future__ import annotations

import asyncio
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "down" here
        return f"error: {exc.__class__.__name__}"
    return "ok"


async def _channel_layer_roundtrip() -> None:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    channel = await layer.new_channel("healthz.")
    marker = uuid.uuid4().hex
    await layer.send(channel, {"type": "healthz.ping", "marker": marker})
    message = await asyncio.wait_for(layer.receive(channel), timeout=2)
    if message.get("marker") != marker:
        raise RuntimeError("channel layer returned a different message")


def _channel_layer_status() -> str:
    try:
        async_to_sync(_channel_layer_roundtrip)()
    except Exception as exc:  # noqa: BLE001 - any failure means "down" here
        return f"error: {exc.__class__.__name__}"
    return "ok"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Report whether the database and the channel layer answer."""
    database = _database_status()
    channel_layer = _channel_layer_status()
    layer = get_channel_layer()
    healthy = database == "ok" and channel_layer == "ok"
    return JsonResponse(
        {
            "status": "ok" if healthy else "degraded",
            "database": database,
            "database_vendor": connection.vendor,
            "channel_layer": channel_layer,
            "channel_layer_backend": type(layer).__name__ if layer else None,
        },
        status=200 if healthy else 503,
    )

"""Live events: channel-group names and after-commit broadcasts.

Every broadcast is scheduled with transaction.on_commit so a write that rolls
back never announces itself. A broken channel layer (Redis down) must never
fail the write that triggered it: live updates degrade to polling instead.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def group_for_user(user_id: int) -> str:
    """Private group of one account: notifications, follow changes."""
    return f"feed.user.{user_id}"


def group_for_author(author_id: int) -> str:
    """Everyone whose open page follows this author's new posts."""
    return f"feed.author.{author_id}"


def group_for_thread(root_id: int) -> str:
    """Everyone with this thread open: live reaction and reply counts."""
    return f"feed.thread.{root_id}"


def _send_now(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # noqa: BLE001 - live updates are best effort by design
        logger.warning(
            "live update to %s dropped: channel layer unavailable", group, exc_info=True
        )


def broadcast_after_commit(group: str, message: dict[str, Any]) -> None:
    """Send `message` to `group` once the surrounding transaction commits."""
    transaction.on_commit(lambda: _send_now(group, message))

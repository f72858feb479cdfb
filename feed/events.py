"""Live events: channel-group names and after-commit broadcasts.

Every broadcast is scheduled with transaction.on_commit so a write that rolls
back never announces itself. A broken channel layer (Redis down) must never
fail the write that triggered it: live updates degrade to polling instead.

Broadcasts scheduled one after another in the same transaction (and savepoint)
leave in one batch, through one hop to the event loop: from a synchronous view
each `async_to_sync` call is a thread hand-off under Daphne, and a fresh event
loop plus a fresh Redis connection anywhere else.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
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


async def _send_all(layer: Any, messages: list[tuple[str, dict[str, Any]]]) -> None:
    # In order, and each on its own: one unreachable group must not cost the
    # others their message.
    for group, message in messages:
        try:
            await layer.group_send(group, message)
        except Exception:  # noqa: BLE001 - live updates are best effort by design
            logger.warning(
                "live update to %s dropped: channel layer unavailable",
                group,
                exc_info=True,
            )


def broadcast_now(messages: list[tuple[str, dict[str, Any]]]) -> None:
    """Send each (group, message) now, in order, in one hop to the event loop.

    Best effort: a failure is logged and never raised.
    """
    if not messages:
        return
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(_send_all)(layer, messages)
    except Exception:  # noqa: BLE001 - live updates are best effort by design
        logger.warning(
            "live updates to %s dropped: channel layer unavailable",
            ", ".join(group for group, _ in messages),
            exc_info=True,
        )


@dataclass
class _Batch:
    """One on-commit hook carrying every broadcast scheduled next to each other."""

    messages: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __call__(self) -> None:
        broadcast_now(self.messages)


def broadcast_after_commit(group: str, message: dict[str, Any]) -> None:
    """Send `message` to `group` once the surrounding transaction commits."""
    connection = transaction.get_connection()
    pending = connection.run_on_commit if connection.in_atomic_block else []
    # Join the previous hook only when it is a batch registered under the same
    # savepoints: rolling one back then discards exactly the messages scheduled
    # inside it, and no other on-commit work is reordered around a broadcast.
    # (Django keeps (savepoint ids, callback, robust) per hook; the batching
    # tests fail loudly should that ever change.)
    if pending:
        savepoints, hook, _robust = pending[-1]
        if isinstance(hook, _Batch) and savepoints == set(connection.savepoint_ids):
            hook.messages.append((group, message))
            return
    transaction.on_commit(_Batch([(group, message)]))

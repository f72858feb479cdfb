"""The ranking background worker: computes post signals off the request path.

Runs under `manage.py runworker ranking` (the Procfile's `worker`) when Redis
carries messages between processes. SyncConsumer handlers run in a worker
thread with Django's database connection handling, like a view.
"""

from __future__ import annotations

import logging
from typing import Any

from channels.consumer import SyncConsumer

from ranking.services import MESSAGE_CHUNK, post_signals_compute

logger = logging.getLogger(__name__)

# post_signals_enqueue sends at most MESSAGE_CHUNK ids; far more is a bug.
MAX_POSTS_PER_MESSAGE = 10 * MESSAGE_CHUNK


class RankingWorkerConsumer(SyncConsumer):
    def post_signals(self, message: dict[str, Any]) -> None:
        """Handle {"type": "post.signals", "post_ids": [...]}."""
        post_ids = message.get("post_ids")
        if (
            not isinstance(post_ids, list)
            or len(post_ids) > MAX_POSTS_PER_MESSAGE
            or not all(isinstance(i, int) and not isinstance(i, bool) for i in post_ids)
        ):
            # A malformed message must not kill the worker for everyone else.
            logger.error("ignoring malformed post.signals message: %r", message)
            return
        scored = post_signals_compute(post_ids=post_ids)
        logger.info("post.signals: scored %d of %d posts", scored, len(post_ids))

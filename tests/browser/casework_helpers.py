"""Helpers of the casework browser flows: session login and setup off the loop."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.conf import settings
from django.db import connections
from django.test import Client

T = TypeVar("T")


def off_loop(fn: Callable[[], T]) -> T:
    """Run setup outside Playwright's event-loop thread: after-commit
    broadcasts use async_to_sync, which refuses to run inside it."""

    def run() -> T:
        try:
            return fn()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def log_in_as(page: Any, base: str, user: Any) -> None:
    """Give the page's browser context a real session for `user` (no login form)."""

    def session_key() -> str:
        client = Client()
        client.force_login(user)
        return client.cookies[settings.SESSION_COOKIE_NAME].value

    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": off_loop(session_key),
                "url": base,
            }
        ]
    )

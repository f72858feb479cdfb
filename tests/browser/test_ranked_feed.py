"""The ranked home feed in real Chromium: switch modes, open "Why am I seeing this?"."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Page, expect

from feed.models import Follow, Post, User
from ranking.services import post_signals_store

pytestmark = pytest.mark.browser
T = TypeVar("T")


def off_loop(fn: Callable[[], T]) -> T:
    """Set up outside Playwright's event loop (services use async_to_sync)."""

    def run() -> T:
        try:
            return fn()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def _setup() -> str:
    from charter.services import charter_genesis

    charter_genesis()
    now = timezone.now()
    viewer = User.objects.create_user(username="reader", password="correct-horse-42")
    friend = User.objects.create_user(username="gardener", password="x-horse-42-y")
    outsider = User.objects.create_user(username="librarian", password="x-horse-42-y")
    Follow.objects.create(follower=viewer, followee=friend)
    older = Post.objects.create(
        author=friend, body="Tomatoes are in.", created_at=now - timedelta(hours=3)
    )
    bridge = Post.objects.create(
        author=outsider,
        body="The library extends its opening hours.",
        created_at=now - timedelta(hours=5),
    )
    newer = Post.objects.create(
        author=friend, body="Rain tomorrow.", created_at=now - timedelta(minutes=5)
    )
    ids = [older.id, bridge.id, newer.id]
    post_signals_store(name="incivility", version=1, values={i: 0.05 for i in ids})
    post_signals_store(name="bridging", version=1, values={bridge.id: 0.8})
    client = Client()
    client.force_login(viewer)
    return client.cookies["sessionid"].value


def test_switch_mode_and_read_why(
    live_daphne: str, browser_page: Page, transactional_db: Any
) -> None:
    base, page = live_daphne, browser_page
    session = off_loop(_setup)
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(f"{base}/")
    expect(page.get_by_role("heading", name="Your home feed")).to_be_visible()
    expect(page.get_by_label("Ranked by the charter", exact=True)).to_be_checked()
    bridge = page.locator("article", has_text="The library extends its opening hours.")
    expect(bridge).to_be_visible()

    why = bridge.get_by_text("Why am I seeing this?")
    why.click()
    reasons = bridge.locator(".why-reasons")
    expect(reasons).to_be_visible()
    expect(reasons).to_contain_text(
        "People who usually disagree both found this helpful"
    )
    expect(reasons.get_by_role("link", name="Article 2")).to_be_visible()
    expect(bridge.locator(".why")).to_contain_text("policy version 1")

    # Switch to the chronological feed on the page itself.
    page.get_by_label("Newest first (no profiling)").check()
    page.get_by_role("button", name="Show this feed").click()
    expect(page.get_by_label("Newest first (no profiling)")).to_be_checked()
    expect(page.get_by_text("Why am I seeing this?")).to_have_count(0)
    expect(page.locator("article", has_text="The library")).to_have_count(0)
    first = page.locator("article.post").first
    expect(first).to_contain_text("Rain tomorrow.")

    # And back to the ranked feed.
    page.get_by_label("Ranked by the charter", exact=True).check()
    page.get_by_role("button", name="Show this feed").click()
    expect(page.locator("article", has_text="The library")).to_have_count(1)
    assert not errors, errors

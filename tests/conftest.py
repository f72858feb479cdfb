"""Shared fixtures: users, an API client, a live Daphne server and Chromium."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
from rest_framework.test import APIClient

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _drives_a_browser(item: pytest.Item) -> bool:
    fixtures = getattr(item, "fixturenames", ())
    return item.get_closest_marker("browser") is not None or "chromium" in fixtures


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Run browser tests last.

    The session-wide Playwright driver keeps an asyncio loop running in the main
    thread once started; async tests (consumers, async_to_sync) collected after
    it would fail with "cannot be called from a running event loop".
    """
    items.sort(key=_drives_a_browser)  # stable: order within each group is kept


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    """Rate-limit and lockout counters live in the shared cache (Redis under CI),
    which outlives a test's database rollback; each test starts at zero."""
    from django.core.cache import cache

    from charter_social.ratelimit import local_counter

    cache.clear()
    local_counter.clear()
    yield


@pytest.fixture
def make_user(db: Any) -> Any:
    """Create a citizen account; the password is always 'correct-horse-42'."""
    from feed.models import User

    counter = {"n": 0}

    def _make(username: str | None = None, **extra: Any) -> User:
        counter["n"] += 1
        name = username or f"citizen{counter['n']}"
        return User.objects.create_user(
            username=name,
            password="correct-horse-42",
            email=f"{name}@example.org",
            **extra,
        )

    return _make


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def auth_client(make_user: Any) -> Iterator[tuple[APIClient, Any]]:
    user = make_user()
    client = APIClient()
    client.force_authenticate(user)
    yield client, user


def _use_test_database() -> None:
    """Point the forked Daphne at the test database.

    The fork inherits settings in which the test runner has already renamed the
    database to its test name; channels' set_database_connection would prefix
    "test_" a second time on PostgreSQL (no TEST NAME there), so only fill it in
    when it is still missing.
    """
    from django.conf import settings
    from django.db import connections

    db = settings.DATABASES["default"]
    test_name = db.get("TEST", {}).get("NAME")
    if test_name:
        db["NAME"] = test_name
    elif not str(db["NAME"]).startswith("test_"):
        db["NAME"] = "test_" + str(db["NAME"])
    # The sockets inherited through fork belong to the test process: closing
    # them here would end its session, and an inherited connection pool would
    # hand the same backend to both processes. Forget them and start afresh.
    for conn in connections.all(initialized_only=True):
        conn.connection = None
    if db["ENGINE"].endswith("postgresql"):
        from django.db.backends.postgresql.base import DatabaseWrapper

        DatabaseWrapper._connection_pools.clear()
    connections.close_all()
    # A fork keeps asgiref's single-thread executor but not its worker thread:
    # once any earlier test used database_sync_to_async in this process, every
    # consumer's database call in the fork would wait for ever. Start afresh.
    from concurrent.futures import ThreadPoolExecutor

    from asgiref.sync import SyncToAsync

    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)


@pytest.fixture
def live_daphne(transactional_db: Any) -> Iterator[str]:
    """Serve the real ASGI application (HTTP and websockets) with Daphne.

    pytest-django's live_server speaks no websockets, so browser tests use this.
    The forked Daphne process talks to the same test database.
    """
    from channels.testing.live import make_application
    from daphne.testing import DaphneProcess
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    process = DaphneProcess(
        "127.0.0.1",
        partial(make_application, static_wrapper=ASGIStaticFilesHandler),
        setup=_use_test_database,
    )
    process.start()
    while not process.ready.wait(timeout=1):
        if not process.is_alive():
            raise RuntimeError("Daphne stopped before it was ready")
    try:
        yield f"http://127.0.0.1:{process.port.value}"
    finally:
        process.terminate()
        process.join(timeout=10)


def _chromium_path() -> str | None:
    return (
        os.environ.get("CHROMIUM_PATH")
        or shutil.which("chromium")
        or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    )


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    executable = _chromium_path()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI (apt-get install chromium)")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_FLAGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def second_browser_page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def active_charter(db: Any) -> Any:
    """Charter v1 in force, with its ledger entries, made by the real service."""
    from charter.services import charter_genesis

    return charter_genesis()

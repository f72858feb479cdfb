"""Browser flows in real Chromium against a live Daphne (HTTP + websockets)."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from django.db import connections
from playwright.sync_api import Page, expect

from feed import services
from feed.models import Follow, Post, User

pytestmark = pytest.mark.browser
PASSWORD = "correct-horse-42"
T = TypeVar("T")


def log_in(page: Page, base: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the real login page."""
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name=f"@{username}")).to_be_visible()


def off_loop(fn: Callable[[], T]) -> T:
    """Run test setup outside Playwright's event loop thread: the services'
    after-commit broadcasts use async_to_sync, which refuses to run inside it."""

    def run() -> T:
        try:
            return fn()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def test_new_post_banner_appears_live_and_shows_the_post(
    live_daphne: str, browser_page: Page, second_browser_page: Page, make_user: Any
) -> None:
    base, a_page, b_page = live_daphne, browser_page, second_browser_page
    make_user("bea", display_name="Bea")
    console_errors: list[str] = []
    for page in (a_page, b_page):
        page.on(
            "console",
            lambda m: console_errors.append(m.text) if m.type == "error" else None,
        )

    # A signs up through the real page.
    a_page.goto(f"{base}/signup/")
    a_page.get_by_label("Username").fill("ada")
    a_page.get_by_label("Password", exact=True).fill("a-long-phrase-9")
    a_page.get_by_label("Password again").fill("a-long-phrase-9")
    a_page.get_by_role("button", name="Sign up").click()
    expect(a_page.get_by_text("Welcome, @ada!")).to_be_visible()

    # A follows B on B's profile (htmx swaps the buttons).
    a_page.goto(f"{base}/@bea/")
    a_page.get_by_role("button", name="Follow", exact=True).click()
    expect(a_page.get_by_role("button", name="Unfollow")).to_be_focused()
    assert Follow.objects.filter(
        follower__username="ada", followee__username="bea"
    ).exists()

    # A keeps the home page open, connected to the websocket.
    a_page.goto(f"{base}/")
    expect(a_page.locator("#feed-list")).to_have_attribute(
        "data-live-state", "connected"
    )

    # B signs in through the login page and posts.
    log_in(b_page, base, "bea")
    b_page.get_by_label("Write a post").fill(
        "Morning walk by the river, anyone joining?"
    )
    b_page.get_by_role("button", name="Post", exact=True).click()
    expect(b_page.get_by_text("Your post is published.")).to_be_visible()

    # The banner appears in A's page without a reload; nothing was inserted by itself.
    banner = a_page.locator("#new-posts")
    expect(banner).to_have_attribute("role", "status")
    expect(banner).to_have_attribute("aria-live", "polite")
    button = banner.get_by_role("button", name="1 new post — show")
    expect(button).to_be_visible()
    expect(a_page.get_by_text("Morning walk by the river")).to_have_count(0)

    button.click()
    post = a_page.locator("article.post", has_text="Morning walk by the river")
    expect(post).to_be_visible()
    expect(post).to_be_focused()
    expect(banner.get_by_role("button")).to_have_count(0)
    # Everything ran under the strict CSP (script-src 'self'): nothing was refused.
    assert console_errors == []


def test_keyboard_only_compose_and_like(
    live_daphne: str, browser_page: Page, make_user: Any
) -> None:
    base, page = live_daphne, browser_page
    reader = make_user("kim")
    writer = make_user("lee")
    off_loop(lambda: services.follow_create(follower=reader, followee_id=writer.id))
    theirs = off_loop(
        lambda: services.post_create(author=writer, body="A post worth a like")
    )
    log_in(page, base, "kim")
    page.goto(f"{base}/")

    def tab_to(selector: str, limit: int = 40) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate("(s) => document.activeElement.matches(s)", selector):
                return
        raise AssertionError(f"could not reach {selector} with Tab")

    # The skip link is the first stop and moves focus to the main content.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")

    tab_to("#id_body")
    page.keyboard.type("Written without a mouse")
    tab_to("#compose button[type=submit]")
    page.keyboard.press("Enter")
    expect(
        page.locator("article.post", has_text="Written without a mouse")
    ).to_be_visible()
    expect(page.locator("#compose-status")).to_have_text("Your post is published.")
    assert Post.objects.filter(author=reader, body="Written without a mouse").exists()

    like = f"#like-{theirs.id}"
    tab_to(like)
    page.keyboard.press("Space")
    expect(page.locator(like)).to_have_attribute("aria-pressed", "true")
    expect(page.locator(like)).to_contain_text("1")
    # htmx swapped the action bar; focus stays on the same control.
    expect(page.locator(like)).to_be_focused()
    page.screenshot(path="/tmp/charter_home.png", full_page=True)


def test_thread_helpful_count_updates_live(
    live_daphne: str, browser_page: Page, second_browser_page: Page, make_user: Any
) -> None:
    base, a_page, b_page = live_daphne, browser_page, second_browser_page
    author: User = make_user("max")
    make_user("noa")
    post = off_loop(
        lambda: services.post_create(
            author=author, body="Here's a summary of the council meeting."
        )
    )
    off_loop(
        lambda: services.post_create(
            author=author, body="Minutes are public too.", parent_id=post.id
        )
    )

    log_in(a_page, base, "max")
    a_page.goto(f"{base}/posts/{post.id}/")
    thread = a_page.locator("#thread-list")
    expect(thread).to_have_attribute("data-live-state", "watching")
    helpful = a_page.locator(
        f'[data-post="{post.id}"][data-count="helpful_count"]'
    ).first
    expect(helpful).to_have_text("0")

    log_in(b_page, base, "noa")
    b_page.goto(f"{base}/posts/{post.id}/")
    b_page.locator(f"#helpful-{post.id}").click()
    expect(b_page.locator(f"#helpful-{post.id}")).to_have_attribute(
        "aria-pressed", "true"
    )

    expect(helpful).to_have_text("1")
    a_page.screenshot(path="/tmp/charter_thread.png", full_page=True)
    assert re.search(r"Helpful\s*1", a_page.locator(f"#actions-{post.id}").inner_text())


def test_banner_falls_back_to_polling_when_the_socket_is_down(
    live_daphne: str, browser_page: Page, make_user: Any
) -> None:
    base, page = live_daphne, browser_page
    reader = make_user("ola")
    writer = make_user("pia")
    off_loop(lambda: services.follow_create(follower=reader, followee_id=writer.id))
    # The websocket endpoint refuses every connection, as when Redis is down.
    page.route_web_socket(re.compile(r".*/ws/feed/$"), lambda ws: ws.close(code=1011))
    page.clock.install()
    log_in(page, base, "ola")
    page.goto(f"{base}/")
    expect(page.locator("#feed-list")).to_have_attribute("data-live-state", "polling")

    off_loop(
        lambda: services.post_create(
            author=writer, body="Posted while the socket was down"
        )
    )
    page.clock.run_for(31_000)
    button = page.locator("#new-posts").get_by_role("button", name="1 new post — show")
    expect(button).to_be_visible()
    button.click()
    expect(
        page.locator("article.post", has_text="Posted while the socket was down")
    ).to_be_focused()

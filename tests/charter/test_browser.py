"""A board amends the charter in real Chromium against a live Daphne."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Page, expect

from charter.models import Amendment, CharterVersion
from charter.services import board_membership_grant, charter_genesis

pytestmark = pytest.mark.browser


def sign_in(page: Page, base: str, user: Any) -> None:
    """Give the browser a real session of `user` (the login page is not under test)."""
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "domain": urlparse(base).hostname or "127.0.0.1",
                "path": "/",
            }
        ]
    )


def test_board_adopts_a_weight_change_and_the_charter_page_shows_it(
    live_daphne: str, browser_page: Page, second_browser_page: Page, make_user: Any
) -> None:
    base, alice_page, bob_page = live_daphne, browser_page, second_browser_page
    charter_genesis()
    yesterday = timezone.now() - timedelta(days=1)
    alice, bob = make_user("alice"), make_user("bob")
    for member in (alice, bob):
        board_membership_grant(user=member, starts_at=yesterday)
    sign_in(alice_page, base, alice)
    sign_in(bob_page, base, bob)

    # Alice proposes: the form starts from the current text and policy.
    alice_page.goto(f"{base}/charter/amendments/")
    alice_page.get_by_role("link", name="Propose an amendment").click()
    alice_page.get_by_label("Title").fill("Give bridging posts more room")
    alice_page.get_by_label("Rationale").fill(
        "Posts valued across divides calm debate."
    )
    policy_box = alice_page.get_by_label("Policy (JSON)")
    policy = json.loads(policy_box.input_value())
    bridging = next(o for o in policy["objectives"] if o["signal"] == "bridging")
    assert bridging["weight"] == 1.0
    bridging["weight"] = 1.8
    policy_box.fill(json.dumps(policy, indent=2))
    alice_page.get_by_role("button", name="Save draft").click()
    expect(alice_page.get_by_test_id("amendment-status")).to_have_text("Draft")
    expect(alice_page.get_by_text("weight +1.8").first).to_be_visible()

    alice_page.get_by_role("button", name="Open for deliberation").click()
    status = alice_page.get_by_test_id("amendment-status")
    expect(status).to_have_text("Open for deliberation")
    alice_page.get_by_role("button", name="Open the vote").click()
    expect(alice_page.get_by_test_id("amendment-status")).to_have_text("Voting")
    amendment_url = alice_page.url

    # Two members vote.
    alice_page.get_by_role("button", name="Yes", exact=True).click()
    expect(alice_page.get_by_test_id("my-vote")).to_have_text("Yes")
    bob_page.goto(amendment_url)
    bob_page.get_by_role("button", name="Yes", exact=True).click()
    expect(bob_page.get_by_test_id("my-vote")).to_have_text("Yes")

    # Everyone sitting has voted, so the vote may close before its window ends.
    bob_page.get_by_role("button", name="Close the vote and count").click()
    expect(bob_page.get_by_test_id("amendment-status")).to_have_text("Adopted")
    expect(bob_page.get_by_test_id("outcome")).to_contain_text("2 yes, 0 no")

    alice_page.goto(f"{base}/charter/")
    banner = alice_page.get_by_test_id("version-banner")
    expect(banner).to_contain_text("Version 2, in force")
    expect(alice_page.locator("#article-2").get_by_text("weight +1.8")).to_be_visible()
    assert Amendment.objects.get().status == "adopted"
    v2_policy = CharterVersion.objects.get(number=2).policy
    assert v2_policy["objectives"][0]["weight"] == 1.8

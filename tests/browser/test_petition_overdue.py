"""End to end: a petition reaches its threshold (watched live), its deadline
passes unanswered, and it shows as overdue everywhere it is listed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accountability.casework_models import Petition
from accountability.models import LedgerEntry
from accountability.petitions import petition_file, petitions_refresh
from tests.browser.casework_helpers import log_in_as, off_loop

pytestmark = pytest.mark.browser


def test_threshold_then_missed_deadline_shows_overdue_everywhere(
    live_daphne: str,
    browser_page: Page,
    second_browser_page: Page,
    active_charter: Any,
    make_user: Any,
) -> None:
    base = live_daphne
    petitioner = make_user("pam")
    signer = make_user("sol")

    def setup() -> Petition:
        petition = petition_file(
            author=petitioner,
            target="article",
            article="2",
            title="Give bridging posts more weight",
            text="Posts both camps find helpful should rank higher.",
        )
        # Two signatures instead of the charter's fifty: the snapshot on the row
        # is what the services read, so this changes nothing else.
        Petition.objects.filter(pk=petition.pk).update(threshold=2)
        return petition

    petition = off_loop(setup)
    url = f"{base}/transparency/petitions/{petition.pk}/"

    # Anyone can watch the live count without signing in.
    watcher = browser_page
    watcher.goto(url)
    expect(watcher.locator("[data-signature-count]")).to_have_text("1")

    # The second signature, in another browser, reaches the threshold.
    signing = second_browser_page
    log_in_as(signing, base, signer)
    signing.goto(url)
    signing.get_by_role("button", name="Sign this petition").click()
    expect(signing.get_by_text("You have signed this petition.").first).to_be_visible()
    # The watcher's page was not reloaded: the new count came over the socket.
    expect(watcher.locator("[data-signature-count]")).to_have_text("2")
    expect(
        watcher.locator("[data-petition-live][data-live-ready=true]")
    ).to_be_attached()
    expect(watcher.locator("[data-petition-status]")).to_have_text(
        "Waiting for the board's answer"
    )
    petition.refresh_from_db()
    assert petition.status == "threshold_reached"

    # The board lets the 30-day deadline pass: the first look after it closes
    # the petition as overdue (time travel through the services' `now`).
    assert (
        off_loop(lambda: petitions_refresh(now=timezone.now() + timedelta(days=31)))
        == 1
    )

    watcher.goto(f"{base}/transparency/petitions/")
    row = watcher.locator(f"[data-petition-row='{petition.pk}']")
    expect(row.locator("[data-overdue]")).to_be_visible()
    expect(watcher.locator("[data-breach-count='1']")).to_be_visible()

    watcher.goto(f"{base}/transparency/petitions/?status=overdue")
    expect(watcher.locator(f"[data-petition-row='{petition.pk}']")).to_be_visible()

    watcher.goto(url)
    expect(watcher.locator("[data-overdue]").first).to_be_visible()
    expect(watcher.locator("[data-petition-status]")).to_have_text(
        "Overdue: the board did not answer"
    )
    expect(signing.get_by_role("button", name="Sign this petition")).to_have_count(0)

    watcher.goto(f"{base}/transparency/board/queue/")
    expect(
        watcher.locator(f"[data-queue-item='petition-{petition.pk}'] [data-overdue]")
    ).to_be_visible()

    log_in_as(signing, base, petitioner)
    signing.goto(f"{base}/transparency/decisions/mine/")
    expect(signing.get_by_text("Overdue: the board did not answer")).to_be_visible()

    api = signing.request.get(f"{base}/api/petitions/{petition.pk}/").json()
    assert api["overdue"] is True and api["status"] == "closed_unanswered"
    assert LedgerEntry.objects.filter(kind="petition.overdue").count() == 1

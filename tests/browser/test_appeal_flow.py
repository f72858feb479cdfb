"""End to end: a post is demoted → its author appeals → a board member overturns
it → the override is in the ledger and the post's rank is restored."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accountability.decisions import decision_record_ensure, overrides_active_for
from accountability.models import LedgerEntry
from charter.selectors import policy_active, policy_active_record
from feed.services import post_create
from ranking.ranker_core import Candidate, rank
from tests.browser.casework_helpers import log_in_as, off_loop

pytestmark = pytest.mark.browser


def _rank_ids(candidates: list[Candidate], restored: set[int]) -> list[int]:
    """Rank as the DB ranker does with overrides: a restored post's demotion rule
    does not apply to it (its score is computed by ranker_core all the same)."""
    policy = policy_active()
    plain = dict(
        policy, constraints=[c for c in policy["constraints"] if c["kind"] != "demote"]
    )
    now = timezone.now()
    demoted = {
        item.item_id
        for item in rank(candidates, policy, now=now).items
        if item.demoted and item.item_id not in restored
    }
    order = [item.item_id for item in rank(candidates, plain, now=now).items]
    return [i for i in order if i not in demoted] + [i for i in order if i in demoted]


def test_demoted_post_is_appealed_overturned_logged_and_restored(
    live_daphne: str,
    browser_page: Page,
    second_browser_page: Page,
    active_charter: Any,
    make_user: Any,
) -> None:
    base = live_daphne
    author = make_user("amal")
    board = make_user("bo")
    other = make_user("cy")

    def setup() -> tuple[Any, Any, Any]:
        from charter.services import board_membership_grant

        board_membership_grant(user=board, starts_at=timezone.now() - timedelta(days=1))
        post = post_create(
            author=author,
            body="Those ministers are idiots, says a sign I photographed.",
        )
        neighbour = post_create(
            author=other, body="Bus lanes opened on Main Street today."
        )
        version, sha, _ = policy_active_record()
        record = decision_record_ensure(
            post_id=post.pk,
            rule={"kind": "demote", "signal": "incivility", "above": 0.85},
            article="1",
            signal_values={"incivility": 0.91, "bridging": 0.9},
            policy_version=version,
            policy_sha256=sha,
            model_versions={},
        )
        return post, neighbour, record

    post, neighbour, record = off_loop(setup)
    candidates = [
        Candidate(
            post.pk, author.pk, post.created_at, {"incivility": 0.91, "bridging": 0.9}
        ),
        Candidate(
            neighbour.pk,
            other.pk,
            neighbour.created_at,
            {"incivility": 0.5, "bridging": -0.6},
        ),
    ]
    # Widely found helpful, so it would lead; the demotion puts it last.
    assert _rank_ids(candidates, restored=set()) == [neighbour.pk, post.pk]

    # The author finds the decision among "my decisions" and appeals it.
    page = browser_page
    log_in_as(page, base, author)
    page.goto(f"{base}/transparency/decisions/mine/")
    page.get_by_role("link", name="Appeal this decision").click()
    expect(page.get_by_role("heading", name="Statement of reasons")).to_be_visible()
    expect(page.locator("[data-replay=reproduced]")).to_be_visible()
    page.get_by_label("Why is this decision wrong?").fill(
        "I photographed a protest sign to criticise it; the words are not mine."
    )
    page.get_by_role("button", name="File appeal").click()
    expect(page.locator("[data-appeal-status=pending]")).to_be_visible()

    # A board member finds it in the queue, overturns it with reasons.
    judge = second_browser_page
    log_in_as(judge, base, board)
    judge.goto(f"{base}/transparency/board/queue/")
    judge.get_by_role("link", name=f"Appeal against {record.public_id}").click()
    judge.get_by_label("Overturn — restore the post's ranking").check()
    judge.get_by_label("Reasons (published)").fill(
        "Documenting a sign in order to criticise it is not incivility (Article 1)."
    )
    judge.get_by_role("button", name="Publish answer").click()
    expect(judge.locator("[data-appeal-status=overturned]")).to_be_visible()

    # The override is a public ledger entry, reachable from the appeal page.
    judge.get_by_role("link", name="ledger entry").click()
    expect(judge.get_by_text("ranking.override").first).to_be_visible()
    entry = LedgerEntry.objects.get(kind="ranking.override")
    assert entry.payload["decision_record"] == record.public_id
    assert entry.actor == f"user:{board.pk}"

    # The author's view of the decision shows the restoration.
    page.reload()
    expect(page.locator("[data-appeal-status=overturned]")).to_be_visible()

    # The post's rank is restored.
    restored = overrides_active_for(post_ids=[post.pk, neighbour.pk])
    assert restored == {post.pk: "restore"}
    assert _rank_ids(candidates, restored=set(restored)) == [post.pk, neighbour.pk]

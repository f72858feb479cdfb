"""Appeals: the author appeals without co-signers; only a board member answers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accountability.appeals import appeal_answer, appeal_file, appeal_is_overdue
from accountability.casework_models import Appeal, DecisionRecord
from accountability.decisions import overrides_active_for
from accountability.models import LedgerEntry
from feed.models import Notification
from ranking.ranker_core import Candidate, rank

pytestmark = pytest.mark.django_db


def test_author_appeals_and_the_deadline_comes_from_the_charter(
    demoted: Any, author: Any
) -> None:
    _, record = demoted
    appeal = appeal_file(
        appellant=author, public_id=record.public_id, statement="Satire."
    )
    assert appeal.deadline_at - appeal.filed_at == timedelta(days=14)
    entry = LedgerEntry.objects.get(kind="appeal.filed")
    assert entry.subject == f"decision:{record.public_id}"
    assert entry.payload["appeal"] == appeal.pk


def test_only_the_author_may_appeal(demoted: Any, make_user: Any) -> None:
    _, record = demoted
    with pytest.raises(PermissionDenied, match="petition"):
        appeal_file(appellant=make_user(), public_id=record.public_id, statement="x")


def test_second_appeal_is_refused_and_nothing_is_logged_twice(
    demoted: Any, author: Any
) -> None:
    _, record = demoted
    appeal_file(appellant=author, public_id=record.public_id, statement="one")
    with pytest.raises(ValidationError, match="already appealed"):
        appeal_file(appellant=author, public_id=record.public_id, statement="two")
    assert Appeal.objects.count() == 1
    assert LedgerEntry.objects.filter(kind="appeal.filed").count() == 1


def test_unknown_decision_and_overlong_statement(demoted: Any, author: Any) -> None:
    _, record = demoted
    with pytest.raises(DecisionRecord.DoesNotExist):
        appeal_file(appellant=author, public_id="DR-missing", statement="x")
    with pytest.raises(ValidationError, match="2000"):
        appeal_file(appellant=author, public_id=record.public_id, statement="x" * 2001)


def test_overturn_restores_the_post_through_a_logged_override(
    demoted: Any, author: Any, board_member: Any
) -> None:
    post, record = demoted
    appeal = appeal_file(
        appellant=author, public_id=record.public_id, statement="Satire."
    )
    answered = appeal_answer(
        board_member=board_member,
        appeal_id=appeal.pk,
        outcome="overturned",
        reasons="It quotes the insult to criticise it.",
    )
    assert answered.status == "overturned"
    override_entry = LedgerEntry.objects.get(kind="ranking.override")
    assert override_entry.payload["decision_record"] == record.public_id
    answer_entry = LedgerEntry.objects.get(kind="appeal.answered")
    assert answer_entry.payload["on_time"] is True
    assert answer_entry.payload["override_entry"] == override_entry.index
    assert overrides_active_for(post_ids=[post.pk]) == {post.pk: "restore"}
    assert Notification.objects.filter(recipient=author, kind="appeal").exists()


def test_ranker_demotes_the_post_until_the_override_lifts_it(
    demoted: Any, author: Any, board_member: Any
) -> None:
    """The recorded inputs rank the post last; with the restore override applied
    the way the DB ranker does (the demotion rule is skipped for restored
    posts), the same scores put it first again."""
    post, record = demoted
    now = timezone.now()
    policy = active_policy()
    candidates = [
        Candidate(post.pk, author.pk, post.created_at, dict(record.signal_values)),
        Candidate(post.pk + 1000, author.pk + 1, post.created_at, {"bridging": 0.0}),
    ]
    before = rank(candidates, policy, now=now)
    assert before.items[-1].item_id == post.pk and before.items[-1].demoted
    appeal = appeal_file(appellant=author, public_id=record.public_id, statement="x")
    appeal_answer(
        board_member=board_member,
        appeal_id=appeal.pk,
        outcome="overturned",
        reasons="y",
    )
    restored = overrides_active_for(post_ids=[c.item_id for c in candidates])
    assert restored == {post.pk: "restore"}
    undemoted_policy = dict(
        policy, constraints=[c for c in policy["constraints"] if c["kind"] != "demote"]
    )
    after = rank(
        [c for c in candidates if c.item_id in restored], undemoted_policy, now=now
    )
    assert not after.items[0].demoted


def active_policy() -> dict[str, Any]:
    from charter.selectors import policy_active

    return policy_active()


def test_citizen_cannot_answer_and_the_appellant_cannot_judge_themself(
    demoted: Any, author: Any, make_user: Any
) -> None:
    from charter.services import board_membership_grant

    _, record = demoted
    appeal = appeal_file(appellant=author, public_id=record.public_id, statement="x")
    with pytest.raises(PermissionDenied, match="board member"):
        appeal_answer(
            board_member=make_user(), appeal_id=appeal.pk, outcome="upheld", reasons="r"
        )
    board_membership_grant(user=author, starts_at=timezone.now() - timedelta(hours=1))
    with pytest.raises(PermissionDenied, match="own appeal"):
        appeal_answer(
            board_member=author, appeal_id=appeal.pk, outcome="upheld", reasons="r"
        )
    assert not LedgerEntry.objects.filter(kind="appeal.answered").exists()


def test_answer_needs_reasons_and_happens_once(
    demoted: Any, author: Any, board_member: Any
) -> None:
    _, record = demoted
    appeal = appeal_file(appellant=author, public_id=record.public_id, statement="x")
    with pytest.raises(ValidationError, match="reasons"):
        appeal_answer(
            board_member=board_member,
            appeal_id=appeal.pk,
            outcome="upheld",
            reasons=" ",
        )
    appeal_answer(
        board_member=board_member, appeal_id=appeal.pk, outcome="upheld", reasons="ok"
    )
    with pytest.raises(ValidationError, match="already"):
        appeal_answer(
            board_member=board_member,
            appeal_id=appeal.pk,
            outcome="overturned",
            reasons="r",
        )


def test_late_answer_is_accepted_and_recorded_as_late(
    demoted: Any, author: Any, board_member: Any
) -> None:
    _, record = demoted
    appeal = appeal_file(appellant=author, public_id=record.public_id, statement="x")
    later = timezone.now() + timedelta(days=15)
    assert not appeal_is_overdue(appeal)
    assert appeal_is_overdue(appeal, now=later)
    appeal_answer(
        board_member=board_member,
        appeal_id=appeal.pk,
        outcome="upheld",
        reasons="late",
        now=later,
    )
    assert LedgerEntry.objects.get(kind="appeal.answered").payload["on_time"] is False

"""The amendment lifecycle against the real database and the real ledger."""

from __future__ import annotations

import copy
import hashlib
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accountability.models import LedgerEntry
from charter.models import Amendment, AmendmentStatus, CharterVersion, Vote
from charter.policy import policy_canonical_bytes, policy_sha256
from charter.selectors import (
    board_member_is,
    charter_active,
    policy_active,
    policy_active_version,
)
from charter.services import (
    amendment_close_vote,
    amendment_comment,
    amendment_open_deliberation,
    amendment_open_voting,
    amendment_propose,
    board_membership_grant,
    charter_genesis,
    vote_cast,
)

from .conftest import end_voting_window


def _weight(policy: dict[str, Any], signal: str) -> float:
    return next(o["weight"] for o in policy["objectives"] if o["signal"] == signal)


def _to_vote(proposer: Any, policy: dict[str, Any], **extra: Any) -> Amendment:
    amendment = amendment_propose(
        proposer=proposer,
        title="Lift bridging content",
        rationale="Bridging posts reduce hostility; give them more room.",
        policy=policy,
        **extra,
    )
    amendment_open_deliberation(actor=proposer, amendment=amendment)
    return amendment_open_voting(actor=proposer, amendment=amendment)


def test_genesis_is_idempotent_and_logs_adoption_and_activation(db: Any) -> None:
    first = charter_genesis()
    second = charter_genesis()
    assert first.pk == second.pk
    assert CharterVersion.objects.count() == 1
    assert first.articles.count() == 10
    entries = LedgerEntry.objects.filter(subject="charter:v1").order_by("index")
    assert [e.kind for e in entries] == ["charter.version_adopted", "policy.activated"]
    assert all(e.payload["policy_sha256"] == first.policy_sha256 for e in entries)
    assert policy_active_version() == (1, first.policy_sha256)


def test_policy_hash_is_the_sha256_of_the_published_bytes(active_charter: Any) -> None:
    policy = policy_active()
    digest = hashlib.sha256(policy_canonical_bytes(policy)).hexdigest()
    assert digest == active_charter.policy_sha256 == policy_sha256(policy)


def test_lifecycle_adopts_and_activates_only_at_the_effective_time(
    board: list[Any], reweighted: dict[str, Any]
) -> None:
    alice, bob, carol = board
    effective = timezone.now() + timedelta(hours=2)
    amendment = amendment_propose(
        proposer=alice,
        title="Lift bridging content",
        rationale="Bridging posts reduce hostility; give them more room.",
        policy=reweighted,
        effective_at=effective,
    )
    assert amendment.status == AmendmentStatus.DRAFT
    amendment = amendment_open_deliberation(actor=bob, amendment=amendment)
    amendment_comment(
        author=carol, amendment=amendment, body="Agreed, with a review in a year."
    )
    amendment = amendment_open_voting(actor=alice, amendment=amendment)
    vote_cast(voter=alice, amendment=amendment, choice="yes")
    vote_cast(voter=bob, amendment=amendment, choice="no")
    vote_cast(voter=bob, amendment=amendment, choice="yes")  # changed his mind
    vote_cast(voter=carol, amendment=amendment, choice="abstain")
    assert Vote.objects.filter(amendment=amendment).count() == 3

    amendment = amendment_close_vote(actor=carol, amendment=amendment)

    assert amendment.status == AmendmentStatus.ADOPTED
    assert (amendment.yes_count, amendment.no_count, amendment.abstain_count) == (
        2,
        0,
        1,
    )
    v2 = CharterVersion.objects.get(number=2)
    assert v2.amendment_id == amendment.pk and v2.effective_at == effective
    # Adopted but not yet in force: the ranker still follows v1.
    active = charter_active()
    assert active is not None and active.number == 1
    assert _weight(policy_active(), "bridging") == 1.0
    later = effective + timedelta(seconds=1)
    upcoming = charter_active(at=later)
    assert upcoming is not None and upcoming.number == 2
    assert _weight(policy_active(at=later), "bridging") == 1.5
    assert policy_active_version(at=later) == (2, policy_sha256(reweighted))

    # The ledger proves each step, and the adoption carries the policy's hash.
    kinds = list(
        LedgerEntry.objects.filter(subject=f"amendment:{amendment.pk}")
        .order_by("index")
        .values_list("kind", flat=True)
    )
    assert kinds == [
        "amendment.proposed",
        "amendment.opened",
        "amendment.opened",
        "vote.cast",
        "vote.cast",
        "vote.cast",
        "vote.cast",
        "vote.closed",
    ]
    closed = LedgerEntry.objects.get(kind="vote.closed")
    assert closed.payload["result"] == "adopted" and closed.payload["yes"] == 2
    adopted = LedgerEntry.objects.get(
        kind="charter.version_adopted", subject="charter:v2"
    )
    activated = LedgerEntry.objects.get(kind="policy.activated", subject="charter:v2")
    assert (
        adopted.payload["policy_sha256"]
        == v2.policy_sha256
        == policy_sha256(reweighted)
    )
    assert activated.payload["effective_at"] == effective.isoformat()
    assert closed.index < adopted.index < activated.index


def test_quorum_not_met_rejects_and_leaves_policy_unchanged(
    board: list[Any], reweighted: dict[str, Any]
) -> None:
    alice = board[0]
    amendment = _to_vote(alice, reweighted)
    vote_cast(voter=alice, amendment=amendment, choice="yes")  # 1 of 3 < 50%
    end_voting_window(amendment)
    amendment = amendment_close_vote(actor=alice, amendment=amendment)
    assert amendment.status == AmendmentStatus.REJECTED
    assert "quorum not met" in amendment.outcome
    assert CharterVersion.objects.count() == 1
    assert (
        _weight(policy_active(at=timezone.now() + timedelta(days=30)), "bridging")
        == 1.0
    )
    assert LedgerEntry.objects.get(kind="vote.closed").payload["result"] == "rejected"
    assert not LedgerEntry.objects.filter(subject="charter:v2").exists()


def test_majority_not_reached_rejects(
    board: list[Any], reweighted: dict[str, Any]
) -> None:
    alice, bob, carol = board
    amendment = _to_vote(alice, reweighted)
    vote_cast(voter=alice, amendment=amendment, choice="yes")
    vote_cast(voter=bob, amendment=amendment, choice="no")
    vote_cast(voter=carol, amendment=amendment, choice="abstain")
    amendment = amendment_close_vote(actor=alice, amendment=amendment)
    assert amendment.status == AmendmentStatus.REJECTED
    assert CharterVersion.objects.count() == 1


def test_vote_cannot_close_early_while_members_have_not_voted(
    board: list[Any], reweighted: dict[str, Any]
) -> None:
    alice, bob, _ = board
    amendment = _to_vote(alice, reweighted)
    vote_cast(voter=alice, amendment=amendment, choice="yes")
    vote_cast(voter=bob, amendment=amendment, choice="yes")
    with pytest.raises(ValidationError, match="2 of 3 have"):
        amendment_close_vote(actor=alice, amendment=amendment)
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.VOTING


def test_votes_are_refused_after_the_window_closes(
    board: list[Any], reweighted: dict[str, Any]
) -> None:
    alice = board[0]
    amendment = _to_vote(alice, reweighted)
    end_voting_window(amendment)
    with pytest.raises(ValidationError, match="window has closed"):
        vote_cast(voter=alice, amendment=amendment, choice="yes")
    assert not Vote.objects.exists()


def test_non_member_cannot_propose_vote_or_close(
    board: list[Any], make_user: Any, reweighted: dict[str, Any]
) -> None:
    citizen = make_user("citizen")
    with pytest.raises(PermissionDenied):
        amendment_propose(proposer=citizen, title="t", rationale="r", policy=reweighted)
    amendment = _to_vote(board[0], reweighted)
    with pytest.raises(PermissionDenied):
        vote_cast(voter=citizen, amendment=amendment, choice="yes")
    with pytest.raises(PermissionDenied):
        amendment_close_vote(actor=citizen, amendment=amendment)
    assert not Vote.objects.exists()
    # Anyone signed in may still take part in the deliberation.
    amendment_comment(
        author=citizen, amendment=amendment, body="Please consider small voices."
    )


def test_expired_term_loses_the_vote(
    board: list[Any], make_user: Any, reweighted: dict[str, Any]
) -> None:
    former = make_user("former")
    now = timezone.now()
    board_membership_grant(
        user=former,
        starts_at=now - timedelta(days=400),
        ends_at=now - timedelta(days=35),
    )
    assert not board_member_is(user=former)
    assert board_member_is(user=former, at=now - timedelta(days=100))
    amendment = _to_vote(board[0], reweighted)
    with pytest.raises(PermissionDenied):
        vote_cast(voter=former, amendment=amendment, choice="yes")


def test_overlapping_terms_are_refused(board: list[Any]) -> None:
    with pytest.raises(ValidationError, match="already has a board term"):
        board_membership_grant(user=board[0])


def test_invalid_policy_is_refused_with_field_path_and_nothing_written(
    board: list[Any], reweighted: dict[str, Any]
) -> None:
    bad = copy.deepcopy(reweighted)
    bad["objectives"][1]["weight"] = 9
    ledger_before = LedgerEntry.objects.count()
    with pytest.raises(ValidationError) as caught:
        amendment_propose(proposer=board[0], title="t", rationale="r", policy=bad)
    assert caught.value.message_dict["policy"] == [
        "objectives[1].weight: must be between -5 and 5"
    ]
    assert not Amendment.objects.exists()
    assert LedgerEntry.objects.count() == ledger_before


def test_removing_a_cited_article_is_refused(
    board: list[Any], active_charter: Any
) -> None:
    articles = [
        {"number": a.number, "title": a.title, "body": a.body}
        for a in active_charter.articles.all()
        if a.number != "3"
    ]
    with pytest.raises(ValidationError) as caught:
        amendment_propose(
            proposer=board[0], title="t", rationale="r", articles=articles
        )
    messages = caught.value.message_dict["policy"]
    assert any(m.startswith("objectives[3].article: cites article 3") for m in messages)


def test_an_amendment_that_changes_nothing_is_refused(board: list[Any]) -> None:
    with pytest.raises(ValidationError, match="changes neither"):
        amendment_propose(proposer=board[0], title="Nothing", rationale="No change.")


def test_superseded_amendment_is_rejected_at_close(
    board: list[Any], reweighted: dict[str, Any]
) -> None:
    alice, bob, carol = board
    first = _to_vote(alice, reweighted)
    other = copy.deepcopy(reweighted)
    other["feed"]["page_size"] = 20
    second = _to_vote(bob, other)
    for member in board:
        vote_cast(voter=member, amendment=first, choice="yes")
        vote_cast(voter=member, amendment=second, choice="yes")
    assert amendment_close_vote(actor=carol, amendment=first).status == "adopted"
    second = amendment_close_vote(actor=carol, amendment=second)
    assert second.status == AmendmentStatus.REJECTED
    assert "version 2 has been adopted since" in second.outcome
    assert CharterVersion.objects.count() == 2


def test_comments_are_refused_on_drafts_and_closed_amendments(
    board: list[Any], make_user: Any, reweighted: dict[str, Any]
) -> None:
    citizen = make_user("citizen")
    draft = amendment_propose(
        proposer=board[0], title="t", rationale="r", policy=reweighted
    )
    with pytest.raises(ValidationError, match="only while"):
        amendment_comment(author=citizen, amendment=draft, body="Too early?")
    with pytest.raises(ValidationError, match="Write a comment"):
        amendment_comment(author=citizen, amendment=draft, body="   ")

"""Petitions: filing, signatures (once, rate-limited), threshold, answers, overdue."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accountability.casework_models import Petition, PetitionSignature
from accountability.decisions import overrides_active_for
from accountability.models import LedgerEntry
from accountability.petitions import (
    SIGN_BURST_LIMIT,
    SignatureRateLimited,
    petition_answer,
    petition_breach_count,
    petition_file,
    petition_is_overdue,
    petition_sign,
    petitions_list,
    petitions_refresh,
)
from feed.models import Notification

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


def _file(author: Any, record: Any, **extra: Any) -> Petition:
    return petition_file(
        author=author,
        target="decision",
        decision_id=record.public_id,
        title="Restore this satirical post",
        text="The post quotes an insult in order to condemn it.",
        **extra,
    )


def _article_petition(author: Any) -> Petition:
    return petition_file(
        author=author,
        target="article",
        article="2",
        title="Weigh bridging more",
        text="text",
    )


def _late_signature_refused(make_user: Any, record: Any) -> tuple[Petition, Any]:
    """A petition past its threshold whose answer deadline has passed, and the
    moment a further signature was refused as closed."""
    petition = _lower_threshold(_file(make_user(), record), 2)
    petition_sign(signer=make_user(), petition_id=petition.pk)
    later = timezone.now() + timedelta(days=31)
    with pytest.raises(ValidationError, match="closed"):
        petition_sign(signer=make_user(), petition_id=petition.pk, now=later)
    petition.refresh_from_db()
    return petition, later


def _signers(make_user: Any, n: int) -> list[Any]:
    return [make_user() for _ in range(n)]


def _lower_threshold(petition: Petition, threshold: int) -> Petition:
    # The charter's threshold of 50 would need 50 accounts per test.
    Petition.objects.filter(pk=petition.pk).update(threshold=threshold)
    petition.refresh_from_db()
    return petition


def test_filing_snapshots_the_charter_and_the_author_signs(
    demoted: Any, make_user: Any
) -> None:
    _, record = demoted
    citizen = make_user()
    petition = _file(citizen, record)
    assert (petition.threshold, petition.response_days) == (50, 30)
    assert petition.signature_count == 1
    assert petition.article == "1"
    assert PetitionSignature.objects.filter(petition=petition, signer=citizen).exists()
    entry = LedgerEntry.objects.get(kind="petition.opened")
    assert entry.payload["decision_record"] == record.public_id


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"target": "decision", "decision_id": "DR-doesnotexist"}, "decision"),
        ({"target": "post", "post_id": 987654}, "post"),
        ({"target": "article", "article": "99"}, "article"),
        ({"target": "nonsense"}, "target"),
    ],
)
def test_petition_against_something_missing_is_refused(
    active_charter: Any, make_user: Any, extra: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        petition_file(
            author=make_user(), title="A proper title", text="Some text", **extra
        )
    assert field in info.value.message_dict
    assert not Petition.objects.exists()
    assert not LedgerEntry.objects.filter(kind="petition.opened").exists()


@pytest.mark.parametrize(
    ("title", "text", "field"),
    [
        ("short", "text", "title"),
        ("t" * 121, "text", "title"),
        ("A proper title", "", "text"),
        ("A proper title", "x" * 3001, "text"),
    ],
)
def test_text_over_the_limits_is_refused(
    active_charter: Any, make_user: Any, title: str, text: str, field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        petition_file(
            author=make_user(), target="article", article="1", title=title, text=text
        )
    assert field in info.value.message_dict


def test_signing_twice_counts_once(demoted: Any, make_user: Any) -> None:
    _, record = demoted
    petition = _file(make_user(), record)
    signer = make_user()
    petition_sign(signer=signer, petition_id=petition.pk)
    with pytest.raises(ValidationError, match="already signed"):
        petition_sign(signer=signer, petition_id=petition.pk)
    petition.refresh_from_db()
    assert petition.signature_count == 2
    assert PetitionSignature.objects.filter(petition=petition).count() == 2


def test_database_refuses_a_second_signature(demoted: Any, make_user: Any) -> None:
    _, record = demoted
    author = make_user()
    petition = _file(author, record)
    with pytest.raises(IntegrityError), transaction.atomic():
        PetitionSignature.objects.create(
            petition=petition, signer=author, created_at=timezone.now()
        )


def test_signature_burst_is_rate_limited(active_charter: Any, make_user: Any) -> None:
    signer = make_user()
    petitions = [
        petition_file(
            author=make_user(),
            target="article",
            article="1",
            title=f"Petition number {i}",
            text="text",
        )
        for i in range(SIGN_BURST_LIMIT + 1)
    ]
    for petition in petitions[:SIGN_BURST_LIMIT]:
        petition_sign(signer=signer, petition_id=petition.pk)
    with pytest.raises(SignatureRateLimited, match="wait"):
        petition_sign(signer=signer, petition_id=petitions[-1].pk)
    assert PetitionSignature.objects.filter(signer=signer).count() == SIGN_BURST_LIMIT


def test_threshold_starts_the_clock_and_is_logged_once(
    demoted: Any, make_user: Any
) -> None:
    _, record = demoted
    petition = _lower_threshold(_file(make_user(), record), 3)
    for signer in _signers(make_user, 3):
        petition_sign(signer=signer, petition_id=petition.pk)
    petition.refresh_from_db()
    assert petition.status == "threshold_reached"
    assert petition.deadline_at == petition.threshold_reached_at + timedelta(days=30)
    assert LedgerEntry.objects.filter(kind="petition.threshold_reached").count() == 1
    assert petition.signature_count == 4


def test_missed_deadline_closes_as_overdue_and_logs_once(
    demoted: Any, make_user: Any
) -> None:
    _, record = demoted
    petition = _lower_threshold(_file(make_user(), record), 2)
    petition_sign(signer=make_user(), petition_id=petition.pk)
    later = timezone.now() + timedelta(days=31)
    assert petitions_refresh(now=timezone.now()) == 0
    assert petitions_refresh(now=later) == 1
    assert petitions_refresh(now=later) == 0
    petition.refresh_from_db()
    assert petition.status == "closed_unanswered"
    assert petition_is_overdue(petition)
    assert LedgerEntry.objects.filter(kind="petition.overdue").count() == 1
    assert petition_breach_count() == 1
    assert list(petitions_list(status="overdue")) == [petition]


def test_refused_late_signature_still_logs_the_missed_deadline(
    demoted: Any, make_user: Any
) -> None:
    _, record = demoted
    petition, later = _late_signature_refused(make_user, record)
    # The signature is refused, but the breach it observed is on the record.
    assert petition.status == "closed_unanswered"
    assert petition.overdue_logged_at == later
    assert LedgerEntry.objects.filter(kind="petition.overdue").count() == 1
    assert petitions_refresh(now=later) == 0


def test_signing_after_the_signing_window_expires_the_petition(
    active_charter: Any, make_user: Any
) -> None:
    petition = _article_petition(make_user())
    later = timezone.now() + timedelta(days=91)
    with pytest.raises(ValidationError, match="closed"):
        petition_sign(signer=make_user(), petition_id=petition.pk, now=later)
    petition.refresh_from_db()
    assert petition.status == "expired"
    assert petition.signature_count == 1
    assert LedgerEntry.objects.filter(kind="petition.expired").count() == 1


def test_signature_runs_a_fixed_number_of_queries_and_returns_the_count(
    demoted: Any, make_user: Any, django_assert_num_queries: Any
) -> None:
    _, record = demoted
    petition = _file(make_user(), record)
    signer = make_user()
    # savepoint; the petition, locked; savepoint, signature, release; the
    # count; release. No refresh queries: the locked row shows no deadline due.
    with django_assert_num_queries(7):
        signed = petition_sign(signer=signer, petition_id=petition.pk)
    stored = Petition.objects.get(pk=petition.pk)
    assert signed.signature_count == stored.signature_count == 2
    assert signed.status == stored.status == "open"


def test_signing_a_closed_petition_is_refused(demoted: Any, make_user: Any) -> None:
    _, record = demoted
    petition, _ = _late_signature_refused(make_user, record)
    assert petition.signature_count == 2


def test_unsigned_petition_expires_after_the_signing_window(
    active_charter: Any, make_user: Any
) -> None:
    petition = _article_petition(make_user())
    petitions_refresh(now=timezone.now() + timedelta(days=91))
    petition.refresh_from_db()
    assert petition.status == "expired"
    assert not petition_is_overdue(petition)
    assert LedgerEntry.objects.filter(kind="petition.expired").count() == 1


def test_overturn_restores_the_post_and_notifies_signers(
    demoted: Any, make_user: Any, board_member: Any
) -> None:
    post, record = demoted
    petitioner = make_user()
    petition = _lower_threshold(_file(petitioner, record), 2)
    signer = make_user()
    petition_sign(signer=signer, petition_id=petition.pk)
    answered = petition_answer(
        board_member=board_member,
        petition_id=petition.pk,
        outcome="overturned",
        reasons="Quoting to condemn is not incivility.",
    )
    assert answered.status == "answered"
    assert overrides_active_for(post_ids=[post.pk]) == {post.pk: "restore"}
    entry = LedgerEntry.objects.get(kind="petition.answered")
    assert entry.payload["on_time"] is True
    assert entry.payload["override_entry"] == answered.override.ledger_index
    notified = set(
        Notification.objects.filter(kind="petition").values_list("recipient", flat=True)
    )
    assert notified == {petitioner.pk, signer.pk}


def test_board_member_cannot_answer_their_own_petition(
    demoted: Any, board_member: Any
) -> None:
    _, record = demoted
    petition = _file(board_member, record)
    with pytest.raises(PermissionDenied, match="own petition"):
        petition_answer(
            board_member=board_member,
            petition_id=petition.pk,
            outcome="upheld",
            reasons="r",
        )


def test_citizens_cannot_answer(demoted: Any, make_user: Any) -> None:
    _, record = demoted
    petition = _file(make_user(), record)
    with pytest.raises(PermissionDenied):
        petition_answer(
            board_member=make_user(),
            petition_id=petition.pk,
            outcome="upheld",
            reasons="r",
        )


def test_amendment_answer_links_an_existing_amendment(
    active_charter: Any, make_user: Any, board_member: Any
) -> None:
    petition = petition_file(
        author=make_user(),
        target="article",
        article="1",
        title="Raise the limit",
        text="text",
    )
    with pytest.raises(ValidationError, match="no amendment"):
        petition_answer(
            board_member=board_member,
            petition_id=petition.pk,
            outcome="amendment",
            reasons="r",
            amendment_id=4242,
        )
    with pytest.raises(ValidationError, match="about a post"):
        petition_answer(
            board_member=board_member,
            petition_id=petition.pk,
            outcome="overturned",
            reasons="r",
        )


def test_late_answer_still_counts_as_a_breach(
    demoted: Any, make_user: Any, board_member: Any
) -> None:
    _, record = demoted
    petition = _lower_threshold(_file(make_user(), record), 2)
    petition_sign(signer=make_user(), petition_id=petition.pk)
    later = timezone.now() + timedelta(days=40)
    petition_answer(
        board_member=board_member,
        petition_id=petition.pk,
        outcome="upheld",
        reasons="Sorry for the delay.",
        now=later,
    )
    petition.refresh_from_db()
    assert petition.status == "answered"
    assert petition_is_overdue(petition)
    assert petition_breach_count() == 1
    assert LedgerEntry.objects.get(kind="petition.answered").payload["on_time"] is False

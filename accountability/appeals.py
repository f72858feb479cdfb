"""Appeals (DSA Art. 20 in spirit): the author of a restricted post contests it.

No co-signers are needed. Only a sitting board member answers, with reasons,
and never the machine: there is no code path that decides an appeal without a
person. The deadline is the charter's `petitions.appeal_days` at filing time.
An overturned appeal restores the post through an `ItemOverride`, which is a
ledger entry; filing and answering are ledger entries too.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from charter.selectors import NoActiveCharter, board_member_is, policy_active
from feed.models import Notification

from .casework_models import (
    REASONS_MAX,
    Appeal,
    AppealStatus,
    DecisionRecord,
    OverrideEffect,
)
from .clock import clock_now
from .decisions import override_create
from .services import ledger_append

STATEMENT_MAX = 2000


def _text(value: object, *, field: str, limit: int, what: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ValidationError({field: [f"Write {what}."]})
    if len(text) > limit:
        raise ValidationError(
            {field: [f"Keep {what} to {limit} characters (now {len(text)})."]}
        )
    return text


def appeal_file(
    *,
    appellant: Any,
    public_id: str,
    statement: object,
    now: datetime | None = None,
) -> Appeal:
    """The author of a restricted post appeals its decision record.

    Raises DecisionRecord.DoesNotExist for an unknown id, PermissionDenied
    when the appellant is not the post's author, ValidationError for an empty
    or over-long statement or a second appeal against the same decision.
    """
    text = _text(
        statement, field="statement", limit=STATEMENT_MAX, what="why it is wrong"
    )
    record = DecisionRecord.objects.select_related("post").get(public_id=public_id)
    if record.post is None or record.post.author_id != getattr(appellant, "pk", None):
        raise PermissionDenied(
            "Only the author of the post can appeal this decision; anyone can "
            "petition against it instead."
        )
    now = now or clock_now()
    try:
        days = int(policy_active(at=now)["petitions"]["appeal_days"])
    except NoActiveCharter as exc:
        raise ValidationError(str(exc)) from None
    try:
        with transaction.atomic():
            appeal = Appeal.objects.create(
                decision_record=record,
                appellant=appellant,
                statement=text,
                filed_at=now,
                deadline_at=now + timedelta(days=days),
            )
            ledger_append(
                kind="appeal.filed",
                actor=f"user:{appellant.pk}",
                subject=f"decision:{record.public_id}",
                article=record.ground_article,
                payload={
                    "appeal": appeal.pk,
                    "deadline": appeal.deadline_at.isoformat(),
                },
            )
    except IntegrityError:
        raise ValidationError(
            {"decision": ["You have already appealed this decision."]}
        ) from None
    return appeal


def appeal_answer(
    *,
    board_member: Any,
    appeal_id: int,
    outcome: str,
    reasons: object,
    now: datetime | None = None,
) -> Appeal:
    """A sitting board member upholds or overturns an appeal, with reasons.

    Overturning restores the post (an ItemOverride and its ledger entry). An
    answer after the deadline is accepted — a late answer beats none — but is
    recorded as late. The appellant is notified.
    """
    now = now or clock_now()
    if outcome not in (AppealStatus.UPHELD, AppealStatus.OVERTURNED):
        raise ValidationError(
            {"outcome": ["Choose 'upheld' (the decision stands) or 'overturned'."]}
        )
    text = _text(reasons, field="reasons", limit=REASONS_MAX, what="the reasons")
    if not board_member_is(user=board_member, at=now):
        raise PermissionDenied("Only a sitting board member can answer an appeal.")
    with transaction.atomic():
        appeal = (
            Appeal.objects.select_for_update(of=("self",))
            .select_related("decision_record")
            .get(pk=appeal_id)
        )
        if appeal.appellant_id == board_member.pk:
            raise PermissionDenied("A board member cannot answer their own appeal.")
        if appeal.status != AppealStatus.PENDING:
            raise ValidationError(
                {"appeal": ["This appeal has already been answered."]}
            )
        record = appeal.decision_record
        if outcome == AppealStatus.OVERTURNED:
            if record.post_id is None:
                raise ValidationError(
                    {"outcome": ["The post was deleted; there is nothing to restore."]}
                )
            appeal.override = override_create(
                post_id=record.post_id,
                effect=OverrideEffect.RESTORE,
                reason=text,
                decided_by=board_member,
                article=record.ground_article,
                decision_record=record,
                now=now,
            )
        appeal.status = outcome
        appeal.answered_at = now
        appeal.answered_by = board_member
        appeal.answer_reasons = text
        appeal.save()
        ledger_append(
            kind="appeal.answered",
            actor=f"user:{board_member.pk}",
            subject=f"decision:{record.public_id}",
            article=record.ground_article,
            payload={
                "appeal": appeal.pk,
                "outcome": outcome,
                "reasons": text,
                "on_time": now <= appeal.deadline_at,
                "override_entry": appeal.override.ledger_index
                if appeal.override
                else None,
            },
        )
        Notification.objects.create(
            recipient_id=appeal.appellant_id,
            actor=board_member,
            kind=Notification.Kind.APPEAL,
            post_id=record.post_id,
        )
    return appeal


# --- reads -------------------------------------------------------------------


def appeal_get(*, appeal_id: int) -> Appeal:
    """One appeal with its decision, post and people; raises Appeal.DoesNotExist."""
    return Appeal.objects.select_related(
        "decision_record", "decision_record__post", "appellant", "answered_by"
    ).get(pk=appeal_id)


def appeals_pending(*, now: datetime | None = None) -> QuerySet[Appeal]:
    """Unanswered appeals, soonest deadline first (the board's queue)."""
    return (
        Appeal.objects.filter(status=AppealStatus.PENDING)
        .select_related("decision_record", "appellant")
        .order_by("deadline_at", "id")
    )


def appeal_is_overdue(appeal: Appeal, *, now: datetime | None = None) -> bool:
    """Unanswered past its deadline, or answered after it."""
    now = now or clock_now()
    if appeal.answered_at is not None:
        return appeal.answered_at > appeal.deadline_at
    return now > appeal.deadline_at


def decisions_of_author(*, user: Any) -> list[DecisionRecord]:
    """Decision records on `user`'s posts, newest first, appeals prefetched."""
    return list(
        DecisionRecord.objects.filter(post__author_id=user.pk)
        .select_related("post")
        .prefetch_related("appeals")
        .order_by("-application_date", "-id")
    )


def decision_records_for_posts(
    *, post_ids: list[int]
) -> dict[int, list[DecisionRecord]]:
    """Decision records by post id, newest first, for `_post_decisions.html`."""
    out: dict[int, list[DecisionRecord]] = {}
    for record in (
        DecisionRecord.objects.filter(post_id__in=post_ids)
        .select_related("post")
        .prefetch_related("appeals")
        .order_by("-application_date", "-id")
    ):
        out.setdefault(int(record.post_ref), []).append(record)
    return out

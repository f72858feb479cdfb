"""Petitions: filing, co-signing, the board's answer, and deadlines kept lazily.

States: open → threshold_reached (the answer clock starts) → answered, or
closed_unanswered when the board's deadline passes (shown publicly as overdue,
a breach counted for ever, even if a late answer follows). A petition that
never reaches its threshold expires when signing closes.

No scheduled job is needed: `petitions_refresh` applies the transitions that
time has made due and is called by every page and API view that lists or shows
petitions (and by `manage.py petitions_expire`). Its conditional UPDATEs make
each transition, and its ledger entry, happen exactly once even when many
requests observe the same deadline at the same moment.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet

from charter.models import Amendment, CharterArticle
from charter.selectors import (
    NoActiveCharter,
    board_member_is,
    charter_active,
    policy_active_record,
)
from charter_social import ratelimit
from feed.events import broadcast_after_commit
from feed.models import Notification, Post

from .casework_models import (
    PETITION_TEXT_MAX,
    PETITION_TITLE_MAX,
    PETITION_TITLE_MIN,
    REASONS_MAX,
    DecisionRecord,
    OverrideEffect,
    Petition,
    PetitionOutcome,
    PetitionSignature,
    PetitionStatus,
    PetitionTarget,
)
from .clock import clock_now
from .decisions import override_create
from .services import ledger_append

# How long a petition gathers signatures before it expires unanswered-for.
# The charter sets thresholds and answer deadlines but not this window; 90
# days is a season of public debate (the UK Parliament allows six months).
SIGNING_DAYS = 90
# Signatures one account may attempt per window; more is a burst (HTTP 429).
SIGN_BURST_LIMIT = ratelimit.DEFAULT_RATES["sign_petition"].limit

ANSWERABLE = (
    PetitionStatus.OPEN,
    PetitionStatus.THRESHOLD_REACHED,
    PetitionStatus.CLOSED_UNANSWERED,
)
SIGNABLE = (PetitionStatus.OPEN, PetitionStatus.THRESHOLD_REACHED)


class SignatureRateLimited(Exception):
    """Too many signature attempts from one account in a short time."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Too many signatures in a short time; wait {retry_after} seconds and "
            "try again."
        )
        self.retry_after = retry_after


def petition_group(petition_id: int) -> str:
    """The channel group that hears a petition's live signature count."""
    return f"petition-{petition_id}"


def _broadcast(petition: Petition) -> None:
    """Tell the petition's live page its count and state once committed.

    Best effort, as every live update: a channel layer that is down is logged,
    never turned into an error for a signature already committed.
    """
    broadcast_after_commit(
        petition_group(petition.pk),
        {
            "type": "petition.count",
            "count": petition.signature_count,
            "status": petition.status,
        },
    )


def _clean_text(value: object, *, field: str, low: int, high: int, what: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if len(text) < low:
        raise ValidationError(
            {field: [f"Write {what} of at least {low} characters."]}
            if low > 1
            else {field: [f"Write {what}."]}
        )
    if len(text) > high:
        raise ValidationError(
            {field: [f"Keep {what} to {high} characters (now {len(text)})."]}
        )
    return text


def _threshold_reached(petition: Petition, now: datetime) -> None:
    """Start the answer clock; caller holds the row lock and saves."""
    petition.status = PetitionStatus.THRESHOLD_REACHED
    petition.threshold_reached_at = now
    petition.deadline_at = now + timedelta(days=petition.response_days)
    ledger_append(
        kind="petition.threshold_reached",
        actor="system",
        subject=f"petition:{petition.pk}",
        payload={
            "signatures": petition.signature_count,
            "threshold": petition.threshold,
            "deadline": petition.deadline_at.isoformat(),
        },
    )


def petition_file(
    *,
    author: Any,
    target: str,
    title: object,
    text: object,
    decision_id: str | None = None,
    post_id: int | None = None,
    article: str | None = None,
    now: datetime | None = None,
) -> Petition:
    """Open a petition against a decision record, a post's ranking or an article.

    The author is its first signer. Threshold and answer deadline are copied
    from the charter in force, so a later amendment cannot move them. Raises
    ValidationError naming the field to fix (unknown decision, post or
    article; title or text out of bounds).
    """
    now = now or clock_now()
    if target not in PetitionTarget.values:
        raise ValidationError(
            {"target": ["Petition against a 'decision', a 'post' or an 'article'."]}
        )
    clean_title = _clean_text(
        title,
        field="title",
        low=PETITION_TITLE_MIN,
        high=PETITION_TITLE_MAX,
        what="a title",
    )
    clean_text = _clean_text(
        text, field="text", low=1, high=PETITION_TEXT_MAX, what="what you ask for"
    )
    try:
        version, _, policy = policy_active_record(at=now)
    except NoActiveCharter as exc:
        raise ValidationError(str(exc)) from None
    record = post = None
    clean_article = ""
    if target == PetitionTarget.DECISION:
        record = DecisionRecord.objects.filter(public_id=str(decision_id or "")).first()
        if record is None:
            raise ValidationError(
                {"decision": [f"There is no decision record '{decision_id}'."]}
            )
        post = record.post
        clean_article = record.ground_article
    elif target == PetitionTarget.POST:
        post = Post.objects.filter(pk=post_id).first() if post_id else None
        if post is None:
            raise ValidationError({"post": [f"There is no post {post_id}."]})
    else:
        clean_article = str(article or "").strip()
        charter = charter_active(at=now)
        if not CharterArticle.objects.filter(
            version=charter, number=clean_article
        ).exists():
            raise ValidationError(
                {"article": [f"Charter version {version} has no article '{article}'."]}
            )
    rules = policy["petitions"]
    with transaction.atomic():
        petition = Petition.objects.create(
            author=author,
            target=target,
            decision_record=record,
            post=post,
            article=clean_article,
            title=clean_title,
            text=clean_text,
            charter_version=version,
            threshold=int(rules["response_threshold"]),
            response_days=int(rules["response_days"]),
            signature_count=1,
            created_at=now,
            signing_closes_at=now + timedelta(days=SIGNING_DAYS),
        )
        PetitionSignature.objects.create(
            petition=petition, signer=author, created_at=now
        )
        ledger_append(
            kind="petition.opened",
            actor=f"user:{author.pk}",
            subject=f"petition:{petition.pk}",
            article=clean_article or None,
            payload={
                "title": clean_title,
                "target": target,
                "decision_record": record.public_id if record else None,
                "post": post.pk if post else None,
                "charter_version": version,
                "threshold": petition.threshold,
                "response_days": petition.response_days,
            },
        )
        if petition.signature_count >= petition.threshold:
            _threshold_reached(petition, now)
            petition.save()
    return petition


def _rate_limit(signer_id: int) -> None:
    # The shared limiter counts in the shared cache and fails open when the
    # cache is down: a Redis outage must not stop people petitioning, and the
    # one-signature-per-account constraint still holds in the database.
    decision = ratelimit.hit("sign_petition", str(signer_id))
    if not decision.allowed:
        raise SignatureRateLimited(decision.retry_after)


def petition_sign(
    *, signer: Any, petition_id: int, now: datetime | None = None
) -> Petition:
    """Co-sign a petition: once per account (a database constraint), rate-limited.

    Raises SignatureRateLimited on a burst, Petition.DoesNotExist for an
    unknown petition, ValidationError when already signed or closed. Reaching
    the threshold starts the board's clock. The new count is broadcast to the
    petition's live page after commit.
    """
    _rate_limit(signer.pk)
    now = now or clock_now()
    petition = _signature_add(signer=signer, petition_id=petition_id, now=now)
    if petition is None:
        # A deadline had passed: record that first, in its own transaction
        # (a refused signature must not roll it back), then sign or refuse.
        petitions_refresh(now=now, petition_ids=[petition_id])
        petition = _signature_add(
            signer=signer, petition_id=petition_id, now=now, refreshed=True
        )
    assert petition is not None
    return petition


def _transition_due(petition: Petition, now: datetime) -> bool:
    """Whether `petitions_refresh` has a transition to apply to this petition."""
    if petition.status == PetitionStatus.OPEN:
        return petition.signing_closes_at <= now
    return (
        petition.status == PetitionStatus.THRESHOLD_REACHED
        and petition.deadline_at is not None
        and petition.deadline_at <= now
        and petition.overdue_logged_at is None
    )


def _signature_add(
    *, signer: Any, petition_id: int, now: datetime, refreshed: bool = False
) -> Petition | None:
    """Add the signature under the petition's row lock; None if a deadline is due.

    Reading the deadlines from the locked row spares the two queries a refresh
    costs on every signature, when a transition is almost never due.
    """
    with transaction.atomic():
        petition = Petition.objects.select_for_update().get(pk=petition_id)
        if not refreshed and _transition_due(petition, now):
            return None
        if petition.status not in SIGNABLE:
            raise ValidationError(
                {"petition": ["This petition is closed and takes no more signatures."]}
            )
        try:
            with transaction.atomic():
                PetitionSignature.objects.create(
                    petition=petition, signer=signer, created_at=now
                )
        except IntegrityError:
            raise ValidationError(
                {"petition": ["You have already signed this petition."]}
            ) from None
        Petition.objects.filter(pk=petition.pk).update(
            signature_count=F("signature_count") + 1
        )
        # The row lock held since the SELECT means no one else changed it.
        petition.signature_count += 1
        if (
            petition.status == PetitionStatus.OPEN
            and petition.signature_count >= petition.threshold
        ):
            _threshold_reached(petition, now)
            petition.save(
                update_fields=["status", "threshold_reached_at", "deadline_at"]
            )
        _broadcast(petition)
    return petition


def petitions_refresh(
    *, now: datetime | None = None, petition_ids: list[int] | None = None
) -> int:
    """Apply the transitions time has made due; return how many petitions changed.

    Expired signing windows close open petitions; missed answer deadlines
    close petitions as overdue with a `petition.overdue` ledger entry. Each
    transition is a conditional UPDATE, so concurrent callers log it once.
    """
    now = now or clock_now()
    scope = Petition.objects.all()
    if petition_ids is not None:
        scope = scope.filter(pk__in=petition_ids)
    changed = 0
    overdue_ids = list(
        scope.filter(
            status=PetitionStatus.THRESHOLD_REACHED,
            deadline_at__lte=now,
            overdue_logged_at__isnull=True,
        ).values_list("pk", flat=True)
    )
    for pk in overdue_ids:
        with transaction.atomic():
            won = Petition.objects.filter(
                pk=pk,
                status=PetitionStatus.THRESHOLD_REACHED,
                overdue_logged_at__isnull=True,
            ).update(status=PetitionStatus.CLOSED_UNANSWERED, overdue_logged_at=now)
            if won:
                petition = Petition.objects.only("deadline_at", "signature_count").get(
                    pk=pk
                )
                ledger_append(
                    kind="petition.overdue",
                    actor="system",
                    subject=f"petition:{pk}",
                    payload={
                        "deadline": petition.deadline_at.isoformat()
                        if petition.deadline_at
                        else None,
                        "observed": now.isoformat(),
                        "signatures": petition.signature_count,
                    },
                )
                changed += 1
    expired_ids = list(
        scope.filter(
            status=PetitionStatus.OPEN, signing_closes_at__lte=now
        ).values_list("pk", flat=True)
    )
    for pk in expired_ids:
        with transaction.atomic():
            if Petition.objects.filter(pk=pk, status=PetitionStatus.OPEN).update(
                status=PetitionStatus.EXPIRED
            ):
                ledger_append(
                    kind="petition.expired",
                    actor="system",
                    subject=f"petition:{pk}",
                    payload={"closed": now.isoformat()},
                )
                changed += 1
    return changed


def petition_answer(
    *,
    board_member: Any,
    petition_id: int,
    outcome: str,
    reasons: object,
    amendment_id: int | None = None,
    now: datetime | None = None,
) -> Petition:
    """A sitting board member answers a petition with reasons; signers are notified.

    'overturned' restores the post the petition is about (an ItemOverride in
    the ledger); 'amendment' links the amendment the board proposed; 'upheld'
    keeps the decision. A late answer is accepted but stays a breach. Raises
    PermissionDenied for non-members and for the petition's own author.
    """
    now = now or clock_now()
    if outcome not in PetitionOutcome.values:
        raise ValidationError(
            {"outcome": ["Choose 'upheld', 'overturned' or 'amendment'."]}
        )
    text = _clean_text(
        reasons, field="reasons", low=1, high=REASONS_MAX, what="reasons"
    )
    if not board_member_is(user=board_member, at=now):
        raise PermissionDenied("Only a sitting board member can answer a petition.")
    petitions_refresh(now=now, petition_ids=[petition_id])
    with transaction.atomic():
        petition = (
            Petition.objects.select_for_update(of=("self",))
            .select_related("decision_record")
            .get(pk=petition_id)
        )
        if petition.author_id == board_member.pk:
            raise PermissionDenied("A board member cannot answer their own petition.")
        if petition.status not in ANSWERABLE:
            raise ValidationError(
                {"petition": ["This petition is already answered or closed."]}
            )
        amendment = None
        if outcome == PetitionOutcome.AMENDMENT:
            amendment = (
                Amendment.objects.filter(pk=amendment_id).first()
                if amendment_id is not None
                else None
            )
            if amendment is None:
                raise ValidationError(
                    {"amendment": [f"There is no amendment #{amendment_id} to link."]}
                )
        if outcome == PetitionOutcome.OVERTURNED:
            if petition.post_id is None:
                raise ValidationError(
                    {
                        "outcome": [
                            "Only a petition about a post can be overturned; "
                            "propose an amendment to change an article."
                        ]
                    }
                )
            petition.override = override_create(
                post_id=petition.post_id,
                effect=OverrideEffect.RESTORE,
                reason=text,
                decided_by=board_member,
                article=petition.article,
                decision_record=petition.decision_record,
                now=now,
            )
        on_time = petition.deadline_at is None or now <= petition.deadline_at
        petition.status = PetitionStatus.ANSWERED
        petition.outcome = outcome
        petition.answered_at = now
        petition.answered_by = board_member
        petition.answer_reasons = text
        petition.amendment = amendment
        petition.save()
        ledger_append(
            kind="petition.answered",
            actor=f"user:{board_member.pk}",
            subject=f"petition:{petition.pk}",
            article=petition.article or None,
            payload={
                "outcome": outcome,
                "reasons": text,
                "on_time": on_time,
                "amendment": amendment.pk if amendment else None,
                "override_entry": petition.override.ledger_index
                if petition.override
                else None,
            },
        )
        signer_ids = PetitionSignature.objects.filter(petition=petition).values_list(
            "signer_id", flat=True
        )
        Notification.objects.bulk_create(
            Notification(
                recipient_id=signer_id,
                actor=board_member,
                kind=Notification.Kind.PETITION,
                post_id=petition.post_id,
            )
            for signer_id in signer_ids
            if signer_id != board_member.pk
        )
        _broadcast(petition)
    return petition


# --- reads -------------------------------------------------------------------


def petition_is_overdue(petition: Petition) -> bool:
    """Whether the board missed this petition's deadline (answered late or never)."""
    if petition.overdue_logged_at is not None:
        return True
    return bool(
        petition.answered_at
        and petition.deadline_at
        and petition.answered_at > petition.deadline_at
    )


def petitions_list(
    *, status: str | None = None, target: str | None = None
) -> QuerySet[Petition]:
    """Petitions newest first, optionally filtered; 'overdue' is a status filter too."""
    qs = Petition.objects.select_related("author", "decision_record")
    if status == "overdue":
        qs = qs.filter(_breach_q())
    elif status:
        qs = qs.filter(status=status)
    if target:
        qs = qs.filter(target=target)
    return qs.order_by("-created_at", "-id")


def _breach_q() -> Q:
    return Q(overdue_logged_at__isnull=False) | Q(answered_at__gt=F("deadline_at"))


def petition_breach_count() -> int:
    """Running count of petitions the board answered late or not at all."""
    return Petition.objects.filter(_breach_q()).count()


def petition_get(*, petition_id: int) -> Petition:
    """One petition with everything its page shows; raises Petition.DoesNotExist."""
    return Petition.objects.select_related(
        "author", "decision_record", "post", "answered_by", "amendment", "override"
    ).get(pk=petition_id)


def petition_signed_by(*, petition: Petition, user: Any) -> bool:
    """Whether `user` has signed `petition`."""
    if not getattr(user, "is_authenticated", False):
        return False
    return PetitionSignature.objects.filter(
        petition=petition, signer_id=user.pk
    ).exists()


def petitions_awaiting_answer() -> QuerySet[Petition]:
    """Petitions past their threshold and unanswered, soonest deadline first."""
    return (
        Petition.objects.filter(
            status__in=[
                PetitionStatus.THRESHOLD_REACHED,
                PetitionStatus.CLOSED_UNANSWERED,
            ]
        )
        .select_related("author")
        .order_by("deadline_at", "id")
    )

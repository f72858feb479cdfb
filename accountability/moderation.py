"""The moderation queue: moderators uphold or dismiss citizens' reports, in public.

Upholding demotes or labels the post under a named charter article and
produces a decision record (source "moderation") the author can appeal; a
demotion is also an ItemOverride so the ranker applies it. The report's
status becomes upheld or dismissed, which is what the incivility model's
refit reads as its training labels (ranking.selectors.incivility_moderation_texts).
Every action is a `moderation.action` ledger entry. The public log names the
moderator and the article, never the reporter.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet

from charter.models import CharterArticle
from charter.selectors import NoActiveCharter, charter_active, policy_active_record
from feed.models import Report

from .casework_models import (
    REASONS_MAX,
    DecisionSource,
    DecisionVisibility,
    ModerationAction,
    ModerationOutcome,
    OverrideEffect,
)
from .clock import clock_now
from .decisions import decision_record_ensure, override_create
from .services import ledger_append


def moderation_decide(
    *,
    moderator: Any,
    report_id: int,
    outcome: str,
    reasons: object,
    article: str = "",
    now: datetime | None = None,
) -> ModerationAction:
    """Uphold (demote or label under `article`) or dismiss one open report.

    Raises PermissionDenied for anyone but a moderator, Report.DoesNotExist
    for an unknown report, ValidationError for a decided report, a missing or
    unknown article on an upheld report, or missing reasons.
    """
    if not getattr(moderator, "is_moderator", False):
        raise PermissionDenied("Only moderators can decide reports.")
    if outcome not in ModerationOutcome.values:
        raise ValidationError({"outcome": ["Choose 'demote', 'label' or 'dismiss'."]})
    text = reasons.strip() if isinstance(reasons, str) else ""
    if not text:
        raise ValidationError({"reasons": ["Give the reasons for the decision."]})
    if len(text) > REASONS_MAX:
        raise ValidationError(
            {"reasons": [f"Keep the reasons to {REASONS_MAX} characters."]}
        )
    now = now or clock_now()
    upheld = outcome != ModerationOutcome.DISMISS
    article = str(article or "").strip()
    try:
        version, policy_sha, _ = policy_active_record(at=now)
    except NoActiveCharter as exc:
        raise ValidationError(str(exc)) from None
    if (
        upheld
        and not CharterArticle.objects.filter(
            version=charter_active(at=now), number=article
        ).exists()
    ):
        raise ValidationError(
            {
                "article": [
                    f"Name an article of charter version {version} to uphold under."
                ]
            }
        )
    with transaction.atomic():
        report = (
            Report.objects.select_for_update(of=("self",))
            .select_related("post")
            .get(pk=report_id)
        )
        if report.status != Report.Status.OPEN:
            raise ValidationError({"report": ["This report has already been decided."]})
        record = None
        if upheld:
            signals: dict[str, float] = {}
            post_signals = getattr(report.post, "signals", None)
            if post_signals is not None:
                signals = post_signals.values
            record = decision_record_ensure(
                post_id=report.post_id,
                rule={"kind": "moderation", "effect": outcome, "report": report.pk},
                article=article,
                signal_values=signals,
                policy_version=version,
                policy_sha256=policy_sha,
                model_versions={},
                source=DecisionSource.MODERATION,
                moderator=moderator,
                facts=text,
                visibility=DecisionVisibility.DEMOTED
                if outcome == ModerationOutcome.DEMOTE
                else DecisionVisibility.LABELLED,
                now=now,
            )
            if outcome == ModerationOutcome.DEMOTE:
                override_create(
                    post_id=report.post_id,
                    effect=OverrideEffect.DEMOTE,
                    reason=text,
                    decided_by=moderator,
                    article=article,
                    decision_record=record,
                    now=now,
                )
        report.status = Report.Status.UPHELD if upheld else Report.Status.DISMISSED
        report.save(update_fields=["status"])
        entry = ledger_append(
            kind="moderation.action",
            actor=f"user:{moderator.pk}",
            subject=f"post:{report.post_id}",
            article=article or None,
            # The reporter is never named: only the reason they gave.
            payload={
                "outcome": outcome,
                "reasons": text,
                "report_reason": report.reason,
                "decision_record": record.public_id if record else None,
            },
        )
        return ModerationAction.objects.create(
            report=report,
            post_id=report.post_id,
            moderator=moderator,
            outcome=outcome,
            article=article if upheld else "",
            reasons=text,
            decision_record=record,
            ledger_index=entry.index,
            created_at=now,
        )


def moderation_queue() -> QuerySet[Report]:
    """Open reports, oldest first, with the post and its author joined."""
    return (
        Report.objects.filter(status=Report.Status.OPEN)
        .select_related("post", "post__author")
        .order_by("created_at", "id")
    )


def moderation_log(*, limit: int = 200) -> QuerySet[ModerationAction]:
    """Public log of moderation actions, newest first; carries no reporter."""
    return ModerationAction.objects.select_related(
        "moderator", "decision_record"
    ).order_by("-created_at", "-id")[:limit]

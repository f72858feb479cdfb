"""Casework: decision records, item overrides, appeals, petitions, moderation, exposure.

These models sit beside the ledger (accountability/models.py imports them so
Django registers them in this app) but, unlike the ledger, reference feed and
charter rows: they are layer 4 of the design map, the ledger is layer 1.

Every uniqueness rule is a database constraint: one decision record per
(post, rule, policy version, model versions), one signature per account per
petition, one appeal per decision record, one active override per post.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

PETITION_TITLE_MIN = 10
PETITION_TITLE_MAX = 120
PETITION_TEXT_MAX = 3000
REASONS_MAX = 3000


def decision_public_id() -> str:
    """A fresh, never-reused public id such as 'DR-3f2a…' (uuid4: 122 random bits)."""
    return "DR-" + uuid.uuid4().hex


class DecisionVisibility(models.TextChoices):
    # The two visibility restrictions of the DSA transparency database that a
    # ranking or moderation decision here can produce.
    DEMOTED = "DEMOTED", "Demoted"
    LABELLED = "LABELLED", "Labelled"


class DecisionSource(models.TextChoices):
    RANKER = "ranker", "The ranker, applying a charter rule"
    MODERATION = "moderation", "A moderator, after a report"


class DecisionRecord(models.Model):
    """A statement of reasons for one restriction of one post, replayable.

    Shaped like a DSA transparency database statement of reasons (visibility
    decision, ground, facts, automation flags, content and application dates)
    plus the exact inputs — signal values, policy version and hash, model
    versions, rule — from which the ranker's decision can be recomputed.
    """

    public_id = models.CharField(
        max_length=40, unique=True, default=decision_public_id, editable=False
    )
    # The post may be deleted later; the record stays, with its id and hash.
    post = models.ForeignKey(
        "feed.Post",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="decision_records",
    )
    post_ref = models.BigIntegerField(db_index=True)
    content_sha256 = models.CharField(max_length=64)
    decision_visibility = models.CharField(
        max_length=10, choices=DecisionVisibility.choices
    )
    ground_article = models.CharField(max_length=8)
    facts = models.TextField()
    automated_detection = models.BooleanField()
    automated_decision = models.BooleanField()
    content_date = models.DateTimeField()
    application_date = models.DateTimeField(db_index=True)
    signal_values = models.JSONField(default=dict)
    policy_version = models.PositiveIntegerField()
    policy_sha256 = models.CharField(max_length=64)
    model_versions = models.JSONField(default=dict)
    rule = models.JSONField()
    # SHA-256 of the canonical JSON of (rule, model versions, source): JSON
    # columns cannot sit in a portable unique constraint, their hash can.
    inputs_key = models.CharField(max_length=64)
    source = models.CharField(max_length=12, choices=DecisionSource.choices)
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-application_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["post_ref", "policy_version", "inputs_key"],
                name="decision_record_once",
            ),
            models.CheckConstraint(
                condition=Q(decision_visibility__in=DecisionVisibility.values),
                name="decision_visibility_valid",
            ),
            models.CheckConstraint(
                condition=Q(source__in=DecisionSource.values),
                name="decision_source_valid",
            ),
            # Only a person acting in the moderation queue decides by hand.
            models.CheckConstraint(
                condition=Q(source="ranker") | Q(moderator__isnull=False),
                name="decision_moderation_has_moderator",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} (Article {self.ground_article})"


class OverrideEffect(models.TextChoices):
    RESTORE = "restore", "Restored: the demotion no longer applies"
    DEMOTE = "demote", "Demoted by hand"


class ItemOverride(models.Model):
    """A by-hand change to one post's ranking, always backed by a ledger entry."""

    post = models.ForeignKey(
        "feed.Post", on_delete=models.CASCADE, related_name="overrides"
    )
    effect = models.CharField(max_length=10, choices=OverrideEffect.choices)
    reason = models.TextField()
    article = models.CharField(max_length=8, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decision_record = models.ForeignKey(
        DecisionRecord,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="overrides",
    )
    ledger_index = models.BigIntegerField()
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["post"],
                condition=Q(revoked_at__isnull=True),
                name="override_one_active_per_post",
            ),
            models.CheckConstraint(
                condition=Q(effect__in=OverrideEffect.values),
                name="override_effect_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"override {self.effect} of post {self.post_id}"


class AppealStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the board"
    UPHELD = "upheld", "Decision upheld"
    OVERTURNED = "overturned", "Decision overturned"


class Appeal(models.Model):
    """An author's complaint against a decision on their own post (DSA Art. 20)."""

    decision_record = models.ForeignKey(
        DecisionRecord, on_delete=models.PROTECT, related_name="appeals"
    )
    appellant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="appeals"
    )
    statement = models.TextField()
    status = models.CharField(
        max_length=12, choices=AppealStatus.choices, default=AppealStatus.PENDING
    )
    filed_at = models.DateTimeField()
    deadline_at = models.DateTimeField(db_index=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answer_reasons = models.TextField(blank=True)
    override = models.ForeignKey(
        ItemOverride, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["deadline_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["decision_record"], name="appeal_once_per_decision"
            ),
            models.CheckConstraint(
                condition=Q(status__in=AppealStatus.values), name="appeal_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(answered_by__isnull=False),
                name="appeal_answer_has_person",
            ),
        ]

    def __str__(self) -> str:
        return f"appeal #{self.pk} against {self.decision_record_id}"


class PetitionTarget(models.TextChoices):
    DECISION = "decision", "A ranking decision"
    POST = "post", "A post's ranking"
    ARTICLE = "article", "A charter article"


class PetitionStatus(models.TextChoices):
    OPEN = "open", "Gathering signatures"
    THRESHOLD_REACHED = "threshold_reached", "Waiting for the board's answer"
    ANSWERED = "answered", "Answered"
    CLOSED_UNANSWERED = "closed_unanswered", "Overdue: the board did not answer"
    EXPIRED = "expired", "Closed without reaching the threshold"


class PetitionOutcome(models.TextChoices):
    UPHELD = "upheld", "Decision upheld"
    OVERTURNED = "overturned", "Overturned: the item's ranking is restored"
    AMENDMENT = "amendment", "Amendment proposed"


class Petition(models.Model):
    """A citizens' petition; its threshold and deadline come from the charter."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="petitions"
    )
    target = models.CharField(max_length=10, choices=PetitionTarget.choices)
    decision_record = models.ForeignKey(
        DecisionRecord,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="petitions",
    )
    post = models.ForeignKey(
        "feed.Post",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="petitions",
    )
    article = models.CharField(max_length=8, blank=True)
    title = models.CharField(max_length=PETITION_TITLE_MAX)
    text = models.TextField()
    status = models.CharField(
        max_length=20, choices=PetitionStatus.choices, default=PetitionStatus.OPEN
    )
    # Snapshots of the charter at filing, so a later amendment cannot move the
    # goalposts of a petition already under way.
    charter_version = models.PositiveIntegerField()
    threshold = models.PositiveIntegerField()
    response_days = models.PositiveIntegerField()
    signature_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(db_index=True)
    signing_closes_at = models.DateTimeField()
    threshold_reached_at = models.DateTimeField(null=True, blank=True)
    deadline_at = models.DateTimeField(null=True, blank=True, db_index=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    outcome = models.CharField(
        max_length=12, choices=PetitionOutcome.choices, blank=True
    )
    answer_reasons = models.TextField(blank=True)
    amendment = models.ForeignKey(
        "charter.Amendment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="petitions",
    )
    override = models.ForeignKey(
        ItemOverride, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Set once, by the first request that observes the missed deadline; the
    # conditional update on it makes the overdue ledger entry exactly-once.
    overdue_logged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=PetitionStatus.values),
                name="petition_status_valid",
            ),
            models.CheckConstraint(
                # A post target keeps its row (post null) if the post is deleted.
                condition=Q(target="decision", decision_record__isnull=False)
                | Q(target="post")
                | Q(target="article", article__gt=""),
                name="petition_target_present",
            ),
            models.CheckConstraint(
                condition=~Q(status="answered") | Q(answered_by__isnull=False),
                name="petition_answer_has_person",
            ),
        ]

    def __str__(self) -> str:
        return f"petition #{self.pk}: {self.title}"


class PetitionSignature(models.Model):
    petition = models.ForeignKey(
        Petition, on_delete=models.CASCADE, related_name="signatures"
    )
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="petition_signatures",
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "signer"], name="petition_signature_once"
            ),
        ]

    def __str__(self) -> str:
        return f"signature of {self.signer_id} on petition {self.petition_id}"


class ModerationOutcome(models.TextChoices):
    DEMOTE = "demote", "Upheld: demoted"
    LABEL = "label", "Upheld: labelled"
    DISMISS = "dismiss", "Dismissed"


class ModerationAction(models.Model):
    """A moderator's decision on a report. Public, but never names the reporter."""

    report = models.OneToOneField(
        "feed.Report", on_delete=models.SET_NULL, null=True, related_name="action"
    )
    post = models.ForeignKey(
        "feed.Post", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(max_length=10, choices=ModerationOutcome.choices)
    article = models.CharField(max_length=8, blank=True)
    reasons = models.TextField()
    decision_record = models.ForeignKey(
        DecisionRecord,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    ledger_index = models.BigIntegerField()
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome="dismiss") | Q(article__gt=""),
                name="moderation_upheld_cites_article",
            ),
        ]

    def __str__(self) -> str:
        return f"moderation {self.outcome} of post {self.post_id}"


class FeedExposureDay(models.Model):
    """What ranked feeds served on one day, as sums only: no viewer is stored."""

    day = models.DateField(unique=True)
    pages = models.PositiveBigIntegerField(default=0)
    items = models.PositiveBigIntegerField(default=0)
    incivility_sum = models.FloatField(default=0.0)
    incivility_n = models.PositiveBigIntegerField(default=0)
    cross_cutting_n = models.PositiveBigIntegerField(default=0)
    cross_cutting_yes = models.PositiveBigIntegerField(default=0)
    bridging_sum = models.FloatField(default=0.0)
    bridging_n = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"exposure on {self.day}"


class FeedExposureAuthorDay(models.Model):
    """Items served per author per day, for author concentration (Gini)."""

    day = models.DateField()
    author_id = models.BigIntegerField()
    items = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "author_id"], name="exposure_author_day_once"
            ),
        ]

    def __str__(self) -> str:
        return f"author {self.author_id} on {self.day}"

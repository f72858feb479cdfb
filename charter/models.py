"""Charter versions, the oversight board, amendments, comments and votes.

An adopted charter version is immutable: the model refuses to save an existing
row or delete one, its queryset refuses bulk update/delete, and the database
refuses UPDATE through a trigger (migration 0002). New versions come only from
`charter.services` (genesis once, then adoption of an amendment).
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


class ImmutableError(ValidationError):
    """Raised on any attempt to change or delete an adopted charter version."""


def _refuse(what: str) -> NoReturn:
    raise ImmutableError(
        f"{what}: adopted charter versions are immutable; propose an amendment instead."
    )


class ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        _refuse("update")

    def delete(self) -> NoReturn:
        _refuse("delete")


class ImmutableModel(models.Model):
    objects = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Written once, by the service that adopts the version; never again.
        if not self._state.adding:
            _refuse("save")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("delete")


class CharterVersion(ImmutableModel):
    """One adopted version of the charter: prose articles plus a validated policy."""

    number = models.PositiveIntegerField(unique=True)
    title = models.CharField(max_length=200)
    preamble = models.TextField(blank=True)
    policy = models.JSONField()
    policy_sha256 = models.CharField(max_length=64)
    summary = models.CharField(max_length=200, help_text="What this version changed.")
    adopted_at = models.DateTimeField()
    effective_at = models.DateTimeField(db_index=True)
    # Null only for the genesis version, which no amendment produced.
    amendment = models.OneToOneField(
        "charter.Amendment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="adopted_version",
    )

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(number__gte=1), name="charter_version_number_gte_1"
            ),
            models.CheckConstraint(
                condition=Q(effective_at__gte=models.F("adopted_at")),
                name="charter_version_effective_after_adoption",
            ),
            models.CheckConstraint(
                condition=Q(number=1) | Q(amendment__isnull=False),
                name="charter_version_from_amendment_unless_genesis",
            ),
        ]

    def __str__(self) -> str:
        return f"Charter v{self.number}"


class CharterArticle(ImmutableModel):
    version = models.ForeignKey(
        CharterVersion, on_delete=models.PROTECT, related_name="articles"
    )
    position = models.PositiveSmallIntegerField()
    number = models.CharField(max_length=8)
    title = models.CharField(max_length=200)
    body = models.TextField()

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "number"], name="charter_article_number_once"
            ),
            models.UniqueConstraint(
                fields=["version", "position"], name="charter_article_position_once"
            ),
        ]

    def __str__(self) -> str:
        return f"Article {self.number}. {self.title}"


class BoardMembership(models.Model):
    """A term on the oversight board, granted by an administrator and public."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="board_terms"
    )
    starts_at = models.DateTimeField()
    # Null means the term has no end date yet.
    ends_at = models.DateTimeField(null=True, blank=True)
    role = models.CharField(
        max_length=100, blank=True, help_text="e.g. 'chair', 'citizen seat'"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True)
                | Q(ends_at__gt=models.F("starts_at")),
                name="board_term_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} on the board from {self.starts_at:%Y-%m-%d}"


class AmendmentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    DELIBERATION = "deliberation", "Open for deliberation"
    VOTING = "voting", "Voting"
    ADOPTED = "adopted", "Adopted"
    REJECTED = "rejected", "Rejected"


class Amendment(models.Model):
    """A proposed next version: the full prose and policy, with the reasons."""

    base_version = models.ForeignKey(
        CharterVersion, on_delete=models.PROTECT, related_name="amendments"
    )
    proposer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="amendments_proposed",
    )
    title = models.CharField(max_length=200)
    rationale = models.TextField()
    text_title = models.CharField(max_length=200)
    preamble = models.TextField(blank=True)
    # [{"number", "title", "body"}], validated by charter.text.charter_text_clean.
    articles = models.JSONField()
    policy = models.JSONField()
    policy_sha256 = models.CharField(max_length=64)
    # Requested effective time; null means "as soon as adopted".
    effective_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=AmendmentStatus.choices, default=AmendmentStatus.DRAFT
    )
    created_at = models.DateTimeField(auto_now_add=True)
    deliberation_opened_at = models.DateTimeField(null=True, blank=True)
    voting_opened_at = models.DateTimeField(null=True, blank=True)
    voting_closes_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    yes_count = models.PositiveIntegerField(default=0)
    no_count = models.PositiveIntegerField(default=0)
    abstain_count = models.PositiveIntegerField(default=0)
    electorate = models.PositiveIntegerField(default=0)
    outcome = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=AmendmentStatus.values),
                name="amendment_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status=AmendmentStatus.VOTING)
                | Q(voting_closes_at__isnull=False),
                name="amendment_voting_has_window",
            ),
        ]

    def __str__(self) -> str:
        return f"Amendment #{self.pk}: {self.title}"

    @property
    def is_closed(self) -> bool:
        return self.status in {AmendmentStatus.ADOPTED, AmendmentStatus.REJECTED}


class AmendmentComment(models.Model):
    amendment = models.ForeignKey(
        Amendment, on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="amendment_comments",
    )
    body = models.TextField(max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Comment by {self.author_id} on amendment #{self.amendment_id}"


class VoteChoice(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    ABSTAIN = "abstain", "Abstain"


class Vote(models.Model):
    """One board member's ballot on one amendment; changeable while voting is open."""

    amendment = models.ForeignKey(
        Amendment, on_delete=models.PROTECT, related_name="votes"
    )
    voter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="amendment_votes",
    )
    choice = models.CharField(max_length=8, choices=VoteChoice.choices)
    cast_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["cast_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["amendment", "voter"], name="one_vote_per_member"
            ),
            models.CheckConstraint(
                condition=Q(choice__in=VoteChoice.values), name="vote_choice_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.voter_id} votes {self.choice} on amendment #{self.amendment_id}"

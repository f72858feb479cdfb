"""Models of the ranking app: versioned model artefacts and per-post signals.

A `ModelArtefact` is immutable once stored: the services create it and only
ever flip its activation fields, and a database trigger (ranking/db_triggers.py)
refuses any other change. Its blob's SHA-256 is checked again before every
activation and every load, so a row altered by someone able to drop the
trigger is refused rather than served.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class ModelArtefact(models.Model):
    class Format(models.TextChoices):
        SKOPS = "skops", "scikit-learn estimator (skops)"
        NPZ = "npz", "numeric arrays (numpy .npz, no pickle)"

    # "incivility", "bridging", "consensus", ...
    name = models.CharField(max_length=40)
    # Sequential per name, starting at 1; assigned by model_artefact_create.
    version = models.PositiveIntegerField()
    format = models.CharField(max_length=10, choices=Format.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    training_data_sha256 = models.CharField(max_length=64)
    parameters = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    blob = models.BinaryField()
    blob_sha256 = models.CharField(max_length=64)
    # The ranker uses the one active version per name; activated_at records
    # when it (last) became active, for the public record.
    is_active = models.BooleanField(default=False)
    activated_at = models.DateTimeField(null=True, blank=True)
    activated_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "version"], name="artefact_version_once"
            ),
            models.UniqueConstraint(
                fields=["name"], condition=Q(is_active=True), name="artefact_one_active"
            ),
            models.CheckConstraint(
                condition=Q(version__gte=1), name="artefact_version_positive"
            ),
            models.CheckConstraint(
                condition=~Q(name=""), name="artefact_name_not_empty"
            ),
            models.CheckConstraint(
                condition=Q(format__in=["skops", "npz"]), name="artefact_format_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class PostSignals(models.Model):
    """Viewer-independent signal values of a post, with the model versions behind them.

    One column per signal (plus its model version) rather than a JSON blob, so
    the ranker can filter and the signal writers can upsert one signal without
    touching the others.
    """

    post = models.OneToOneField(
        "feed.Post", on_delete=models.CASCADE, primary_key=True, related_name="signals"
    )
    incivility = models.FloatField(null=True, blank=True)
    incivility_version = models.PositiveIntegerField(null=True, blank=True)
    bridging = models.FloatField(null=True, blank=True)
    bridging_version = models.PositiveIntegerField(null=True, blank=True)
    consensus = models.FloatField(null=True, blank=True)
    consensus_version = models.PositiveIntegerField(null=True, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "post signals"
        constraints = [
            models.CheckConstraint(
                condition=Q(incivility__isnull=True)
                | (Q(incivility__gte=0.0) & Q(incivility__lte=1.0)),
                name="signals_incivility_range",
            ),
            models.CheckConstraint(
                condition=Q(consensus__isnull=True)
                | (Q(consensus__gte=0.0) & Q(consensus__lte=1.0)),
                name="signals_consensus_range",
            ),
            # A value without the model version that produced it cannot be replayed.
            models.CheckConstraint(
                condition=Q(incivility__isnull=True)
                | Q(incivility_version__isnull=False),
                name="signals_incivility_versioned",
            ),
            models.CheckConstraint(
                condition=Q(bridging__isnull=True) | Q(bridging_version__isnull=False),
                name="signals_bridging_versioned",
            ),
            models.CheckConstraint(
                condition=Q(consensus__isnull=True)
                | Q(consensus_version__isnull=False),
                name="signals_consensus_versioned",
            ),
        ]
        indexes = [
            models.Index(fields=["incivility_version"], name="signals_incivility_ver"),
            # The feed's "from outside your circle" candidates: best bridging first.
            models.Index(fields=["-bridging"], name="signals_bridging_desc"),
        ]

    def __str__(self) -> str:
        return f"signals of post {self.post_id}"

    @property
    def values(self) -> dict[str, float]:
        """The signals that have a value, by name."""
        found = {
            "incivility": self.incivility,
            "bridging": self.bridging,
            "consensus": self.consensus,
        }
        return {name: value for name, value in found.items() if value is not None}

    @property
    def model_versions(self) -> dict[str, int]:
        """The model version behind each stored signal, by name."""
        found = {
            "incivility": self.incivility_version,
            "bridging": self.bridging_version,
            "consensus": self.consensus_version,
        }
        return {name: version for name, version in found.items() if version is not None}


class FeedMode(models.TextChoices):
    RANKED = "ranked", "Ranked by the charter"
    CHRONOLOGICAL = "chronological", "Newest first (no profiling)"
    TUNED = "tuned", "Ranked by the charter, tuned by me"


class FeedPreference(models.Model):
    """Which feed a person chose, and their slider settings for the tuned feed.

    Multipliers are validated against the charter's `user_controls` when set
    and clamped again at ranking time, because a later charter may narrow the
    bounds.
    """

    user = models.OneToOneField(
        "feed.User",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="feed_preference",
    )
    mode = models.CharField(
        max_length=20, choices=FeedMode.choices, default=FeedMode.RANKED
    )
    # {"bridging": 1.5, ...}: only signals the charter lets people tune.
    multipliers = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(mode__in=["ranked", "chronological", "tuned"]),
                name="feedpref_mode_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"feed preference of user {self.user_id}: {self.mode}"


class ItemFeedback(models.Model):
    """A person's explicit "show more / less like this" on one post (affinity)."""

    user = models.ForeignKey(
        "feed.User", on_delete=models.CASCADE, related_name="item_feedback"
    )
    post = models.ForeignKey(
        "feed.Post", on_delete=models.CASCADE, related_name="viewer_feedback"
    )
    # True: show more like this; False: show less like this.
    more = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "post"], name="feedback_once"),
        ]
        indexes = [
            models.Index(fields=["user", "-updated_at"], name="feedback_user_recent"),
        ]

    def __str__(self) -> str:
        wish = "more" if self.more else "less"
        return f"user {self.user_id}: {wish} like post {self.post_id}"

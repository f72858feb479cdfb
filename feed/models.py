"""Accounts and the social core: posts, replies, follows, reactions, reports.

Every uniqueness rule lives in the database (Meta.constraints) so that two
concurrent requests can never both succeed where only one may.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

POST_MAX_LENGTH = 500


class User(AbstractUser):
    display_name = models.CharField(max_length=50, blank=True)
    bio = models.CharField(max_length=300, blank=True)
    # Granted by administrators; moderators work through reports.
    is_moderator = models.BooleanField(default=False)

    class Meta:
        ordering = ["username"]
        constraints = [
            # Mentions and profile URLs match usernames case-insensitively, so
            # "Alice" and "alice" must never both exist.
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
        ]

    @property
    def name(self) -> str:
        return self.display_name or self.username


class Post(models.Model):
    author = models.ForeignKey(User, on_delete=models.CASCADE, related_name="posts")
    body = models.CharField(max_length=POST_MAX_LENGTH)
    # A reply points at the post it answers and at its thread's first post;
    # deleting a post keeps others' replies, detached.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    root = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="thread_posts",
    )
    created_at = models.DateTimeField(db_index=True)
    # Denormalised counters, kept in step by the services with F() updates.
    like_count = models.PositiveIntegerField(default=0)
    reply_count = models.PositiveIntegerField(default=0)
    helpful_count = models.PositiveIntegerField(default=0)
    unhelpful_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["author", "-created_at", "-id"], name="post_author_time"
            ),
            models.Index(fields=["-created_at", "-id"], name="post_time"),
            models.Index(fields=["root", "created_at", "id"], name="post_thread"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(body=""), name="post_body_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.author_id}: {self.body[:40]}"

    @property
    def is_reply(self) -> bool:
        return self.parent_id is not None


class Follow(models.Model):
    follower = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="following_set"
    )
    followee = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="follower_set"
    )
    # Explicit priority a citizen gives a followed account (ranking's affinity).
    priority = models.SmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["follower", "followee"], name="follow_once"
            ),
            models.CheckConstraint(
                condition=~Q(follower=F("followee")), name="follow_not_self"
            ),
            models.CheckConstraint(
                condition=Q(priority__gte=-2) & Q(priority__lte=2),
                name="follow_priority_range",
            ),
        ]
        indexes = [models.Index(fields=["followee", "follower"], name="follow_reverse")]

    def __str__(self) -> str:
        return f"{self.follower_id} follows {self.followee_id}"


class Like(models.Model):
    """The engagement signal big platforms optimise: shown, never ranked on."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="likes")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "post"], name="like_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} likes post {self.post_id}"


class Rating(models.Model):
    """helpful (+1) / unhelpful (-1): one per user per post, changeable."""

    class Value(models.IntegerChoices):
        HELPFUL = 1, "helpful"
        UNHELPFUL = -1, "unhelpful"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="ratings")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="ratings")
    value = models.SmallIntegerField(choices=Value.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "post"], name="rating_once"),
            models.CheckConstraint(
                condition=Q(value__in=[1, -1]), name="rating_value_valid"
            ),
        ]
        indexes = [models.Index(fields=["post"], name="rating_post")]

    def __str__(self) -> str:
        return f"{self.user_id} rates post {self.post_id}: {self.value:+d}"


class Report(models.Model):
    class Reason(models.TextChoices):
        INCIVILITY = "incivility", "Insulting or abusive"
        HARASSMENT = "harassment", "Harassment"
        MISINFORMATION = "misinformation", "Misleading or false"
        SPAM = "spam", "Spam"
        ILLEGAL = "illegal", "Possibly illegal"
        OTHER = "other", "Something else"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        UPHELD = "upheld", "Upheld"
        DISMISSED = "dismissed", "Dismissed"

    reporter = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="reports_made"
    )
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reports")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    details = models.CharField(max_length=1000, blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["reporter", "post"], name="report_once"),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="report_queue")]

    def __str__(self) -> str:
        return f"report of post {self.post_id} ({self.reason}, {self.status})"


class Block(models.Model):
    """A blocked account cannot see, reply to or follow the blocker."""

    blocker = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="blocks_made"
    )
    blocked = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="blocks_received"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="block_once"),
            models.CheckConstraint(
                condition=~Q(blocker=F("blocked")), name="block_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.blocker_id} blocks {self.blocked_id}"


class Mute(models.Model):
    """Muted accounts vanish from the muter's feeds; they are not told."""

    muter = models.ForeignKey(User, on_delete=models.CASCADE, related_name="mutes_made")
    muted = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="mutes_received"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["muter", "muted"], name="mute_once"),
            models.CheckConstraint(
                condition=~Q(muter=F("muted")), name="mute_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.muter_id} mutes {self.muted_id}"


class Mention(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="mentioned_in"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post", "user"], name="mention_once")
        ]

    def __str__(self) -> str:
        return f"post {self.post_id} mentions {self.user_id}"


class Notification(models.Model):
    class Kind(models.TextChoices):
        REPLY = "reply", "replied to your post"
        MENTION = "mention", "mentioned you"
        FOLLOW = "follow", "followed you"
        PETITION = "petition", "answered a petition you signed"
        APPEAL = "appeal", "answered your appeal"

    recipient = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="notifications"
    )
    actor = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    post = models.ForeignKey(
        Post, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox")
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id} from {self.actor_id}"

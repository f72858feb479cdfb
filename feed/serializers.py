"""Request and response shapes of the feed API.

Input serializers only check types and presence; the rules a person can break
(length, self-follow, duplicates, blocks) live in feed.services so the pages
and the API give the same answers. Output serializers read the Page/Post
objects the selectors return and never query on their own.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import POST_MAX_LENGTH, Notification, Post, Report, User
from .text import render_post_body

RATING_LABELS = {1: "helpful", -1: "unhelpful"}
# Named in SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] so the schema has one enum.
RATING_CHOICES = ["helpful", "unhelpful"]


class TextField(serializers.CharField):
    """A CharField that refuses numbers and booleans rather than stringify them."""

    default_error_messages = {"invalid": "Send this as a JSON string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ErrorSerializer(serializers.Serializer):
    """The one error shape of the API (see charter_social.api_errors)."""

    detail = serializers.CharField(help_text="What went wrong and what to change.")
    # The serializer metaclass moves declared fields off the class, so this name
    # does not shadow Serializer.errors at runtime; only the type checker sees both.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Per-field messages, when the problem is in named fields.",
    )


# Accounts -------------------------------------------------------------------------


class TokenRequestSerializer(serializers.Serializer):
    username = TextField(max_length=150, trim_whitespace=True)
    password = TextField(max_length=4096, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text='Send as "Authorization: Token <token>".')
    username = serializers.CharField()


class SignupSerializer(serializers.Serializer):
    username = TextField(max_length=150)
    password = TextField(max_length=4096, trim_whitespace=False)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    display_name = TextField(
        required=False, allow_blank=True, default="", max_length=200
    )


class AuthorSerializer(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()


class MeSerializer(serializers.Serializer):
    username = serializers.CharField(read_only=True)
    display_name = serializers.CharField()
    bio = serializers.CharField()
    email = serializers.EmailField(read_only=True)
    date_joined = serializers.DateTimeField(read_only=True)
    unread_notifications = serializers.IntegerField(read_only=True)


class SignupResponseSerializer(serializers.Serializer):
    user = MeSerializer()
    token = serializers.CharField()


class ProfileUpdateSerializer(serializers.Serializer):
    # Lengths are checked by the service, whose messages name the limits.
    display_name = TextField(required=False, allow_blank=True)
    bio = TextField(required=False, allow_blank=True)


class PasswordChangeSerializer(serializers.Serializer):
    old_password = TextField(max_length=4096, trim_whitespace=False)
    new_password = TextField(max_length=4096, trim_whitespace=False)


class PasswordConfirmSerializer(serializers.Serializer):
    password = TextField(max_length=4096, trim_whitespace=False)


class NotificationSerializer(serializers.ModelSerializer[Notification]):
    actor = AuthorSerializer()
    post_id = serializers.IntegerField(allow_null=True)
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "actor", "post_id", "created_at", "read"]

    def get_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class NotificationListSerializer(serializers.Serializer):
    results = NotificationSerializer(many=True)
    unread = serializers.IntegerField()


class MarkedReadSerializer(serializers.Serializer):
    marked = serializers.IntegerField(
        help_text="How many notifications changed to read."
    )


# Posts ------------------------------------------------------------------------------


class PostCreateSerializer(serializers.Serializer):
    # Emptiness and length are the service's rules; only the type is checked here.
    body = TextField(
        allow_blank=True,
        trim_whitespace=False,
        help_text=f"At most {POST_MAX_LENGTH} characters.",
    )
    parent_id = serializers.IntegerField(
        required=False, allow_null=True, help_text="The post this one replies to."
    )


class CountsSerializer(serializers.Serializer):
    likes = serializers.IntegerField(source="like_count")
    replies = serializers.IntegerField(source="reply_count")
    helpful = serializers.IntegerField(source="helpful_count")
    unhelpful = serializers.IntegerField(source="unhelpful_count")


class ViewerStateSerializer(serializers.Serializer):
    liked = serializers.BooleanField()
    rating = serializers.ChoiceField(choices=RATING_CHOICES, allow_null=True)


# Shared, stateless: renders a datetime exactly as a declared DateTimeField does.
_DATETIME = serializers.DateTimeField()


class PostSerializer(serializers.Serializer):
    """A post as every endpoint shows it.

    Context: "reactions" maps post id -> {"liked", "rating"} for the signed-in
    viewer (from selectors.viewer_reactions_for); without it `viewer` is null.

    The declared fields are the schema; `to_representation` writes the same
    dict directly, since DRF's field-by-field walk (get_attribute, nested
    serializers, method fields) cost ~0.15 ms per post, 30 times per feed page.
    """

    id = serializers.IntegerField()
    author = AuthorSerializer()
    body = serializers.CharField()
    body_html = serializers.SerializerMethodField(
        help_text="The body escaped, with links and @mentions clickable."
    )
    parent_id = serializers.IntegerField(allow_null=True)
    root_id = serializers.SerializerMethodField(
        help_text="First post of the thread (the post itself when it starts one)."
    )
    created_at = serializers.DateTimeField()
    counts = serializers.SerializerMethodField()
    viewer = serializers.SerializerMethodField(
        help_text="The signed-in viewer's reactions; null when signed out."
    )

    def to_representation(self, post: Post) -> dict[str, Any]:
        author = post.author
        return {
            "id": int(post.id),
            "author": {
                "username": str(author.username),
                "display_name": str(author.display_name),
            },
            "body": str(post.body),
            "body_html": self.get_body_html(post),
            "parent_id": None if post.parent_id is None else int(post.parent_id),
            "root_id": self.get_root_id(post),
            "created_at": _DATETIME.to_representation(post.created_at),
            "counts": self.get_counts(post),
            "viewer": self.get_viewer(post),
        }

    def get_body_html(self, post: Post) -> str:
        return str(render_post_body(post.body))

    def get_root_id(self, post: Post) -> int:
        return post.root_id or post.id

    @extend_schema_field(CountsSerializer)
    def get_counts(self, post: Post) -> dict[str, Any]:
        return {
            "likes": int(post.like_count),
            "replies": int(post.reply_count),
            "helpful": int(post.helpful_count),
            "unhelpful": int(post.unhelpful_count),
        }

    @extend_schema_field(ViewerStateSerializer(allow_null=True))
    def get_viewer(self, post: Post) -> dict[str, Any] | None:
        reactions = self.context.get("reactions")
        if reactions is None:
            return None
        state = reactions.get(post.id, {"liked": False, "rating": None})
        return {"liked": state["liked"], "rating": RATING_LABELS.get(state["rating"])}


class TimelineSerializer(serializers.Serializer):
    results = PostSerializer(many=True)
    next = serializers.CharField(
        allow_null=True,
        help_text="Pass as ?cursor= for the next (older) page; null at the end.",
    )


class ThreadSerializer(serializers.Serializer):
    post_id = serializers.IntegerField(help_text="The post that was asked for.")
    root_id = serializers.IntegerField()
    results = PostSerializer(many=True, help_text="The whole thread in reading order.")


class RatingSerializer(serializers.Serializer):
    value = serializers.ChoiceField(choices=RATING_CHOICES)


class ReportCreateSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=Report.Reason.choices)
    details = TextField(required=False, allow_blank=True, default="")


class ReportSerializer(serializers.ModelSerializer[Report]):
    post_id = serializers.IntegerField()
    # Plain text in the schema: an enum named "status" would collide with other apps'.
    status = serializers.CharField(help_text="open, upheld or dismissed.")

    class Meta:
        model = Report
        fields = ["id", "post_id", "reason", "details", "status", "created_at"]


# Profiles and relations ---------------------------------------------------------------


class RelationshipSerializer(serializers.Serializer):
    following = serializers.BooleanField()
    followed_by = serializers.BooleanField()
    muting = serializers.BooleanField()
    blocking = serializers.BooleanField()


class ProfileStatsSerializer(serializers.Serializer):
    posts = serializers.IntegerField()
    followers = serializers.IntegerField()
    following = serializers.IntegerField()


class ProfileSerializer(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()
    bio = serializers.CharField()
    date_joined = serializers.DateTimeField()
    stats = ProfileStatsSerializer()
    relationship = RelationshipSerializer()


class FollowPrioritySerializer(serializers.Serializer):
    priority = serializers.IntegerField(
        min_value=-2,
        max_value=2,
        help_text="How much this account matters to you, -2..2.",
    )


class FollowSerializer(serializers.Serializer):
    username = serializers.CharField()
    priority = serializers.IntegerField()


class UserSummarySerializer(serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = ["username", "display_name", "bio"]


class PostSearchResultsSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["posts"])
    results = PostSerializer(many=True)


class UserSearchResultsSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["users"])
    results = UserSummarySerializer(many=True)

"""Admin for the social core: accounts, posts, relations and the report queue."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import (
    Block,
    Follow,
    Like,
    Mention,
    Mute,
    Notification,
    Post,
    Rating,
    Report,
    User,
)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [
        "username",
        "display_name",
        "email",
        "is_moderator",
        "is_staff",
        "is_active",
    ]
    list_filter = ["is_moderator", "is_staff", "is_active"]
    search_fields = ["username", "display_name", "email"]
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        ("Charter Social", {"fields": ("display_name", "bio", "is_moderator")}),
    )


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "author",
        "short_body",
        "created_at",
        "like_count",
        "reply_count",
        "helpful_count",
        "unhelpful_count",
    ]
    search_fields = ["body", "author__username"]
    date_hierarchy = "created_at"
    list_select_related = ["author"]
    raw_id_fields = ["author", "parent", "root"]
    # Counters are kept in step by feed.services; editing them by hand would lie.
    readonly_fields = ["like_count", "reply_count", "helpful_count", "unhelpful_count"]

    @admin.display(description="body")
    def short_body(self, post: Post) -> str:
        return post.body[:80]


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["id", "post", "reporter", "reason", "status", "created_at"]
    list_filter = ["status", "reason"]
    list_editable = ["status"]
    list_select_related = ["post", "reporter"]
    raw_id_fields = ["post", "reporter"]
    search_fields = ["post__body", "reporter__username", "details"]


@admin.register(Follow)
class FollowAdmin(admin.ModelAdmin):
    list_display = ["follower", "followee", "priority", "created_at"]
    list_select_related = ["follower", "followee"]
    raw_id_fields = ["follower", "followee"]
    search_fields = ["follower__username", "followee__username"]


@admin.register(Block)
class BlockAdmin(admin.ModelAdmin):
    list_display = ["blocker", "blocked", "created_at"]
    list_select_related = ["blocker", "blocked"]
    raw_id_fields = ["blocker", "blocked"]


@admin.register(Mute)
class MuteAdmin(admin.ModelAdmin):
    list_display = ["muter", "muted", "created_at"]
    list_select_related = ["muter", "muted"]
    raw_id_fields = ["muter", "muted"]


@admin.register(Like)
class LikeAdmin(admin.ModelAdmin):
    list_display = ["user", "post", "created_at"]
    list_select_related = ["user", "post"]
    raw_id_fields = ["user", "post"]


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ["user", "post", "value", "updated_at"]
    list_filter = ["value"]
    list_select_related = ["user", "post"]
    raw_id_fields = ["user", "post"]


@admin.register(Mention)
class MentionAdmin(admin.ModelAdmin):
    list_display = ["post", "user"]
    raw_id_fields = ["post", "user"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["recipient", "kind", "actor", "post", "created_at", "read_at"]
    list_filter = ["kind"]
    list_select_related = ["recipient", "actor"]
    raw_id_fields = ["recipient", "actor", "post"]

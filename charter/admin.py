"""Admin: administrators grant board terms; charter history is read-only here.

Nothing in the admin can create a charter version or change a policy: versions
come only from genesis and adopted amendments (`charter.services`).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from .models import (
    Amendment,
    AmendmentComment,
    BoardMembership,
    CharterArticle,
    CharterVersion,
    Vote,
)
from .selectors import board_term_overlaps
from .services import board_membership_grant, board_membership_update


class BoardMembershipForm(forms.ModelForm):
    """Checks a term before the service records it, so errors show on the form."""

    class Meta:
        model = BoardMembership
        fields = ["user", "role", "starts_at", "ends_at"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        editing = self.instance.pk is not None
        # On change, user and start are read-only and come from the stored term.
        user = self.instance.user if editing else data.get("user")
        starts_at = self.instance.starts_at if editing else data.get("starts_at")
        ends_at = data.get("ends_at")
        if user and starts_at:
            if ends_at is not None and ends_at <= starts_at:
                self.add_error("ends_at", "The term must end after it starts.")
            elif board_term_overlaps(
                user=user,
                starts_at=starts_at,
                ends_at=ends_at,
                exclude_pk=self.instance.pk,
            ):
                self.add_error(
                    "ends_at" if editing else "starts_at",
                    f"{user} already has a board term in that period.",
                )
        return data


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CharterArticleInline(admin.TabularInline):
    model = CharterArticle
    fields = ("number", "title", "body")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CharterVersion)
class CharterVersionAdmin(ReadOnlyAdmin):
    list_display = ["number", "summary", "adopted_at", "effective_at", "policy_sha256"]
    inlines = [CharterArticleInline]


class VoteInline(admin.TabularInline):
    model = Vote
    fields = ("voter", "choice", "cast_at", "updated_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Amendment)
class AmendmentAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "title",
        "status",
        "proposer",
        "created_at",
        "voting_closes_at",
    ]
    list_filter = ["status"]
    inlines = [VoteInline]


@admin.register(AmendmentComment)
class AmendmentCommentAdmin(ReadOnlyAdmin):
    list_display = ["amendment", "author", "created_at"]


@admin.register(BoardMembership)
class BoardMembershipAdmin(admin.ModelAdmin):
    """Administrators grant and end terms here, through the logged services."""

    form = BoardMembershipForm
    list_display = ["user", "role", "starts_at", "ends_at"]
    raw_id_fields = ["user"]
    search_fields = ["user__username"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A term's holder and start are history; only its end and role may change.
        return ["user", "starts_at"] if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A term that existed stays on the public record; end it instead.
        return False

    def save_model(
        self, request: HttpRequest, obj: BoardMembership, form: Any, change: bool
    ) -> None:
        if change:
            board_membership_update(
                membership=obj,
                ends_at=obj.ends_at,
                role=obj.role,
                changed_by=request.user,
            )
            return
        created = board_membership_grant(
            user=obj.user,
            starts_at=obj.starts_at,
            ends_at=obj.ends_at,
            role=obj.role,
            granted_by=request.user,
        )
        obj.pk = created.pk
        obj._state.adding = False

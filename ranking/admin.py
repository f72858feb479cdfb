"""Admin views of ranking data: read-only, because artefacts and signals are records.

Activation goes through `ranking.services.model_activate` (so it reaches the
ledger); nothing here can change a stored model.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ranking.models import ModelArtefact, PostSignals


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ModelArtefact)
class ModelArtefactAdmin(_ReadOnlyAdmin):
    list_display = [
        "name",
        "version",
        "format",
        "is_active",
        "activated_at",
        "created_at",
    ]
    list_filter = ["name", "is_active"]
    exclude = ["blob"]
    readonly_fields = [
        "name",
        "version",
        "format",
        "created_at",
        "training_data_sha256",
        "parameters",
        "metrics",
        "blob_sha256",
        "is_active",
        "activated_at",
        "activated_by",
    ]

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).defer("blob")


@admin.register(PostSignals)
class PostSignalsAdmin(_ReadOnlyAdmin):
    list_display = ["post", "incivility", "incivility_version", "bridging", "consensus"]
    list_select_related = ["post"]
    raw_id_fields = ["post"]

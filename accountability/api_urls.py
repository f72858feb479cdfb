"""REST API of the transparency log (mounted under /api/)."""

from django.urls import include, path

from . import api

app_name = "accountability_api"
urlpatterns = [
    path("transparency/entries", api.EntryList.as_view(), name="entries"),
    path("transparency/entries/<int:index>", api.EntryDetail.as_view(), name="entry"),
    path("transparency/log.jsonl", api.LogDownload.as_view(), name="log"),
    path("transparency/checkpoint", api.CheckpointView.as_view(), name="checkpoint"),
    path("transparency/key", api.KeyView.as_view(), name="key"),
    path("transparency/keys", api.KeyHistoryView.as_view(), name="keys"),
    path(
        "transparency/proof/inclusion",
        api.InclusionProofView.as_view(),
        name="inclusion",
    ),
    path(
        "transparency/proof/consistency",
        api.ConsistencyProofView.as_view(),
        name="consistency",
    ),
    # Decisions, appeals, petitions, moderation, reports (accountability.casework_api).
    path("", include("accountability.casework_api_urls")),
]

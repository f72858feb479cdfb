"""Public transparency pages and downloads (mounted at /transparency/)."""

from django.urls import include, path

from . import views

app_name = "accountability"
urlpatterns = [
    path("", views.index, name="index"),
    path("entries/<int:index>", views.entry_detail, name="entry"),
    path("log.jsonl", views.log_jsonl, name="log"),
    path("checkpoint", views.checkpoint, name="checkpoint"),
    path("key", views.key, name="key"),
    path("keys", views.keys, name="keys"),
    path("proof/inclusion", views.inclusion, name="inclusion"),
    path("proof/consistency", views.consistency, name="consistency"),
    path("verify.py", views.verifier_download, name="verifier"),
    # Decisions, appeals, petitions, moderation, reports (casework_urls).
    path("", include("accountability.casework_urls")),
]

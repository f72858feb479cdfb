"""Ranking API routes, mounted under /api/ (namespace "ranking_api")."""

from django.urls import path

from . import api

app_name = "ranking_api"
urlpatterns = [
    path("feed/", api.FeedView.as_view(), name="feed"),
    path("feed/preferences/", api.FeedPreferencesView.as_view(), name="preferences"),
    path("posts/<int:post_id>/feedback/", api.FeedbackView.as_view(), name="feedback"),
    path("ranking/signals/", api.SignalsView.as_view(), name="signals"),
    path("ranking/models/", api.ModelsView.as_view(), name="models"),
]

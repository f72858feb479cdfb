"""API routes of decisions, appeals, petitions, moderation and reports.

Included by accountability/api_urls.py, so names live in `accountability_api`.
"""

from django.urls import path

from . import casework_api as api

urlpatterns = [
    path(
        "transparency/decisions/<str:public_id>/",
        api.DecisionDetailApi.as_view(),
        name="decision",
    ),
    path(
        "transparency/decisions/<str:public_id>/replay/",
        api.DecisionReplayApi.as_view(),
        name="decision_replay",
    ),
]

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
    path(
        "transparency/decisions/<str:public_id>/appeals/",
        api.AppealFileApi.as_view(),
        name="decision_appeals",
    ),
    path("appeals/<int:appeal_id>/", api.AppealDetailApi.as_view(), name="appeal"),
    path(
        "appeals/<int:appeal_id>/answer/",
        api.AppealAnswerApi.as_view(),
        name="appeal_answer",
    ),
    path("petitions/", api.PetitionListApi.as_view(), name="petitions"),
    path(
        "petitions/<int:petition_id>/",
        api.PetitionDetailApi.as_view(),
        name="petition",
    ),
    path(
        "petitions/<int:petition_id>/signatures/",
        api.PetitionSignApi.as_view(),
        name="petition_sign",
    ),
    path(
        "petitions/<int:petition_id>/answer/",
        api.PetitionAnswerApi.as_view(),
        name="petition_answer",
    ),
    path(
        "moderation/reports/<int:report_id>/decision/",
        api.ModerationDecideApi.as_view(),
        name="moderation_decide",
    ),
    path(
        "transparency/reports/daily/",
        api.ReportDailyApi.as_view(),
        name="reports_daily",
    ),
]

"""Pages of decisions, appeals, petitions, moderation and reports.

Included by accountability/urls.py (mounted at /transparency/), so names live
in the `accountability` namespace.
"""

from django.urls import path

from . import casework_views as views
from . import report_views

urlpatterns = [
    path("decisions/mine/", views.my_decisions, name="my_decisions"),
    path("decisions/<str:public_id>/", views.decision_detail, name="decision"),
    path(
        "decisions/<str:public_id>/appeal",
        views.decision_appeal,
        name="decision_appeal",
    ),
    path("appeals/<int:appeal_id>/", views.appeal_detail, name="appeal"),
    path("petitions/", views.petitions_page, name="petitions"),
    path("petitions/new/", views.petition_new, name="petition_new"),
    path("petitions/<int:petition_id>/", views.petition_detail, name="petition"),
    path("petitions/<int:petition_id>/sign", views.petition_sign, name="petition_sign"),
    path(
        "petitions/<int:petition_id>/answer",
        views.petition_answer,
        name="petition_answer",
    ),
    path("board/queue/", views.board_queue, name="board_queue"),
    path("moderation/", report_views.moderation_queue, name="moderation_queue"),
    path(
        "moderation/reports/<int:report_id>/decide",
        report_views.moderation_decide,
        name="moderation_decide",
    ),
    path("moderation/log/", report_views.moderation_log, name="moderation_log"),
    path("reports/", report_views.reports_page, name="reports"),
    path("reports/daily.csv", report_views.reports_csv, name="reports_csv"),
    path("reports/daily.json", report_views.reports_json, name="reports_json"),
    path("reports/research.json", report_views.research_export, name="research"),
    path(
        "reports/chart/<str:metric>.svg", report_views.report_chart, name="report_chart"
    ),
]

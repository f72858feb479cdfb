"""Charter pages under /charter/."""

from django.urls import path

from . import views

app_name = "charter"

urlpatterns = [
    path("", views.charter_home, name="current"),
    path("policy.json", views.policy_json, name="policy-json"),
    path("policy.schema.json", views.policy_schema_json, name="policy-schema"),
    path("versions/", views.versions_list, name="versions"),
    path("versions/<int:number>/", views.version_detail, name="version"),
    path("versions/<int:number>.md", views.version_markdown, name="version-md"),
    path("versions/<int:number>.json", views.version_json, name="version-json"),
    path(
        "versions/<int:number>/policy.json",
        views.version_policy_json,
        name="version-policy-json",
    ),
    path("diff/", views.diff_page, name="diff"),
    path("board/", views.board_page, name="board"),
    path("amendments/", views.amendments_page, name="amendments"),
    path("amendments/new/", views.amendment_new, name="amendment-new"),
    path("amendments/<int:amendment_id>/", views.amendment_detail, name="amendment"),
    path(
        "amendments/<int:amendment_id>/deliberation/",
        views.amendment_deliberation,
        name="amendment-deliberation",
    ),
    path(
        "amendments/<int:amendment_id>/voting/",
        views.amendment_voting,
        name="amendment-voting",
    ),
    path(
        "amendments/<int:amendment_id>/comment/",
        views.amendment_comment,
        name="amendment-comment",
    ),
    path(
        "amendments/<int:amendment_id>/vote/",
        views.amendment_vote,
        name="amendment-vote",
    ),
    path(
        "amendments/<int:amendment_id>/close/",
        views.amendment_close,
        name="amendment-close",
    ),
]

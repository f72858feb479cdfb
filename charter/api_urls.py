"""Charter API under /api/charter/."""

from django.urls import path

from . import api

app_name = "charter_api"

urlpatterns = [
    path("charter/", api.CharterActiveApi.as_view(), name="active"),
    path("charter/policy/", api.PolicyActiveApi.as_view(), name="policy"),
    path("charter/policy/schema/", api.PolicySchemaApi.as_view(), name="policy-schema"),
    path("charter/versions/", api.VersionListApi.as_view(), name="versions"),
    path(
        "charter/versions/<int:number>/", api.VersionDetailApi.as_view(), name="version"
    ),
    path("charter/diff/", api.DiffApi.as_view(), name="diff"),
    path("charter/board/", api.BoardApi.as_view(), name="board"),
    path("charter/amendments/", api.AmendmentListApi.as_view(), name="amendments"),
    path(
        "charter/amendments/<int:amendment_id>/",
        api.AmendmentDetailApi.as_view(),
        name="amendment",
    ),
    path(
        "charter/amendments/<int:amendment_id>/diff/",
        api.AmendmentDiffApi.as_view(),
        name="amendment-diff",
    ),
    path(
        "charter/amendments/<int:amendment_id>/deliberation/",
        api.AmendmentDeliberationApi.as_view(),
        name="amendment-deliberation",
    ),
    path(
        "charter/amendments/<int:amendment_id>/voting/",
        api.AmendmentVotingApi.as_view(),
        name="amendment-voting",
    ),
    path(
        "charter/amendments/<int:amendment_id>/comments/",
        api.AmendmentCommentsApi.as_view(),
        name="amendment-comments",
    ),
    path(
        "charter/amendments/<int:amendment_id>/vote/",
        api.AmendmentVoteApi.as_view(),
        name="amendment-vote",
    ),
    path(
        "charter/amendments/<int:amendment_id>/close/",
        api.AmendmentCloseApi.as_view(),
        name="amendment-close",
    ),
]

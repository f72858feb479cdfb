"""REST API of the charter: the same data as the pages, and the board's actions.

Views parse input, call one selector or service, and serialise. Permission
decisions (board membership, lifecycle state) are the services'; their
PermissionDenied / ValidationError become 403 / 400 through the project's
exception handler.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors, services
from .diff import charter_diff
from .models import Amendment, CharterVersion
from .policy import POLICY_SCHEMA
from .serializers import (
    AmendmentProposeSerializer,
    AmendmentSerializer,
    AmendmentSummarySerializer,
    BoardTermSerializer,
    CharterVersionSerializer,
    CharterVersionSummarySerializer,
    CommentCreateSerializer,
    CommentSerializer,
    OpenVotingSerializer,
    PolicyActiveSerializer,
    VoteCastSerializer,
    VoteSerializer,
)


def _version_or_404(number: int) -> CharterVersion:
    try:
        return selectors.charter_version_get(number=number)
    except CharterVersion.DoesNotExist:
        raise Http404(f"There is no charter version {number}.") from None


def _amendment_or_404(amendment_id: int) -> Amendment:
    try:
        return selectors.amendment_get(amendment_id=amendment_id)
    except Amendment.DoesNotExist:
        raise Http404(f"There is no amendment #{amendment_id}.") from None


@lru_cache(maxsize=8)
def _version_rendered(number: int, adopted_at: datetime, policy_sha256: str) -> str:
    """The JSON of one adopted version, rendered once per process.

    Keyed by what identifies an immutable version's content: a database
    recreated with another version under the same number adopted it at
    another moment.
    """
    version = selectors.charter_version_get(number=number)
    return json.dumps(CharterVersionSerializer(version).data, cls=DjangoJSONEncoder)


class CharterActiveApi(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=CharterVersionSerializer, summary="The charter in force")
    def get(self, request: Request) -> Response:
        identity = selectors.charter_active_identity()
        if identity is None:
            raise Http404("No charter is in force yet.")
        # One light query names the version in force; its rendering (articles,
        # plain-language rules, text hash) is the same every time.
        return Response(json.loads(_version_rendered(*identity)))


class PolicyActiveApi(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        responses=PolicyActiveSerializer,
        summary="The policy the ranker follows now, with its version and hash",
    )
    def get(self, request: Request) -> Response:
        try:
            number, sha, policy = selectors.policy_active_record()
        except selectors.NoActiveCharter as exc:
            raise Http404(str(exc)) from None
        return Response({"version": number, "policy_sha256": sha, "policy": policy})


class PolicySchemaApi(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="JSON Schema (draft 2020-12) of a charter policy",
    )
    def get(self, request: Request) -> Response:
        return Response(POLICY_SCHEMA)


class VersionListApi(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=CharterVersionSummarySerializer(many=True))
    def get(self, request: Request) -> Response:
        versions = selectors.charter_versions_list()
        return Response(CharterVersionSummarySerializer(versions, many=True).data)


class VersionDetailApi(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=CharterVersionSerializer)
    def get(self, request: Request, number: int) -> Response:
        return Response(CharterVersionSerializer(_version_or_404(number)).data)


def _int_param(request: Request, name: str) -> int:
    raw = request.query_params.get(name, "")
    if not raw.isdigit():
        raise ValidationError(
            {name: [f"Give '{name}' as a version number, e.g. ?{name}=1."]}
        )
    return int(raw)


class DiffApi(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "a", int, required=True, description="older version number"
            ),
            OpenApiParameter(
                "b", int, required=True, description="newer version number"
            ),
        ],
        responses=OpenApiTypes.OBJECT,
        summary="Prose and policy of two versions, side by side",
    )
    def get(self, request: Request) -> Response:
        a = _version_or_404(_int_param(request, "a"))
        b = _version_or_404(_int_param(request, "b"))
        diff = charter_diff(
            left_text=selectors.charter_version_text(a),
            left_policy=a.policy,
            right_text=selectors.charter_version_text(b),
            right_policy=b.policy,
        )
        return Response({"a": a.number, "b": b.number, **diff.as_dict()})


class BoardApi(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=BoardTermSerializer(many=True), summary="Board terms")
    def get(self, request: Request) -> Response:
        terms = selectors.board_terms_list()
        context = {"now": timezone.now()}
        return Response(BoardTermSerializer(terms, many=True, context=context).data)


class AmendmentListApi(APIView):
    @extend_schema(responses=AmendmentSummarySerializer(many=True))
    def get(self, request: Request) -> Response:
        amendments = selectors.amendments_list(
            status=request.query_params.get("status")
        )
        return Response(AmendmentSummarySerializer(amendments, many=True).data)

    @extend_schema(
        request=AmendmentProposeSerializer,
        responses={201: AmendmentSerializer},
        summary="Propose an amendment (board members)",
    )
    def post(self, request: Request) -> Response:
        data = AmendmentProposeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        amendment = services.amendment_propose(
            proposer=request.user, **data.validated_data
        )
        return Response(
            AmendmentSerializer(_amendment_or_404(amendment.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class AmendmentDetailApi(APIView):
    @extend_schema(responses=AmendmentSerializer)
    def get(self, request: Request, amendment_id: int) -> Response:
        return Response(AmendmentSerializer(_amendment_or_404(amendment_id)).data)


class AmendmentDiffApi(APIView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="What the amendment changes, against the version it amends",
    )
    def get(self, request: Request, amendment_id: int) -> Response:
        amendment = _amendment_or_404(amendment_id)
        diff = charter_diff(
            left_text=selectors.charter_version_text(amendment.base_version),
            left_policy=amendment.base_version.policy,
            right_text=selectors.amendment_text(amendment),
            right_policy=amendment.policy,
        )
        return Response(
            {"base_version": amendment.base_version.number, **diff.as_dict()}
        )


class AmendmentDeliberationApi(APIView):
    @extend_schema(request=None, responses=AmendmentSerializer)
    def post(self, request: Request, amendment_id: int) -> Response:
        amendment = _amendment_or_404(amendment_id)
        services.amendment_open_deliberation(actor=request.user, amendment=amendment)
        return Response(AmendmentSerializer(_amendment_or_404(amendment_id)).data)


class AmendmentVotingApi(APIView):
    @extend_schema(request=OpenVotingSerializer, responses=AmendmentSerializer)
    def post(self, request: Request, amendment_id: int) -> Response:
        data = OpenVotingSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        amendment = _amendment_or_404(amendment_id)
        services.amendment_open_voting(
            actor=request.user,
            amendment=amendment,
            closes_at=data.validated_data.get("closes_at"),
        )
        return Response(AmendmentSerializer(_amendment_or_404(amendment_id)).data)


class AmendmentCommentsApi(APIView):
    @extend_schema(responses=CommentSerializer(many=True))
    def get(self, request: Request, amendment_id: int) -> Response:
        amendment = _amendment_or_404(amendment_id)
        return Response(CommentSerializer(amendment.comments.all(), many=True).data)

    @extend_schema(request=CommentCreateSerializer, responses={201: CommentSerializer})
    def post(self, request: Request, amendment_id: int) -> Response:
        data = CommentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.amendment_comment(
            author=request.user,
            amendment=_amendment_or_404(amendment_id),
            body=data.validated_data["body"],
        )
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class AmendmentVoteApi(APIView):
    @extend_schema(request=VoteCastSerializer, responses=VoteSerializer)
    def post(self, request: Request, amendment_id: int) -> Response:
        data = VoteCastSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        vote = services.vote_cast(
            voter=request.user,
            amendment=_amendment_or_404(amendment_id),
            choice=data.validated_data["choice"],
        )
        return Response(VoteSerializer(vote).data)


class AmendmentCloseApi(APIView):
    @extend_schema(request=None, responses=AmendmentSerializer)
    def post(self, request: Request, amendment_id: int) -> Response:
        amendment = _amendment_or_404(amendment_id)
        services.amendment_close_vote(actor=request.user, amendment=amendment)
        return Response(AmendmentSerializer(_amendment_or_404(amendment_id)).data)

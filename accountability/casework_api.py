"""REST API of decisions, appeals, petitions, moderation and reports (under /api/).

Views parse, call one selector or service, and serialise. Services raise
ValidationError / PermissionDenied / DoesNotExist, which the project's
exception handler turns into 400 / 403 / 404; a signature burst is a 429.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import appeals as appeal_ops
from . import moderation, reports
from . import petitions as petition_ops
from .casework_models import (
    Appeal,
    DecisionRecord,
    Petition,
    PetitionStatus,
    PetitionTarget,
)
from .decisions import decision_get, decision_replay, decision_statement


class AppealFileIn(serializers.Serializer):
    statement = serializers.CharField(help_text="Why the decision is wrong.")


class AnswerIn(serializers.Serializer):
    outcome = serializers.CharField(
        help_text="Appeals: upheld | overturned. Petitions: upheld | overturned | "
        "amendment."
    )
    reasons = serializers.CharField(help_text="Published with the answer.")
    amendment = serializers.IntegerField(
        required=False, help_text="The amendment proposed (outcome 'amendment')."
    )


class PetitionFileIn(serializers.Serializer):
    target = serializers.ChoiceField(choices=PetitionTarget.choices)
    title = serializers.CharField()
    text = serializers.CharField()
    decision = serializers.CharField(required=False, help_text="DR-… (decision).")
    post = serializers.IntegerField(required=False, help_text="Post id (post).")
    article = serializers.CharField(required=False, help_text="Article (article).")


class ModerationIn(serializers.Serializer):
    outcome = serializers.CharField(help_text="demote | label | dismiss")
    article = serializers.CharField(
        required=False, help_text="Charter article (to uphold)."
    )
    reasons = serializers.CharField(help_text="Published in the moderation log.")


OBJECT = OpenApiTypes.OBJECT
DAYS = OpenApiParameter("days", int, description="Days ending today (default 30).")


def _record_or_404(public_id: str) -> DecisionRecord:
    try:
        return decision_get(public_id=public_id)
    except DecisionRecord.DoesNotExist:
        raise Http404(f"There is no decision record {public_id}.") from None


class DecisionDetailApi(APIView):
    """A statement of reasons, in the DSA transparency database's field names."""

    permission_classes = [AllowAny]

    @extend_schema(
        responses=OBJECT,
        operation_id="decision_statement",
        summary="A statement of reasons (DSA field names)",
    )
    def get(self, request: Request, public_id: str) -> Response:
        return Response(decision_statement(_record_or_404(public_id)))


class DecisionReplayApi(APIView):
    """Recompute a decision with the ranker's code; 200 whether or not it matches."""

    permission_classes = [AllowAny]

    @extend_schema(
        responses=OBJECT,
        operation_id="decision_replay",
        summary="Replay a decision with the ranker's code",
    )
    def get(self, request: Request, public_id: str) -> Response:
        record = _record_or_404(public_id)
        result = decision_replay(record=record)
        return Response(
            {
                "id": record.public_id,
                "reproduced": result.reproduced,
                "differences": result.differences,
                "recomputed": result.recomputed,
            }
        )


# --- appeals, petitions, moderation, reports --------------------------------


def _appeal_json(appeal: Appeal) -> dict[str, Any]:
    return {
        "id": appeal.pk,
        "decision": appeal.decision_record.public_id,
        "status": appeal.status,
        "statement": appeal.statement,
        "filed_at": appeal.filed_at.isoformat(),
        "deadline_at": appeal.deadline_at.isoformat(),
        "answered_at": appeal.answered_at.isoformat() if appeal.answered_at else None,
        "answer_reasons": appeal.answer_reasons or None,
        "override_entry": appeal.override.ledger_index if appeal.override else None,
    }


def _petition_json(petition: Petition) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": petition.pk,
        "title": petition.title,
        "text": petition.text,
        "target": petition.target,
        "decision": petition.decision_record.public_id
        if petition.decision_record
        else None,
        "post": petition.post_id,
        "article": petition.article or None,
        "status": petition.status,
        "overdue": petition_ops.petition_is_overdue(petition),
        "signature_count": petition.signature_count,
        "threshold": petition.threshold,
        "charter_version": petition.charter_version,
        "created_at": iso(petition.created_at),
        "signing_closes_at": iso(petition.signing_closes_at),
        "threshold_reached_at": iso(petition.threshold_reached_at),
        "deadline_at": iso(petition.deadline_at),
        "answered_at": iso(petition.answered_at),
        "outcome": petition.outcome or None,
        "answer_reasons": petition.answer_reasons or None,
        "amendment": petition.amendment_id,
    }


def _petition_or_404(petition_id: int) -> Petition:
    try:
        return petition_ops.petition_get(petition_id=petition_id)
    except Petition.DoesNotExist:
        raise Http404(f"There is no petition #{petition_id}.") from None


def _body(request: Request) -> dict[str, Any]:
    """The JSON object a write expects; a list or scalar body is a 400, not a 500."""
    if not isinstance(request.data, dict):
        raise ValidationError("Send a JSON object with the fields described.")
    return dict(request.data.items())


def _optional_int(raw: Any, field: str) -> int | None:
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise ValidationError({field: [f"Give {field} as a whole number."]}) from None


class AppealFileApi(APIView):
    """The post's author appeals a decision (no co-signers needed)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=AppealFileIn,
        responses={201: OBJECT},
        operation_id="appeal_file",
        summary="Appeal a decision on your post",
    )
    def post(self, request: Request, public_id: str) -> Response:
        data = _body(request)
        try:
            appeal = appeal_ops.appeal_file(
                appellant=request.user,
                public_id=public_id,
                statement=data.get("statement"),
            )
        except DecisionRecord.DoesNotExist:
            raise Http404(f"There is no decision record {public_id}.") from None
        return Response(_appeal_json(appeal), status=status.HTTP_201_CREATED)


class AppealDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses=OBJECT,
        operation_id="appeal_detail",
        summary="An appeal and its answer",
    )
    def get(self, request: Request, appeal_id: int) -> Response:
        return Response(_appeal_json(appeal_ops.appeal_get(appeal_id=appeal_id)))


class AppealAnswerApi(APIView):
    """A sitting board member upholds or overturns an appeal, with reasons."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=AnswerIn,
        responses=OBJECT,
        operation_id="appeal_answer",
        summary="Answer an appeal (board members)",
    )
    def post(self, request: Request, appeal_id: int) -> Response:
        data = _body(request)
        appeal = appeal_ops.appeal_answer(
            board_member=request.user,
            appeal_id=appeal_id,
            outcome=str(data.get("outcome", "")),
            reasons=data.get("reasons"),
        )
        return Response(_appeal_json(appeal))


class PetitionListApi(APIView):
    """GET: petitions (filters ?status= incl. 'overdue', ?target=); POST: file one."""

    def get_permissions(self) -> list[Any]:
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated()]

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, description="A state, or 'overdue'."),
            OpenApiParameter("target", str, description="decision | post | article"),
        ],
        responses=OBJECT,
        operation_id="petitions_list",
        summary="Petitions with the board's breach count",
    )
    def get(self, request: Request) -> Response:
        petition_ops.petitions_refresh()
        status_filter = request.query_params.get("status") or None
        target = request.query_params.get("target") or None
        if status_filter not in (None, "overdue", *PetitionStatus.values):
            raise ValidationError(
                {"status": ["Filter by 'overdue' or one of the petition states."]}
            )
        if target not in (None, *PetitionTarget.values):
            raise ValidationError({"target": ["Filter by decision, post or article."]})
        rows = petition_ops.petitions_list(status=status_filter, target=target)[:200]
        return Response(
            {
                "breaches": petition_ops.petition_breach_count(),
                "results": [_petition_json(p) for p in rows],
            }
        )

    @extend_schema(
        request=PetitionFileIn,
        responses={201: OBJECT},
        operation_id="petition_file",
        summary="File a petition",
    )
    def post(self, request: Request) -> Response:
        data = _body(request)
        petition = petition_ops.petition_file(
            author=request.user,
            target=str(data.get("target", "")),
            title=data.get("title"),
            text=data.get("text"),
            decision_id=data.get("decision"),
            post_id=_optional_int(data.get("post"), "post"),
            article=data.get("article"),
        )
        return Response(_petition_json(petition), status=status.HTTP_201_CREATED)


class PetitionDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses=OBJECT, operation_id="petition_detail", summary="One petition"
    )
    def get(self, request: Request, petition_id: int) -> Response:
        petition_ops.petitions_refresh(petition_ids=[petition_id])
        return Response(_petition_json(_petition_or_404(petition_id)))


class PetitionSignApi(APIView):
    """Co-sign: 201 once; 400 when signed already or closed; 429 on a burst."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={201: OBJECT},
        operation_id="petition_sign",
        summary="Co-sign a petition (429 on a burst)",
    )
    def post(self, request: Request, petition_id: int) -> Response:
        try:
            petition = petition_ops.petition_sign(
                signer=request.user, petition_id=petition_id
            )
        except Petition.DoesNotExist:
            raise Http404(f"There is no petition #{petition_id}.") from None
        except petition_ops.SignatureRateLimited as exc:
            raise Throttled(wait=exc.retry_after, detail=str(exc)) from None
        return Response(
            {"signature_count": petition.signature_count, "status": petition.status},
            status=status.HTTP_201_CREATED,
        )


class PetitionAnswerApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=AnswerIn,
        responses=OBJECT,
        operation_id="petition_answer",
        summary="Answer a petition (board members)",
    )
    def post(self, request: Request, petition_id: int) -> Response:
        data = _body(request)
        try:
            petition = petition_ops.petition_answer(
                board_member=request.user,
                petition_id=petition_id,
                outcome=str(data.get("outcome", "")),
                reasons=data.get("reasons"),
                amendment_id=_optional_int(data.get("amendment"), "amendment"),
            )
        except Petition.DoesNotExist:
            raise Http404(f"There is no petition #{petition_id}.") from None
        return Response(_petition_json(petition))


class ModerationDecideApi(APIView):
    """A moderator upholds (demote/label under an article) or dismisses a report."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=ModerationIn,
        responses={201: OBJECT},
        operation_id="moderation_decide",
        summary="Uphold or dismiss a report (moderators)",
    )
    def post(self, request: Request, report_id: int) -> Response:
        data = _body(request)
        action = moderation.moderation_decide(
            moderator=request.user,
            report_id=report_id,
            outcome=str(data.get("outcome", "")),
            article=str(data.get("article", "") or ""),
            reasons=data.get("reasons"),
        )
        return Response(
            {
                "outcome": action.outcome,
                "article": action.article or None,
                "decision": action.decision_record.public_id
                if action.decision_record
                else None,
                "ledger_index": action.ledger_index,
            },
            status=status.HTTP_201_CREATED,
        )


class ReportDailyApi(APIView):
    """Daily transparency aggregates (?days=N, default 30)."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[DAYS],
        responses=OBJECT,
        operation_id="transparency_report_daily",
        summary="Daily transparency aggregates",
    )
    def get(self, request: Request) -> Response:
        first, last = reports.report_range(days=request.query_params.get("days"))
        rows = reports.report_daily(first=first, last=last)
        return Response({"totals": reports.report_totals(rows), "days": rows})

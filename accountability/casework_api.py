"""REST API of decisions, appeals, petitions, moderation and reports (under /api/).

Views parse, call one selector or service, and serialise. Services raise
ValidationError / PermissionDenied / DoesNotExist, which the project's
exception handler turns into 400 / 403 / 404; a signature burst is a 429.
"""

from __future__ import annotations

from django.http import Http404
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .casework_models import DecisionRecord
from .decisions import decision_get, decision_replay, decision_statement


def _record_or_404(public_id: str) -> DecisionRecord:
    try:
        return decision_get(public_id=public_id)
    except DecisionRecord.DoesNotExist:
        raise Http404(f"There is no decision record {public_id}.") from None


class DecisionDetailApi(APIView):
    """A statement of reasons, in the DSA transparency database's field names."""

    permission_classes = [AllowAny]

    def get(self, request: Request, public_id: str) -> Response:
        return Response(decision_statement(_record_or_404(public_id)))


class DecisionReplayApi(APIView):
    """Recompute a decision with the ranker's code; 200 whether or not it matches."""

    permission_classes = [AllowAny]

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

"""REST API of the transparency log (mounted at /api/transparency/).

The same data as the public pages, in JSON and in the OpenAPI schema. Bad
query parameters raise ValidationError, which the project's exception handler
turns into a 400 with a message.
"""

from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors, signing
from .formats import (
    checkpoint_json,
    consistency_json,
    entry_json,
    inclusion_json,
    key_json,
)
from .models import LedgerEntry
from .params import int_param, log_range
from .views import JSONL_CONTENT_TYPE

BAD_REQUEST = OpenApiResponse(
    description="A parameter is missing, malformed or out of range."
)


class EntrySerializer(serializers.Serializer):
    index = serializers.IntegerField()
    time = serializers.CharField(help_text="RFC 3339 UTC time, as hashed.")
    kind = serializers.CharField()
    actor = serializers.CharField()
    subject = serializers.CharField()
    article = serializers.CharField(allow_null=True)
    payload = serializers.JSONField()
    leaf_hash = serializers.CharField(
        help_text="base64 SHA-256(0x00 || canonical JSON)"
    )

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return entry_json(instance) if isinstance(instance, LedgerEntry) else instance


class InclusionProofSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    size = serializers.IntegerField()
    leaf_hash = serializers.CharField()
    hashes = serializers.ListField(
        child=serializers.CharField(), help_text="base64, leaf side first"
    )
    # DRF's metaclass moves declared fields off the class, so this does not
    # shadow Field.root at runtime; only the stubs see a clash.
    root = serializers.CharField()  # type: ignore[assignment]


class ConsistencyProofSerializer(serializers.Serializer):
    first = serializers.IntegerField()
    second = serializers.IntegerField()
    first_root = serializers.CharField()
    second_root = serializers.CharField()
    hashes = serializers.ListField(child=serializers.CharField())


class CheckpointSerializer(serializers.Serializer):
    origin = serializers.CharField()
    size = serializers.IntegerField()
    root = serializers.CharField()  # type: ignore[assignment]
    note = serializers.CharField(help_text="The C2SP signed note, verbatim.")


class KeySerializer(serializers.Serializer):
    name = serializers.CharField()
    key_id = serializers.CharField(help_text="hex of the 4-byte signed-note key ID")
    algorithm = serializers.CharField()
    public_key = serializers.CharField(
        help_text="base64 of the raw 32-byte Ed25519 key"
    )
    verifier_key = serializers.CharField(help_text="name+keyid+base64(0x01 || key)")


class KeyHistorySerializer(serializers.Serializer):
    verifier_key = serializers.CharField(help_text="name+keyid+base64(0x01 || key)")
    from_size = serializers.IntegerField(help_text="first tree size it signs")
    until_size = serializers.IntegerField(
        allow_null=True,
        help_text="tree size at which it handed over to the next key; null if current",
    )


class EntryPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class EntryList(ListAPIView):
    """Entries of the transparency log, newest first, with optional filters."""

    permission_classes = [AllowAny]
    serializer_class = EntrySerializer
    pagination_class = EntryPagination

    def get_queryset(self) -> Any:
        query = self.request.query_params
        filters = {
            "text": query.get("q", "")[:200],
            "kind": query.get("kind", ""),
            "subject": query.get("subject", ""),
            "article": query.get("article", ""),
        }
        if not any(filters.values()):
            # Pages by index range: no COUNT(*) or OFFSET over the whole log.
            return selectors.ledger_newest_first()
        return selectors.ledger_search(**filters)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "q", str, description="text in the subject, actor or payload"
            ),
            OpenApiParameter("kind", str, description="an entry kind"),
            OpenApiParameter(
                "subject", str, description="exact subject, e.g. charter.version:3"
            ),
            OpenApiParameter("article", str, description="a charter article"),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class EntryDetail(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses={
            200: EntrySerializer,
            404: OpenApiResponse(description="No such entry."),
        }
    )
    def get(self, request: Request, index: int) -> Response:
        """One entry of the transparency log."""
        try:
            entry = selectors.ledger_entry_get(index=index)
        except LedgerEntry.DoesNotExist as exc:
            raise NotFound(f"The log has no entry {index}.") from exc
        return Response(EntrySerializer(entry).data)


class LogDownload(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="transparency_log_download",
        parameters=[
            OpenApiParameter("start", int, description="first index (default 0)"),
            OpenApiParameter(
                "end", int, description="index after the last (default: log size)"
            ),
        ],
        responses={
            (200, "application/jsonl"): OpenApiResponse(
                OpenApiTypes.STR,
                description="One entry per line: the canonical JSON that was hashed.",
            ),
            400: BAD_REQUEST,
        },
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        """The log (or a slice of it) as JSON Lines, streamed."""
        start, end = log_range(request.query_params, selectors.ledger_size())
        return StreamingHttpResponse(
            selectors.ledger_log_lines(start=start, end=end),
            content_type=JSONL_CONTENT_TYPE,
        )


class CheckpointView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter("size", int, description="a past tree size (default: now)")
        ],
        responses={200: CheckpointSerializer, 400: BAD_REQUEST},
    )
    def get(self, request: Request) -> Response:
        """The signed checkpoint (tree size and root) of the log."""
        if request.query_params.get("size"):
            signed = selectors.checkpoint_at(
                size=int_param(request.query_params, "size")
            )
        else:
            signed = selectors.checkpoint_latest()
        return Response(CheckpointSerializer(checkpoint_json(signed)).data)


class KeyView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: KeySerializer})
    def get(self, request: Request) -> Response:
        """The Ed25519 public key that signs checkpoints."""
        return Response(KeySerializer(key_json()).data)


class KeyHistoryView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: KeyHistorySerializer(many=True)})
    def get(self, request: Request) -> Response:
        """Every key that has signed checkpoints, oldest first; the last is current."""
        history = [
            {
                "verifier_key": past.verifier_key,
                "from_size": past.from_size,
                "until_size": past.until_size,
            }
            for past in signing.key_history()
        ]
        return Response(KeyHistorySerializer(history, many=True).data)


class InclusionProofView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "index", int, required=True, description="the entry's index"
            ),
            OpenApiParameter("size", int, description="tree size (default: now)"),
        ],
        responses={200: InclusionProofSerializer, 400: BAD_REQUEST},
    )
    def get(self, request: Request) -> Response:
        """RFC 9162 inclusion proof of one entry in the tree of a given size."""
        query = request.query_params
        size = int_param(query, "size", default=selectors.ledger_size())
        proof = selectors.inclusion_proof(index=int_param(query, "index"), size=size)
        return Response(InclusionProofSerializer(inclusion_json(proof)).data)


class ConsistencyProofView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "first", int, required=True, description="the older tree size"
            ),
            OpenApiParameter(
                "second", int, description="the newer tree size (default: now)"
            ),
        ],
        responses={200: ConsistencyProofSerializer, 400: BAD_REQUEST},
    )
    def get(self, request: Request) -> Response:
        """RFC 9162 proof that the first tree is a prefix of the second."""
        query = request.query_params
        second = int_param(query, "second", default=selectors.ledger_size())
        proof = selectors.consistency_proof(
            first=int_param(query, "first"), second=second
        )
        return Response(ConsistencyProofSerializer(consistency_json(proof)).data)

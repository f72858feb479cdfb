"""REST API of the ranking app (mounted under /api/, namespace "ranking_api").

The feed a person chose with its explanations, their feed preferences, "show
more / less like this", and the public signal registry and active models.
Views are thin: parse, call one service or selector, serialise.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from feed.api import ERRORS, FeedAPIView
from feed.serializers import PostSerializer
from ranking.feed import Explanation, feed_for, signal_descriptions
from ranking.models import FeedMode
from ranking.preferences import (
    feed_preference_get,
    feed_preference_set,
    item_feedback_clear,
    item_feedback_set,
)
from ranking.selectors import artefacts_active


def _errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: ERRORS[code] for code in codes}


class ReasonSerializer(serializers.Serializer):
    signal = serializers.CharField(help_text="Registry signal name ('' for overrides).")
    text = serializers.CharField(help_text="The reason in plain words.")
    article = serializers.CharField(help_text="Charter article behind the reason.")
    kind = serializers.ChoiceField(
        choices=["signal", "demotion", "placement", "override"]
    )


class ExplanationSerializer(serializers.Serializer):
    reasons = ReasonSerializer(many=True)
    notes = serializers.ListField(
        child=serializers.CharField(),
        help_text="What the ranker did not know (missing signals, groups).",
    )
    policy_version = serializers.IntegerField()
    model_versions = serializers.DictField(child=serializers.IntegerField())
    demoted = serializers.BooleanField()
    score = serializers.FloatField()


def explanation_data(ex: Explanation) -> dict[str, Any]:
    """`ExplanationSerializer`'s representation of `ex`, written directly: DRF's
    field-by-field walk over nested reasons cost ~0.3 ms per item, 30 times
    per page. The serializer stays the schema; a test keeps the two equal."""
    return {
        "reasons": [
            {
                "signal": str(r["signal"]),
                "text": str(r["text"]),
                "article": str(r["article"]),
                "kind": str(r["kind"]),
            }
            for r in ex.reasons
        ],
        "notes": [str(n) for n in ex.notes],
        "policy_version": int(ex.policy_version),
        "model_versions": {str(k): int(v) for k, v in ex.model_versions.items()},
        "demoted": bool(ex.demoted),
        "score": float(ex.score),
    }


class FeedItemSerializer(serializers.Serializer):
    post = PostSerializer()
    explanation = ExplanationSerializer(
        allow_null=True, help_text="Null in the chronological feed (no ranking)."
    )


class FeedPageSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=FeedMode.choices)
    results = FeedItemSerializer(many=True)
    next = serializers.CharField(
        allow_null=True, help_text="Cursor of the next page; null at the end."
    )
    caught_up = serializers.BooleanField(
        help_text="True when the charter's 'you're caught up' marker applies."
    )
    policy_version = serializers.IntegerField(allow_null=True)
    model_versions = serializers.DictField(child=serializers.IntegerField())
    notes = serializers.ListField(child=serializers.CharField())


class FeedPreferenceSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=FeedMode.choices, required=False)
    multipliers = serializers.DictField(
        child=serializers.FloatField(),
        required=False,
        help_text="Tuned-feed multipliers by signal, within the charter's "
        "user_controls bounds.",
    )


class FeedbackSerializer(serializers.Serializer):
    more = serializers.BooleanField(
        help_text="true: show more like this; false: show less like this."
    )


class FeedbackStateSerializer(serializers.Serializer):
    post_id = serializers.IntegerField()
    more = serializers.BooleanField(allow_null=True)


class SignalSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    low = serializers.FloatField()
    high = serializers.FloatField()
    version = serializers.CharField()
    viewer_dependent = serializers.BooleanField()


class ModelSerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.IntegerField()
    format = serializers.CharField()
    blob_sha256 = serializers.CharField()
    training_data_sha256 = serializers.CharField()
    metrics = serializers.DictField()
    parameters = serializers.DictField()
    activated_at = serializers.DateTimeField(allow_null=True)


class FeedView(FeedAPIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="feed_home",
        summary="The home feed the viewer chose, with reasons for each ranked item",
        parameters=[
            OpenApiParameter(
                "mode",
                str,
                enum=FeedMode.values,
                description="ranked (default), chronological or tuned; "
                "omit for the stored choice.",
            ),
            OpenApiParameter(
                "cursor", str, description="`next` from the previous page."
            ),
        ],
        responses={200: FeedPageSerializer, **_errors(400, 401)},
    )
    def get(self, request: Request) -> Response:
        viewer = self.me(request)
        page = feed_for(
            viewer=viewer,
            mode=request.query_params.get("mode") or None,
            cursor=request.query_params.get("cursor") or None,
        )
        # One serializer per page, not per item: a serializer deep-copies its
        # declared fields when first used, which per item was a large share
        # of the page's CPU.
        post_serializer = PostSerializer(context={"reactions": page.viewer_reactions})
        results = []
        for post in page.items:
            ex = page.explanations.get(post.id)
            results.append(
                {
                    "post": post_serializer.to_representation(post),
                    "explanation": explanation_data(ex) if ex else None,
                }
            )
        return Response(
            {
                "mode": page.mode,
                "results": results,
                "next": page.next_cursor,
                "caught_up": page.caught_up,
                "policy_version": page.policy_version,
                "model_versions": page.model_versions,
                "notes": page.notes,
            }
        )


class FeedPreferencesView(FeedAPIView):
    permission_classes = [IsAuthenticated]

    def _data(self, request: Request) -> dict[str, Any]:
        pref = feed_preference_get(user=self.me(request))
        return {"mode": pref.mode, "multipliers": dict(pref.multipliers or {})}

    @extend_schema(
        operation_id="feed_preferences_get",
        summary="Which feed the viewer chose, and their tuned-feed multipliers",
        responses={200: FeedPreferenceSerializer, **_errors(401)},
    )
    def get(self, request: Request) -> Response:
        return Response(self._data(request))

    @extend_schema(
        operation_id="feed_preferences_set",
        summary="Choose the feed and/or set the multipliers (within the charter)",
        request=FeedPreferenceSerializer,
        responses={200: FeedPreferenceSerializer, **_errors(400, 401)},
    )
    def put(self, request: Request) -> Response:
        # Validated by the service against the charter in force; the
        # serializer would coerce "lots" to a 400 without saying the bounds.
        data = request.data if isinstance(request.data, dict) else {}
        unknown = sorted(set(data) - {"mode", "multipliers"})
        if unknown or not data:
            raise ValidationError(
                "Send 'mode' and/or 'multipliers'"
                + (f"; unknown field(s): {', '.join(unknown)}." if unknown else ".")
            )
        mode = data.get("mode")
        if mode is not None and not isinstance(mode, str):
            mode = str(mode)
        feed_preference_set(
            user=self.me(request), mode=mode, multipliers=data.get("multipliers")
        )
        return Response(self._data(request))


class FeedbackView(FeedAPIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="post_feedback_set",
        summary="'Show more / less like this' on a post (affinity; likes never count)",
        request=FeedbackSerializer,
        responses={200: FeedbackStateSerializer, **_errors(400, 401, 404)},
    )
    def put(self, request: Request, post_id: int) -> Response:
        data = self.parse(FeedbackSerializer, request)
        fb = item_feedback_set(
            user=self.me(request), post_id=post_id, more=data["more"]
        )
        return Response({"post_id": fb.post_id, "more": fb.more})

    @extend_schema(
        operation_id="post_feedback_clear",
        summary="Withdraw 'show more / less like this' on a post",
        responses={204: None, **_errors(401)},
    )
    def delete(self, request: Request, post_id: int) -> Response:
        item_feedback_clear(user=self.me(request), post_id=post_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SignalsView(FeedAPIView):
    permission_classes: list[Any] = []

    @extend_schema(
        operation_id="ranking_signals",
        summary="The signal registry: every signal the ranker may weigh",
        responses={200: SignalSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        return Response(SignalSerializer(signal_descriptions(), many=True).data)


class ModelsView(FeedAPIView):
    permission_classes: list[Any] = []

    @extend_schema(
        operation_id="ranking_models",
        summary="Active model versions with their hashes and metrics",
        responses={200: ModelSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        return Response(ModelSerializer(artefacts_active(), many=True).data)

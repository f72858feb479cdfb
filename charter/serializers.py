"""Serializers of the charter API: output shapes, and input parsing only.

Validation of proposals lives in `charter.services`; these input serializers
only check types so a malformed request gets a field-level 400.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from .models import Amendment, AmendmentComment, BoardMembership, CharterVersion, Vote
from .plain import policy_plain_by_article


class ArticleSerializer(serializers.Serializer):
    number = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()


class CharterVersionSummarySerializer(serializers.ModelSerializer):
    # Null for the founding version, which no amendment produced.
    amendment: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True
    )

    class Meta:
        model = CharterVersion
        fields = [
            "number",
            "summary",
            "adopted_at",
            "effective_at",
            "policy_sha256",
            "amendment",
        ]


class CharterVersionSerializer(CharterVersionSummarySerializer):
    articles = serializers.SerializerMethodField()
    text_sha256 = serializers.SerializerMethodField()

    class Meta(CharterVersionSummarySerializer.Meta):
        fields = [
            *CharterVersionSummarySerializer.Meta.fields,
            "title",
            "preamble",
            "articles",
            "policy",
            "text_sha256",
        ]

    def get_articles(self, version: CharterVersion) -> list[dict[str, Any]]:
        """Each article with the policy rules it authorises, in plain words."""
        rules = policy_plain_by_article(version.policy)
        return [
            {
                "number": a.number,
                "title": a.title,
                "body": a.body,
                "rules": [item.text for item in rules.get(a.number, [])],
            }
            for a in version.articles.all()
        ]

    def get_text_sha256(self, version: CharterVersion) -> str:
        from .selectors import charter_text_sha256, charter_version_text

        return charter_text_sha256(charter_version_text(version))


class PolicyActiveSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    policy_sha256 = serializers.CharField()
    policy = serializers.JSONField()


class BoardTermSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")
    display_name = serializers.CharField(source="user.display_name")
    sitting = serializers.SerializerMethodField()

    class Meta:
        model = BoardMembership
        fields = ["username", "display_name", "role", "starts_at", "ends_at", "sitting"]

    def get_sitting(self, term: BoardMembership) -> bool:
        now = self.context["now"]
        return term.starts_at <= now and (term.ends_at is None or term.ends_at > now)


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username")

    class Meta:
        model = AmendmentComment
        fields = ["id", "author", "body", "created_at"]


class VoteSerializer(serializers.ModelSerializer):
    voter = serializers.CharField(source="voter.username")

    class Meta:
        model = Vote
        fields = ["voter", "choice", "cast_at", "updated_at"]


class AmendmentSummarySerializer(serializers.ModelSerializer):
    proposer = serializers.CharField(source="proposer.username")
    base_version = serializers.IntegerField(source="base_version.number")
    adopted_version = serializers.SerializerMethodField()

    class Meta:
        model = Amendment
        fields = [
            "id",
            "title",
            "status",
            "proposer",
            "base_version",
            "effective_at",
            "created_at",
            "voting_closes_at",
            "closed_at",
            "adopted_version",
        ]

    def get_adopted_version(self, amendment: Amendment) -> int | None:
        version = getattr(amendment, "adopted_version", None)
        return version.number if version else None


class AmendmentSerializer(AmendmentSummarySerializer):
    comments = CommentSerializer(many=True, read_only=True)
    votes = VoteSerializer(many=True, read_only=True)
    articles = ArticleSerializer(many=True, read_only=True)

    class Meta(AmendmentSummarySerializer.Meta):
        fields = [
            *AmendmentSummarySerializer.Meta.fields,
            "rationale",
            "text_title",
            "preamble",
            "articles",
            "policy",
            "policy_sha256",
            "deliberation_opened_at",
            "voting_opened_at",
            "yes_count",
            "no_count",
            "abstain_count",
            "electorate",
            "outcome",
            "comments",
            "votes",
        ]


class AmendmentProposeSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    rationale = serializers.CharField()
    text_title = serializers.CharField(max_length=200, required=False)
    preamble = serializers.CharField(required=False, allow_blank=True)
    articles = ArticleSerializer(many=True, required=False)
    policy = serializers.JSONField(required=False)
    effective_at = serializers.DateTimeField(required=False, allow_null=True)


class OpenVotingSerializer(serializers.Serializer):
    closes_at = serializers.DateTimeField(required=False, allow_null=True)


class CommentCreateSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=2000)


class VoteCastSerializer(serializers.Serializer):
    choice = serializers.ChoiceField(choices=["yes", "no", "abstain"])

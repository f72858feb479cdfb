"""Decision records and item overrides: idempotence, statements, ledger entries."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from accountability.casework_models import DecisionRecord, ItemOverride
from accountability.decisions import (
    decision_record_ensure,
    decision_rule_from_demotion,
    decision_statement,
    override_create,
    overrides_active_for,
)
from accountability.models import LedgerEntry
from feed.services import post_create
from tests.accountability.casework import DEMOTE_RULE

pytestmark = pytest.mark.django_db


def test_ensure_is_idempotent_per_post_rule_policy_and_models(
    demoted: Any, make_record: Any
) -> None:
    post, first = demoted
    again = make_record(post)
    assert again.pk == first.pk
    assert DecisionRecord.objects.count() == 1
    newer_model = make_record(post, model_versions={"incivility": 2})
    assert newer_model.pk != first.pk
    assert DecisionRecord.objects.count() == 2


def test_ensure_writes_no_ledger_entry_for_automated_demotions(
    active_charter: Any, author: Any, make_record: Any
) -> None:
    before = LedgerEntry.objects.count()
    make_record(post_create(author=author, body="rude words"))
    assert LedgerEntry.objects.count() == before


def test_public_ids_are_never_reused(author: Any, make_record: Any) -> None:
    ids = {
        make_record(post_create(author=author, body=f"text {i}")).public_id
        for i in range(5)
    }
    assert len(ids) == 5
    assert all(i.startswith("DR-") and len(i) == 35 for i in ids)


def test_database_refuses_a_duplicate_record(demoted: Any) -> None:
    _, record = demoted
    with pytest.raises(IntegrityError), transaction.atomic():
        DecisionRecord.objects.create(
            post_ref=record.post_ref,
            policy_version=record.policy_version,
            inputs_key=record.inputs_key,
            content_sha256="0" * 64,
            decision_visibility="DEMOTED",
            ground_article="1",
            facts="x",
            automated_detection=True,
            automated_decision=True,
            content_date=record.content_date,
            application_date=record.application_date,
            policy_sha256=record.policy_sha256,
            rule=record.rule,
            source="ranker",
        )


def test_statement_uses_dsa_field_names_and_plain_facts(demoted: Any) -> None:
    post, record = demoted
    statement = decision_statement(record)
    assert statement["decision_visibility"] == "DECISION_VISIBILITY_CONTENT_DEMOTED"
    assert statement["automated_detection"] == "Yes"
    assert statement["automated_decision"] == "AUTOMATED_DECISION_FULLY"
    assert statement["incompatible_content_ground"].endswith("Article 1")
    assert "0.93" in statement["decision_facts"]
    assert "0.85" in statement["decision_facts"]
    assert statement["post_id"] == post.pk


def test_record_survives_the_post(demoted: Any) -> None:
    post, record = demoted
    post_id = post.pk
    post.delete()
    record.refresh_from_db()
    assert record.post_id is None
    assert record.post_ref == post_id


def test_moderation_record_requires_a_moderator(demoted: Any, make_record: Any) -> None:
    post, _ = demoted
    with pytest.raises(ValidationError):
        make_record(post, source="moderation")


def test_rule_from_a_ranker_demotion_matches_the_stored_rule() -> None:
    from ranking.explain import Demotion

    assert (
        decision_rule_from_demotion(Demotion("demote", "incivility", 0.9, 0.85, "1"))
        == DEMOTE_RULE
    )


def test_override_is_logged_in_the_same_transaction(
    demoted: Any, board_member: Any
) -> None:
    post, record = demoted
    override = override_create(
        post_id=post.pk,
        effect="restore",
        reason="Quoting an insult to condemn it.",
        decided_by=board_member,
        article="1",
        decision_record=record,
    )
    entry = LedgerEntry.objects.get(index=override.ledger_index)
    assert entry.kind == "ranking.override"
    assert entry.subject == f"post:{post.pk}"
    assert entry.payload["effect"] == "restore"
    assert entry.payload["decision_record"] == record.public_id
    assert overrides_active_for(post_ids=[post.pk, 999_999]) == {post.pk: "restore"}


def test_new_override_replaces_the_active_one(demoted: Any, board_member: Any) -> None:
    post, _ = demoted
    first = override_create(
        post_id=post.pk, effect="restore", reason="a", decided_by=board_member
    )
    override_create(
        post_id=post.pk, effect="demote", reason="b", decided_by=board_member
    )
    first.refresh_from_db()
    assert first.revoked_at is not None
    assert overrides_active_for(post_ids=[post.pk]) == {post.pk: "demote"}
    assert ItemOverride.objects.filter(revoked_at__isnull=True).count() == 1


def test_the_machine_or_a_citizen_cannot_override(demoted: Any, author: Any) -> None:
    post, _ = demoted
    before = LedgerEntry.objects.count()
    with pytest.raises(PermissionDenied):
        override_create(
            post_id=post.pk, effect="restore", reason="x", decided_by=author
        )
    assert LedgerEntry.objects.count() == before
    assert not ItemOverride.objects.exists()


def test_override_with_bad_effect_is_refused(demoted: Any, board_member: Any) -> None:
    post, _ = demoted
    with pytest.raises(ValidationError, match="restore"):
        override_create(
            post_id=post.pk, effect="boost", reason="x", decided_by=board_member
        )


def test_ensure_for_a_missing_post_raises(active_charter: Any) -> None:
    from feed.models import Post

    with pytest.raises(Post.DoesNotExist):
        decision_record_ensure(
            post_id=123456,
            rule=DEMOTE_RULE,
            article="1",
            signal_values={},
            policy_version=1,
            policy_sha256="x",
            model_versions={},
        )


def test_recorded_decision_costs_one_query_and_overrides_one(
    demoted: Any, make_record: Any, django_assert_num_queries: Any
) -> None:
    post, record = demoted
    with django_assert_num_queries(1):
        assert make_record(post).pk == record.pk
    with django_assert_num_queries(1):
        overrides_active_for(post_ids=[post.pk, post.pk + 1])
    with django_assert_num_queries(0):
        assert overrides_active_for(post_ids=[]) == {}

"""Replaying decisions: the ranker's own code, the recorded policy and models."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from accountability.casework_models import DecisionRecord
from accountability.decisions import decision_replay

pytestmark = pytest.mark.django_db


def test_recorded_demotion_is_reproduced(demoted: Any) -> None:
    _, record = demoted
    result = decision_replay(record=record)
    assert result.reproduced, result.differences
    assert result.recomputed[0]["rule"] == record.rule


def test_tampered_signal_value_is_not_reproduced(demoted: Any) -> None:
    _, record = demoted
    DecisionRecord.objects.filter(pk=record.pk).update(
        signal_values={"incivility": 0.5}
    )
    record.refresh_from_db()
    result = decision_replay(record=record)
    assert not result.reproduced
    assert "does not demote" in result.differences[0]


def test_wrong_policy_hash_or_version_is_reported(demoted: Any) -> None:
    _, record = demoted
    DecisionRecord.objects.filter(pk=record.pk).update(policy_sha256="f" * 64)
    record.refresh_from_db()
    assert any("policy hash" in d for d in decision_replay(record=record).differences)
    DecisionRecord.objects.filter(pk=record.pk).update(policy_version=99)
    record.refresh_from_db()
    assert decision_replay(record=record).differences == [
        "charter version 99 does not exist"
    ]


def test_unstored_model_version_is_reported(demoted: Any, make_record: Any) -> None:
    post, _ = demoted
    record = make_record(post, model_versions={"incivility": 7})
    result = decision_replay(record=record)
    assert result.differences == ["model incivility v7 is not stored"]


def test_command_prints_reproduced(demoted: Any) -> None:
    _, record = demoted
    out = StringIO()
    call_command("replay_decision", record.public_id, stdout=out)
    assert out.getvalue().strip() == f"{record.public_id}: reproduced"


def test_command_exits_1_with_the_differences(demoted: Any) -> None:
    _, record = demoted
    DecisionRecord.objects.filter(pk=record.pk).update(
        signal_values={"incivility": 0.1}
    )
    out = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("replay_decision", record.public_id, stdout=out)
    assert exit_info.value.code == 1
    assert "not reproduced" in out.getvalue()
    assert "does not demote" in out.getvalue()


def test_replay_api(client: Any, demoted: Any) -> None:
    _, record = demoted
    response = client.get(f"/api/transparency/decisions/{record.public_id}/replay/")
    assert response.status_code == 200
    assert response.json()["reproduced"] is True
    assert client.get("/api/transparency/decisions/DR-nope/replay/").status_code == 404


def test_replay_touches_a_handful_of_queries(
    demoted: Any, django_assert_max_num_queries: Any
) -> None:
    _, record = demoted
    with django_assert_max_num_queries(3):
        decision_replay(record=record)
    assert connection.vendor in {"postgresql", "sqlite"}

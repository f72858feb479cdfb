"""The moderation queue: uphold under an article (a decision record) or dismiss."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accountability.casework_models import DecisionRecord
from accountability.decisions import decision_replay, overrides_active_for
from accountability.models import LedgerEntry
from accountability.moderation import (
    moderation_decide,
    moderation_log,
    moderation_queue,
)
from feed.models import Report
from feed.services import post_create, report_create
from ranking.selectors import incivility_moderation_texts

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(active_charter: Any, author: Any, make_user: Any) -> Report:
    post = post_create(author=author, body="Go away, you pathetic fool.")
    return report_create(
        reporter=make_user("reporter"), post_id=post.pk, reason="incivility"
    )


def test_uphold_demote_records_overrides_and_logs_without_the_reporter(
    report: Report, moderator: Any
) -> None:
    action = moderation_decide(
        moderator=moderator,
        report_id=report.pk,
        outcome="demote",
        article="1",
        reasons="A personal insult aimed at another citizen.",
    )
    report.refresh_from_db()
    assert report.status == "upheld"
    record = action.decision_record
    assert record.source == "moderation"
    assert record.moderator == moderator
    assert not record.automated_detection and not record.automated_decision
    assert record.facts == "A personal insult aimed at another citizen."
    assert overrides_active_for(post_ids=[report.post_id]) == {report.post_id: "demote"}
    entry = LedgerEntry.objects.get(index=action.ledger_index)
    assert entry.kind == "moderation.action"
    assert entry.article == "1"
    assert f"user:{report.reporter_id}" not in entry.body
    assert report.reporter.username not in entry.body
    assert "reporter" not in entry.body
    # Replay checks the inputs but says plainly there is nothing to recompute.
    assert "moderator" in decision_replay(record=record).differences[-1]


def test_upheld_and_dismissed_reports_become_training_labels(
    report: Report, moderator: Any, author: Any, make_user: Any
) -> None:
    other = report_create(
        reporter=make_user(),
        post_id=post_create(author=author, body="I disagree with the plan.").pk,
        reason="incivility",
    )
    moderation_decide(
        moderator=moderator,
        report_id=report.pk,
        outcome="label",
        article="1",
        reasons="insult",
    )
    moderation_decide(
        moderator=moderator, report_id=other.pk, outcome="dismiss", reasons="civil"
    )
    upheld, dismissed = incivility_moderation_texts()
    assert upheld == ["Go away, you pathetic fool."]
    assert dismissed == ["I disagree with the plan."]
    labelled = DecisionRecord.objects.get()
    assert labelled.decision_visibility == "LABELLED"
    assert overrides_active_for(post_ids=[report.post_id]) == {}


def test_only_moderators_decide(report: Report, author: Any) -> None:
    with pytest.raises(PermissionDenied):
        moderation_decide(
            moderator=author, report_id=report.pk, outcome="dismiss", reasons="r"
        )


def test_upholding_needs_an_existing_article_and_reasons(
    report: Report, moderator: Any
) -> None:
    with pytest.raises(ValidationError, match="article"):
        moderation_decide(
            moderator=moderator, report_id=report.pk, outcome="demote", reasons="r"
        )
    with pytest.raises(ValidationError, match="article"):
        moderation_decide(
            moderator=moderator,
            report_id=report.pk,
            outcome="demote",
            article="99",
            reasons="r",
        )
    with pytest.raises(ValidationError, match="reasons"):
        moderation_decide(
            moderator=moderator, report_id=report.pk, outcome="dismiss", reasons=""
        )
    report.refresh_from_db()
    assert report.status == "open"
    assert not LedgerEntry.objects.filter(kind="moderation.action").exists()


def test_a_report_is_decided_once(report: Report, moderator: Any) -> None:
    moderation_decide(
        moderator=moderator, report_id=report.pk, outcome="dismiss", reasons="fine"
    )
    with pytest.raises(ValidationError, match="already"):
        moderation_decide(
            moderator=moderator,
            report_id=report.pk,
            outcome="demote",
            article="1",
            reasons="r",
        )


def test_queue_lists_open_reports_and_the_public_log_decided_ones(
    report: Report, moderator: Any, django_assert_num_queries: Any
) -> None:
    assert list(moderation_queue()) == [report]
    moderation_decide(
        moderator=moderator,
        report_id=report.pk,
        outcome="label",
        article="1",
        reasons="insult",
    )
    assert list(moderation_queue()) == []
    with django_assert_num_queries(1):
        log = list(moderation_log())
        assert log[0].moderator.username == "moderator"

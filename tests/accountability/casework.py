"""Fixtures shared by the casework tests (decisions, appeals, petitions, moderation).

Imported by name into each test module: tests/accountability/conftest.py
belongs to the ledger tests.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone

from accountability.casework_models import DecisionRecord
from accountability.decisions import decision_record_ensure
from feed.models import Post, User
from feed.services import post_create

DEMOTE_RULE = {"kind": "demote", "signal": "incivility", "above": 0.85}


@pytest.fixture
def fresh_cache() -> None:
    """Signature rate limits count in the shared cache; each test starts at zero."""
    cache.clear()


@pytest.fixture
def board_member(make_user: Callable[..., User], active_charter: Any) -> User:
    """A citizen with a board term that started yesterday and has no end."""
    from charter.services import board_membership_grant

    user = make_user("boardmember")
    board_membership_grant(user=user, starts_at=timezone.now() - timedelta(days=1))
    return user


@pytest.fixture
def moderator(make_user: Callable[..., User]) -> User:
    return make_user("moderator", is_moderator=True)


@pytest.fixture
def make_record(active_charter: Any) -> Callable[..., DecisionRecord]:
    """Record the ranker's incivility demotion of `post` under the active policy."""

    def _record(post: Post, incivility: float = 0.93, **extra: Any) -> DecisionRecord:
        return decision_record_ensure(
            post_id=post.pk,
            rule=DEMOTE_RULE,
            article="1",
            signal_values={"incivility": incivility, "bridging": 0.1},
            policy_version=active_charter.number,
            policy_sha256=active_charter.policy_sha256,
            model_versions=extra.pop("model_versions", {}),
            **extra,
        )

    return _record


@pytest.fixture
def author(make_user: Callable[..., User]) -> User:
    return make_user("author")


@pytest.fixture
def demoted(
    author: User, make_record: Callable[..., DecisionRecord]
) -> tuple[Post, DecisionRecord]:
    """A post by `author` and the record of its automated demotion."""
    post = post_create(author=author, body="You are all idiots and liars.")
    return post, make_record(post)

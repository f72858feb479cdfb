"""Fixtures for the charter tests: a sitting board and a way to end a voting window."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from charter.models import Amendment
from charter.services import board_membership_grant


@pytest.fixture
def board(make_user: Any, active_charter: Any) -> list[Any]:
    """Three sitting board members (terms began yesterday, end in a year)."""
    now = timezone.now()
    members = [make_user(f"member{i}") for i in range(1, 4)]
    for member in members:
        board_membership_grant(
            user=member,
            starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=365),
        )
    return members


@pytest.fixture
def reweighted(active_charter: Any) -> dict[str, Any]:
    """The v1 policy with the bridging weight raised from 1.0 to 1.5."""
    policy = copy.deepcopy(active_charter.policy)
    for objective in policy["objectives"]:
        if objective["signal"] == "bridging":
            objective["weight"] = 1.5
    return policy


def end_voting_window(amendment: Amendment) -> None:
    """Move the window's end into the past, as if the week of voting had elapsed."""
    Amendment.objects.filter(pk=amendment.pk).update(
        voting_closes_at=timezone.now() - timedelta(seconds=1)
    )

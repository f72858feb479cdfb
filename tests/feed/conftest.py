"""Fixtures of the feed tests: token-authenticated clients and a post factory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from feed import services
from feed.models import Post, User


@pytest.fixture(autouse=True)
def clear_throttles() -> None:
    """Sign-in and sign-up throttles count in the cache; each test starts at zero."""
    cache.clear()


@pytest.fixture
def client_for(db: Any) -> Callable[[User], APIClient]:
    """An API client that authenticates as `user` with a real API token."""

    def _client(user: User) -> APIClient:
        token, _ = Token.objects.get_or_create(user=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return _client


@pytest.fixture
def make_post(db: Any) -> Callable[..., Post]:
    counter = {"n": 0}

    def _post(
        author: User, body: str | None = None, parent: Post | None = None
    ) -> Post:
        counter["n"] += 1
        return services.post_create(
            author=author,
            body=body or f"post number {counter['n']}",
            parent_id=parent.id if parent else None,
        )

    return _post

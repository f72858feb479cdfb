"""API token authentication: DRF's answers, one query, nothing remembered."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from charter_social.authentication import TokenAuthentication, token_user

pytestmark = pytest.mark.django_db


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_token_signs_in_its_owner_with_one_query(
    make_user: Any, django_assert_num_queries: Any
) -> None:
    alice = make_user("alice", display_name="Alice")
    token = Token.objects.create(user=alice)
    client = _client(token.key)
    # The token and its account in one join; /api/me/ adds its unread count.
    with django_assert_num_queries(2):
        response = client.get("/api/me/")
    assert response.status_code == 200
    assert response.json()["username"] == "alice"
    assert response.json()["display_name"] == "Alice"


def test_the_user_and_token_are_the_ones_the_orm_would_build(make_user: Any) -> None:
    alice = make_user("alice", bio="Gardens and buses.")
    token = Token.objects.create(user=alice)
    user = token_user(token.key)
    assert user is not None
    stored = type(alice).objects.get(pk=alice.pk)
    for field in type(alice)._meta.concrete_fields:
        assert getattr(user, field.attname) == getattr(stored, field.attname)
    assert token_user("0" * 40) is None


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Token " + "0" * 40, "Invalid token."),
        ("Token", "Invalid token header. No credentials provided."),
        ("Token a b", "Invalid token header. Token string should not contain spaces."),
    ],
)
def test_bad_tokens_get_drfs_401(api_client: APIClient, header: str, detail: str):
    response = api_client.get("/api/me/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["detail"] == detail
    assert response["WWW-Authenticate"] == "Token"


def test_deactivated_account_is_refused(make_user: Any) -> None:
    alice = make_user("alice")
    token = Token.objects.create(user=alice)
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    response = _client(token.key).get("/api/me/")
    assert response.status_code == 401
    assert response.json()["detail"] == "User inactive or deleted."


def test_revoked_token_stops_working_at_once(make_user: Any) -> None:
    alice = make_user("alice")
    token = Token.objects.create(user=alice)
    client = _client(token.key)
    assert client.get("/api/me/").status_code == 200
    assert client.delete("/api/auth/token/").status_code == 204
    assert client.get("/api/me/").status_code == 401


def test_request_auth_is_the_token_with_its_creation_time(make_user: Any) -> None:
    alice = make_user("alice")
    token = Token.objects.create(user=alice)
    user, auth = TokenAuthentication().authenticate_credentials(token.key)
    assert user == alice
    assert (auth.key, auth.user_id, auth.user) == (token.key, alice.pk, user)
    # Not read with the account; loads on first use, as a deferred field.
    assert auth.created == token.created

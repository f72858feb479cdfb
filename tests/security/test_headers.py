"""Security headers on pages, the API and errors; CSRF; cookies; odd ids.

`manage.py check --deploy` under production settings is checked by
tests/project/test_settings.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from charter_social.middleware import CONTENT_SECURITY_POLICY

pytestmark = pytest.mark.django_db


def _directives(policy: str) -> dict[str, str]:
    parts = (p.strip() for p in policy.split(";") if p.strip())
    return {p.split()[0]: p for p in parts}


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/login/",
        "/signup/",
        "/charter/",
        "/transparency/",
        "/api/timelines/public/",
        "/no-such-page/",
        "/api/posts/999999/",
    ],
)
def test_every_response_carries_the_security_headers(path: str) -> None:
    response = Client().get(path)
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


def test_content_security_policy_allows_no_inline_script_or_foreign_origin() -> None:
    directives = _directives(CONTENT_SECURITY_POLICY)
    assert directives["script-src"] == "script-src 'self'"
    assert directives["default-src"] == "default-src 'self'"
    assert directives["frame-ancestors"] == "frame-ancestors 'none'"
    assert directives["object-src"] == "object-src 'none'"
    assert "http" not in CONTENT_SECURITY_POLICY  # no CDN or other origin


def test_pages_carry_no_inline_script(make_user: Any) -> None:
    """script-src 'self' would block inline code; none may be relied on."""
    client = Client()
    client.force_login(make_user("alice"))
    for path in ("/", "/public/", "/settings/", "/charter/"):
        html = client.get(path).content.decode()
        for chunk in html.split("<script")[1:]:
            tag = chunk.split(">", 1)[0]
            assert "src=" in tag or 'type="application/json"' in tag, (path, tag)


def test_session_and_csrf_cookies_are_http_only_and_same_site(make_user: Any) -> None:
    make_user("alice")
    client = Client(enforce_csrf_checks=False)
    response = client.post(
        "/login/", {"username": "alice", "password": "correct-horse-42"}
    )
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"]
    assert cookie["samesite"].lower() == "lax"


def test_forms_refuse_a_post_without_the_csrf_token(make_user: Any) -> None:
    alice = make_user("alice")
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post("/posts/", {"body": "forged"}).status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/api/posts/12194885587832244224/like/",
        "/posts/12194885587832244224/",
        "/api/petitions/99999999999999999999/",
    ],
)
def test_an_id_beyond_64_bits_is_a_4xx_not_a_500(path: str, make_user: Any) -> None:
    """Found by the schemathesis run on SQLite (OverflowError binding the id)."""
    client = Client()
    client.force_login(make_user("alice"))
    for response in (client.get(path), client.delete(path)):
        assert 400 <= response.status_code < 500, response.status_code

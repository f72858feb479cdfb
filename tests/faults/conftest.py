"""Fixtures of the fault scenarios: a citizen with a token and a session."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def citizen(transactional_db: Any, make_user: Any) -> dict[str, Any]:
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from charter.services import charter_genesis

    charter_genesis()

    user = make_user("loadtester")
    token, _ = Token.objects.get_or_create(user=user)
    client = Client()
    client.force_login(user)
    return {
        "user": user,
        "token": token.key,
        "cookie": f"sessionid={client.cookies['sessionid'].value}",
    }

"""Schemathesis against the full OpenAPI schema (/api/schema/), in process.

Every operation gets a few generated requests, valid and invalid, sent through
the real Django stack (WSGI handler, middleware, DRF) against the test
database, signed in with a citizen's API token. A response must never be a
5xx, and must match the schema for its status code. The run is bounded
(FUZZ_EXAMPLES per operation, 4 by default) so it fits in CI time; raise it
locally to dig deeper: FUZZ_EXAMPLES=50 pytest tests/fuzz/test_api_schema.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.test import override_settings
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
PASSWORD = "correct-horse-42"


@pytest.fixture
def fuzz_world(transactional_db: Any, make_user: Any) -> Iterator[dict[str, Any]]:
    """A citizen with a token, a few posts and an active charter to aim at."""
    from charter.services import charter_genesis
    from feed.services import post_create

    charter_genesis()
    citizen = make_user("fuzzer")
    other = make_user("other")
    for n in range(3):
        post_create(author=other, body=f"post {n}")
    # Rate limits would turn most writes into 429s after a few examples.
    with override_settings(
        RATE_LIMITS={
            k: (10_000, 60)
            for k in (
                "post",
                "rate",
                "follow",
                "signup",
                "sign_in",
                "lockout_user",
                "lockout_address",
            )
        }
    ):
        yield {"user": citizen}


@pytest.fixture
def api_schema(fuzz_world: dict[str, Any]) -> Any:
    """The schema as the running app serves it (schemathesis' default generation
    modes: valid and invalid requests)."""
    return schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_never_fails_and_keeps_its_schema(
    case: Any, fuzz_world: dict[str, Any]
) -> None:
    from rest_framework.authtoken.models import Token

    # A generated DELETE /api/auth/token/ revokes the token; mint it again so
    # every case is sent signed in.
    token, _ = Token.objects.get_or_create(user=fuzz_world["user"])
    case.call_and_validate(
        headers={"Authorization": f"Token {token.key}"},
        checks=[not_a_server_error, response_schema_conformance],
    )

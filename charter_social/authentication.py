"""API token authentication: DRF's rules, with the lookup written once per process.

DRF's TokenAuthentication finds the key with
`Token.objects.select_related("user").get(key=...)`. The ORM compiles that
two-model join again on every request, and on a slow shared core the compiling
cost more than the database did (~1.5 ms of CPU per API request, measured with
bench/bench_endpoints.py). The lookup here is the same join as one raw query
whose SQL is built from the models' metadata the first time it is needed; the
header parsing, the messages and the inactive-account check are DRF's own.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connections, router
from django.utils.translation import gettext_lazy as _
from drf_spectacular.drainage import set_override
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token


def _column(field: Any) -> str:
    return str(field.get_attname_column()[1])


@cache
def _lookup_sql(alias: str) -> str:
    """SELECT every concrete column of the user, joined from the token key."""
    user_model = get_user_model()
    quote = connections[alias].ops.quote_name
    users = quote(user_model._meta.db_table)
    tokens = quote(Token._meta.db_table)
    columns = ", ".join(
        f"{users}.{quote(_column(field))}" for field in user_model._meta.concrete_fields
    )
    return (
        f"SELECT {columns} FROM {tokens} INNER JOIN {users} "
        f"ON {users}.{quote(_column(user_model._meta.pk))} = "
        f"{tokens}.{quote(_column(Token._meta.get_field('user')))} "
        f"WHERE {tokens}.{quote(_column(Token._meta.get_field('key')))} = %s"
    )


def token_user(key: str) -> Any | None:
    """The account that holds API token `key` (active or not), or None."""
    user_model = get_user_model()
    alias = router.db_for_read(user_model)
    sql = _lookup_sql(alias)
    # A raw queryset still runs the backends' value converters (SQLite's
    # datetimes and booleans), so the user is the same object the ORM builds.
    for user in user_model._default_manager.db_manager(alias).raw(sql, [key]):
        return user
    return None


class TokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>`, as DRF's, answering with DRF's messages."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        user = token_user(key)
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        # The token row itself is not read again: only its key and owner are
        # known here, and `created` loads on first access like a deferred field.
        token = Token.from_db(user._state.db, ["key", "user_id"], [key, user.pk])
        token.user = user
        return user, token


# The schema documents one "tokenAuth" scheme whichever of the two classes a
# view names (drf-spectacular's TokenScheme covers subclasses): same header,
# same keyword. Without this, every view still on DRF's class next to one on
# this class is reported as a component collision.
set_override(TokenAuthentication, "suppress_collision_warning", True)

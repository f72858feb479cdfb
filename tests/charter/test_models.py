"""Adopted versions cannot be changed by the ORM, by bulk queries or by raw SQL."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from charter.models import CharterArticle, CharterVersion, ImmutableError


def test_adopted_version_refuses_save(active_charter: Any) -> None:
    active_charter.summary = "rewritten history"
    with pytest.raises(ImmutableError):
        active_charter.save()
    assert CharterVersion.objects.get(number=1).summary != "rewritten history"


def test_adopted_version_refuses_delete(active_charter: Any) -> None:
    with pytest.raises(ImmutableError):
        active_charter.delete()
    with pytest.raises(ImmutableError):
        CharterVersion.objects.all().delete()
    assert CharterVersion.objects.filter(number=1).exists()


def test_bulk_update_is_refused(active_charter: Any) -> None:
    with pytest.raises(ImmutableError):
        CharterVersion.objects.filter(pk=active_charter.pk).update(policy={})
    with pytest.raises(ImmutableError):
        CharterArticle.objects.filter(version=active_charter).update(body="")


@pytest.mark.parametrize("table", ["charter_charterversion", "charter_charterarticle"])
def test_database_refuses_raw_update(active_charter: Any, table: str) -> None:
    column = "summary" if table == "charter_charterversion" else "body"
    with (
        pytest.raises(DatabaseError),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"UPDATE {table} SET {column} = 'tampered'")
    assert not CharterArticle.objects.filter(body="tampered").exists()
    assert not CharterVersion.objects.filter(summary="tampered").exists()

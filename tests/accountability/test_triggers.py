"""The database itself refuses to rewrite the ledger (PostgreSQL and SQLite)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from accountability.models import LedgerEntry, LedgerNode
from accountability.services import ledger_append

pytestmark = pytest.mark.django_db


def refused(statement: Callable[[], Any]) -> str:
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        statement()
    return str(excinfo.value)


def test_updating_an_entry_is_refused(fill_ledger: Callable[[int], Any]) -> None:
    fill_ledger(3)
    message = refused(
        lambda: LedgerEntry.objects.filter(index=1).update(payload={"n": 99})
    )
    assert "append-only" in message
    assert LedgerEntry.objects.get(index=1).payload["n"] == 1


def test_saving_a_changed_entry_is_refused(fill_ledger: Callable[[int], Any]) -> None:
    entry = fill_ledger(1)[0]
    entry.subject = "charter.version:999"
    assert "append-only" in refused(entry.save)


def test_deleting_entries_is_refused(fill_ledger: Callable[[int], Any]) -> None:
    fill_ledger(3)
    assert "append-only" in refused(
        lambda: LedgerEntry.objects.filter(index=2).delete()
    )
    assert "append-only" in refused(lambda: LedgerEntry.objects.all().delete())
    assert LedgerEntry.objects.count() == 3


def test_raw_sql_cannot_change_stored_subtrees(
    fill_ledger: Callable[[int], Any],
) -> None:
    fill_ledger(4)

    def raw(sql: str) -> Callable[[], None]:
        def run() -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql)

        return run

    assert "append-only" in refused(
        raw("UPDATE accountability_ledgernode SET level = 0")
    )
    assert "append-only" in refused(raw("DELETE FROM accountability_ledgernode"))
    assert "append-only" in refused(
        raw('DELETE FROM accountability_ledgerentry WHERE "index" = 3')
    )
    assert LedgerNode.objects.count() == 4 + 2 + 1


@pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="TRUNCATE is PostgreSQL's"
)
def test_truncate_is_refused_on_postgres(fill_ledger: Callable[[int], Any]) -> None:
    fill_ledger(1)

    def truncate() -> None:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE accountability_ledgerentry CASCADE")

    assert "append-only" in refused(truncate)


def test_appending_still_works_with_the_triggers_in_place() -> None:
    entry = ledger_append(
        kind="ranking.override", actor="user:1", subject="post:5", payload={}
    )
    assert entry.index == 0


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_ledger_and_keeps_the_triggers() -> None:
    ledger_append(
        kind="policy.activated", actor="system", subject="policy:1", payload={}
    )
    call_command("flush", interactive=False, verbosity=0)
    assert LedgerEntry.objects.count() == 0
    ledger_append(
        kind="policy.activated", actor="system", subject="policy:1", payload={}
    )
    assert "append-only" in refused(lambda: LedgerEntry.objects.all().delete())

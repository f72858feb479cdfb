"""Concurrent appends from many connections keep the log contiguous and valid."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from accountability.audit import ledger_audit
from accountability.models import LedgerEntry
from accountability.services import ledger_append

THREADS = 4
APPENDS_EACH = 15


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_get_contiguous_indices_and_a_valid_tree() -> None:
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def worker(number: int) -> None:
        try:
            start.wait()
            for i in range(APPENDS_EACH):
                # Each append commits on its own, interleaving with the others.
                with transaction.atomic():
                    ledger_append(
                        kind="moderation.action",
                        actor=f"user:{number}",
                        subject=f"post:{number * 100 + i}",
                        payload={"thread": number, "i": i},
                    )
        except BaseException as exc:  # reported to the main thread below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    indices = list(
        LedgerEntry.objects.order_by("index").values_list("index", flat=True)
    )
    assert indices == list(range(THREADS * APPENDS_EACH))
    subjects = set(LedgerEntry.objects.values_list("subject", flat=True))
    assert len(subjects) == THREADS * APPENDS_EACH
    result = ledger_audit()
    assert result.ok, result.message
    assert connection.vendor in {"postgresql", "sqlite"}

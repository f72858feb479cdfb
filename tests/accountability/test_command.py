"""manage.py verify_ledger passes on an honest ledger and fails loudly on tampering.

Tampering needs the append-only triggers out of the way first, as an
administrator with database access could do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accountability import selectors, signing
from accountability.db_triggers import triggers_install, triggers_remove
from accountability.models import LedgerEntry, LedgerNode, node_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_triggers() -> Iterator[None]:
    triggers_remove(connection)
    yield
    triggers_install(connection)


def verify(*args: str) -> str:
    out = StringIO()
    call_command("verify_ledger", *args, stdout=out)
    return out.getvalue()


def test_an_honest_ledger_verifies(fill_ledger: Callable[[int], Any]) -> None:
    fill_ledger(37)
    assert verify().startswith("OK ledger verified: 37 entries")


def test_an_empty_ledger_verifies() -> None:
    assert "0 entries" in verify()


def test_an_edited_payload_column_fails(
    fill_ledger: Callable[[int], Any], no_triggers: None
) -> None:
    fill_ledger(10)
    LedgerEntry.objects.filter(index=6).update(payload={"n": 600})
    with pytest.raises(CommandError, match=r"entry 6.*first bad index: 6"):
        verify()


def test_an_edited_body_and_leaf_hash_fail(
    fill_ledger: Callable[[int], Any], no_triggers: None
) -> None:
    fill_ledger(10)
    entry = LedgerEntry.objects.get(index=3)
    LedgerEntry.objects.filter(index=3).update(
        body=entry.body.replace('"n":3', '"n":4')
    )
    with pytest.raises(CommandError, match="first bad index: 3"):
        verify()


def test_a_deleted_entry_fails(
    fill_ledger: Callable[[int], Any], no_triggers: None
) -> None:
    fill_ledger(10)
    LedgerEntry.objects.filter(index=4).delete()
    with pytest.raises(CommandError, match="entry 4 is missing"):
        verify()


def test_a_deleted_last_entry_with_its_leaf_fails_on_the_subtrees(
    fill_ledger: Callable[[int], Any], no_triggers: None
) -> None:
    fill_ledger(10)
    LedgerEntry.objects.filter(index=9).delete()
    LedgerNode.objects.filter(key=node_key(0, 9)).delete()
    # The subtree over leaves 8-9 still commits to the deleted entry.
    with pytest.raises(CommandError, match=r"subtree \(1, 4\).*first bad index: 8"):
        verify()


def test_a_corrupted_stored_subtree_fails(
    fill_ledger: Callable[[int], Any], no_triggers: None
) -> None:
    fill_ledger(16)
    LedgerNode.objects.filter(key=node_key(2, 1)).update(hash=b"\x00" * 32)
    with pytest.raises(CommandError, match=r"subtree \(2, 1\).*first bad index: 4"):
        verify()


def test_previous_checkpoint_detects_rewritten_history(
    fill_ledger: Callable[[int], Any], no_triggers: None, tmp_path: Path
) -> None:
    fill_ledger(8)
    previous = tmp_path / "old"
    previous.write_text(selectors.checkpoint_at(size=5).note)
    assert "OK" in verify("--previous", str(previous))
    # Rewrite entry 2 consistently everywhere (body, leaf, subtrees, head), as a
    # careful attacker with the database would: only the kept checkpoint notices.
    from accountability.audit import ledger_audit
    from accountability.services import entry_document
    from accountability.verify import canonical_json, leaf_hash, node_hash

    entry = LedgerEntry.objects.get(index=2)
    body = canonical_json(
        entry_document(
            index=2,
            created_at=entry.created_at,
            kind=entry.kind,
            actor="user:0",
            subject=entry.subject,
            article=entry.article,
            payload=entry.payload,
        )
    )
    LedgerEntry.objects.filter(index=2).update(
        actor="user:0", body=body.decode(), leaf_hash=leaf_hash(body)
    )
    nodes = {(n.level, n.position): bytes(n.hash) for n in LedgerNode.objects.all()}
    nodes[(0, 2)] = leaf_hash(body)
    for level in (1, 2, 3):
        position = 2 >> level
        nodes[(level, position)] = node_hash(
            nodes[(level - 1, 2 * position)], nodes[(level - 1, 2 * position + 1)]
        )
        LedgerNode.objects.filter(key=node_key(level, position)).update(
            hash=nodes[(level, position)]
        )
    LedgerNode.objects.filter(key=node_key(0, 2)).update(hash=nodes[(0, 2)])
    assert ledger_audit().ok  # internally consistent now...
    with pytest.raises(CommandError, match="history was rewritten"):
        verify("--previous", str(previous))  # ...but not with what auditors kept


def test_a_previous_checkpoint_by_another_key_is_refused(
    fill_ledger: Callable[[int], Any], tmp_path: Path
) -> None:
    fill_ledger(3)
    note = selectors.checkpoint_latest().note
    forged = tmp_path / "forged"
    forged.write_text(note.replace(note.split("\n")[2], "A" * 43 + "="))
    with pytest.raises(CommandError, match="signature is not valid"):
        verify("--previous", str(forged))
    assert signing.key_name() in note

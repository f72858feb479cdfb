"""ledger_append and the proofs and roots read back from the stored subtrees."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from accountability import selectors
from accountability.kinds import ENTRY_KINDS
from accountability.models import LedgerEntry, LedgerNode
from accountability.services import ledger_append
from accountability.verify import (
    EMPTY_ROOT,
    canonical_json,
    leaf_hash,
    root_from_leaves,
    verify_consistency,
    verify_inclusion,
)

from .test_vectors import (
    assert_consistency_corruptions_fail,
    assert_inclusion_corruptions_fail,
)

pytestmark = pytest.mark.django_db

REQUIRED_KINDS = {
    "charter.version_adopted",
    "policy.activated",
    "amendment.proposed",
    "amendment.opened",
    "vote.closed",
    "model.activated",
    "petition.opened",
    "petition.threshold_reached",
    "petition.answered",
    "petition.overdue",
    "appeal.filed",
    "appeal.answered",
    "ranking.override",
    "moderation.action",
}


def test_registry_describes_every_required_kind_in_plain_words() -> None:
    assert ENTRY_KINDS.keys() >= REQUIRED_KINDS
    for kind in ENTRY_KINDS.values():
        assert len(kind.description) > 20 and kind.description.endswith(".")


def test_entries_get_contiguous_indices_from_zero_and_hash_their_canonical_json() -> (
    None
):
    first = ledger_append(
        kind="charter.version_adopted",
        actor="user:7",
        subject="charter.version:1",
        payload={"text_sha256": "ab" * 32, "title": "Ärticle ✓"},
        article="2",
    )
    second = ledger_append(
        kind="vote.closed",
        actor="system",
        subject="amendment:4",
        payload={"yes": 5, "no": 2},
    )
    assert (first.index, second.index) == (0, 1)
    document = json.loads(first.body)
    assert document == {
        "index": 0,
        "time": first.created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "kind": "charter.version_adopted",
        "actor": "user:7",
        "subject": "charter.version:1",
        "article": "2",
        "payload": {"text_sha256": "ab" * 32, "title": "Ärticle ✓"},
    }
    assert first.body.encode() == canonical_json(document)
    assert "Ärticle ✓" in first.body  # UTF-8, not \\u escapes
    assert bytes(first.leaf_hash) == leaf_hash(first.body.encode())
    assert selectors.ledger_size() == 2
    assert selectors.checkpoint_latest().root == root_from_leaves(
        [bytes(first.leaf_hash), bytes(second.leaf_hash)]
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "policy.changed_quietly"}, "kind"),
        ({"actor": ""}, "actor"),
        ({"subject": "   "}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"payload": ["not", "a", "dict"]}, "payload"),
        ({"payload": {"value": float("nan")}}, "payload"),
        ({"payload": {"when": object()}}, "payload"),
        ({"payload": {"text": "nul\x00byte"}}, "payload"),
        ({"article": ""}, "article"),
    ],
)
def test_bad_appends_are_refused_with_a_message_and_write_nothing(
    changes: dict[str, Any], field: str
) -> None:
    arguments: dict[str, Any] = {
        "kind": "policy.activated",
        "actor": "system",
        "subject": "policy:1",
        "payload": {},
    }
    arguments.update(changes)
    with pytest.raises(ValidationError) as excinfo:
        ledger_append(**arguments)
    assert field in excinfo.value.message_dict
    assert excinfo.value.message_dict[field][0]
    assert LedgerEntry.objects.count() == 0 and LedgerNode.objects.count() == 0


def test_unknown_kind_message_names_the_registry() -> None:
    with pytest.raises(ValidationError, match="accountability/kinds.py"):
        ledger_append(kind="nope", actor="system", subject="x:1", payload={})


def test_an_entry_rolls_back_with_the_callers_transaction() -> None:
    ledger_append(
        kind="policy.activated", actor="system", subject="policy:1", payload={}
    )
    root_before = selectors.checkpoint_latest().root

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        ledger_append(
            kind="policy.activated", actor="system", subject="policy:2", payload={}
        )
        raise Abort
    assert selectors.ledger_size() == 1
    assert LedgerNode.objects.count() == 1
    assert selectors.checkpoint_latest().root == root_before
    nxt = ledger_append(
        kind="policy.activated", actor="system", subject="policy:3", payload={}
    )
    assert nxt.index == 1


def test_tuples_and_nested_values_are_stored_as_they_were_hashed() -> None:
    entry = ledger_append(
        kind="model.activated",
        actor="system",
        subject="model:2",
        payload={
            "metrics": (0.25, 1e-7, 12345678901234567890),
            "z": {"b": 1, "a": [True, None]},
        },
    )
    entry.refresh_from_db()
    assert entry.payload == {
        "metrics": [0.25, 1e-7, 12345678901234567890],
        "z": {"a": [True, None], "b": 1},
    }
    assert canonical_json(json.loads(entry.body)) == entry.body.encode()


def test_empty_log_has_the_empty_root() -> None:
    assert selectors.ledger_size() == 0
    assert selectors.checkpoint_latest().root == EMPTY_ROOT
    assert selectors.tree_root(size=0) == EMPTY_ROOT


def test_every_root_and_proof_read_from_the_database_matches_a_full_recomputation(
    fill_ledger: Callable[[int], list[LedgerEntry]],
) -> None:
    entries = fill_ledger(21)
    leaves = [bytes(e.leaf_hash) for e in entries]
    roots = [root_from_leaves(leaves[:n]) for n in range(22)]
    for size in range(1, 22):
        assert selectors.tree_root(size=size) == roots[size]
        for index in range(size):
            proof = selectors.inclusion_proof(index=index, size=size)
            assert proof.root == roots[size] and proof.leaf_hash == leaves[index]
            verify_inclusion(
                index=index,
                size=size,
                leaf=leaves[index],
                proof=proof.hashes,
                root=roots[size],
            )
        for first in range(0, size + 1):
            consistency = selectors.consistency_proof(first=first, second=size)
            assert (consistency.first_root, consistency.second_root) == (
                roots[first],
                roots[size],
            )
            verify_consistency(
                first=first,
                second=size,
                first_root=roots[first],
                second_root=roots[size],
                proof=consistency.hashes,
            )


def test_corruption_matrix_on_proofs_served_from_the_database(
    fill_ledger: Callable[[int], list[LedgerEntry]],
) -> None:
    entries = fill_ledger(13)
    leaves = [bytes(e.leaf_hash) for e in entries]
    for size in (2, 5, 8, 13):
        for index in range(size):
            proof = selectors.inclusion_proof(index=index, size=size)
            assert_inclusion_corruptions_fail(
                index, size, leaves[index], proof.hashes, proof.root
            )
        for first in range(1, size):
            c = selectors.consistency_proof(first=first, second=size)
            assert_consistency_corruptions_fail(
                first, size, c.first_root, c.second_root, c.hashes
            )


def test_a_proof_costs_one_query_whatever_the_size(
    fill_ledger: Callable[[int], list[LedgerEntry]], django_assert_num_queries: Any
) -> None:
    fill_ledger(70)
    with django_assert_num_queries(1):  # one batch of stored subtrees
        selectors.inclusion_proof(index=33, size=70)
    with django_assert_num_queries(1):
        selectors.consistency_proof(first=37, second=69)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: selectors.inclusion_proof(index=-1, size=3), "index must be between"),
        (lambda: selectors.inclusion_proof(index=3, size=3), "index must be between"),
        (lambda: selectors.inclusion_proof(index=0, size=4), "only 3 entries"),
        (lambda: selectors.inclusion_proof(index=0, size=0), "at least 1"),
        (lambda: selectors.consistency_proof(first=3, second=2), "must not be larger"),
        (lambda: selectors.consistency_proof(first=-1, second=2), "0 or more"),
        (lambda: selectors.consistency_proof(first=1, second=9), "only 3 entries"),
        (lambda: selectors.tree_root(size=4), "only 3 entries"),
    ],
)
def test_out_of_range_proof_requests_raise_validation_errors(
    fill_ledger: Callable[[int], list[LedgerEntry]],
    call: Callable[[], Any],
    message: str,
) -> None:
    fill_ledger(3)
    with pytest.raises(ValidationError, match=message):
        call()


def test_an_append_costs_a_fixed_number_of_queries_whatever_the_size(
    fill_ledger: Callable[[int], list[LedgerEntry]], django_assert_num_queries: Any
) -> None:
    fill_ledger(127)  # the next append merges seven levels of subtrees
    # Inside the caller's transaction, no savepoint. PostgreSQL: lock with
    # size and frontier (one round trip), then one INSERT of the entry and its
    # eight subtrees. SQLite: last index, frontier, insert entry, insert subtrees.
    expected = 2 if connection.vendor == "postgresql" else 4
    with django_assert_num_queries(expected):
        entry = ledger_append(
            kind="policy.activated", actor="system", subject="p:1", payload={}
        )
    assert entry.index == 127
    assert LedgerNode.objects.filter(level=7).count() == 1

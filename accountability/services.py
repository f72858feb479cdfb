"""Writes to the transparency ledger. `ledger_append` is the only way in.

Other apps call it inside their own transaction so that a change and its log
entry commit together or not at all.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from .kinds import ENTRY_KINDS
from .models import NODE_POSITION_BITS, LedgerEntry, LedgerNode, node_key
from .tree import compact_range
from .verify import canonical_json, leaf_hash, node_hash

MAX_REFERENCE_LENGTH = 200
MAX_ARTICLE_LENGTH = 32


def rfc3339(moment: datetime) -> str:
    """UTC time with microseconds and a Z, the form hashed into every entry."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_document(
    *,
    index: int,
    created_at: datetime,
    kind: str,
    actor: str,
    subject: str,
    article: str | None,
    payload: dict[str, Any],
) -> dict[str, Any]:
    """The object whose canonical JSON is an entry's bytes in the Merkle tree."""
    return {
        "index": index,
        "time": rfc3339(created_at),
        "kind": kind,
        "actor": actor,
        "subject": subject,
        "article": article,
        "payload": payload,
    }


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(item) for item in value)
    return False


def _validate(
    *, kind: str, actor: str, subject: str, payload: Any, article: str | None
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    if kind not in ENTRY_KINDS:
        errors["kind"] = (
            f"'{kind}' is not a ledger entry kind; use one of "
            f"{', '.join(sorted(ENTRY_KINDS))} "
            "or register it in accountability/kinds.py."
        )
    for field, value in (("actor", actor), ("subject", subject)):
        if not isinstance(value, str) or not value.strip():
            errors[field] = f"Give the {field} as a non-empty string such as 'user:42'."
        elif len(value) > MAX_REFERENCE_LENGTH:
            errors[field] = f"Keep the {field} under {MAX_REFERENCE_LENGTH} characters."
    if article is not None and (
        not isinstance(article, str)
        or not article.strip()
        or len(article) > MAX_ARTICLE_LENGTH
    ):
        errors["article"] = (
            f"Give the charter article as a short string (at most {MAX_ARTICLE_LENGTH} "
            "characters), or None when no article applies."
        )
    normalised: dict[str, Any] = {}
    if not isinstance(payload, dict):
        errors["payload"] = "The payload must be a JSON object (a dict)."
    else:
        try:
            # Round-trip through the canonical form so the stored JSON is
            # exactly what was hashed (tuples become lists, no NaN, str keys).
            normalised = json.loads(canonical_json(payload))
        except (TypeError, ValueError) as exc:
            errors["payload"] = f"The payload must be JSON-serialisable: {exc}."
        else:
            if _contains_nul(normalised):
                # PostgreSQL's jsonb cannot hold a NUL character.
                errors["payload"] = "The payload must not contain NUL characters."
    if errors:
        raise ValidationError(errors)
    return normalised


# Key of the PostgreSQL advisory lock that serialises appends (any constant
# unique to this purpose; the ASCII of "ledger").
LEDGER_LOCK_KEY = 0x6C6564676572

_ENTRY_TABLE = LedgerEntry._meta.db_table
_NODE_TABLE = LedgerNode._meta.db_table

# The log's size and its frontier (the complete subtrees whose fold is the
# root) in one round trip. For a size n the frontier holds, for every set bit
# k of n, the node at level k and position (n >> k) - 1: one primary-key probe
# per set bit. No rows means an empty log; a NULL key, a missing subtree.
_PG_SIZE_AND_FRONTIER = f"""
SELECT s.n, f.key, f.hash
FROM (SELECT COALESCE(MAX("index") + 1, 0) AS n FROM {_ENTRY_TABLE}) AS s
CROSS JOIN generate_series(0, 62) AS k
LEFT JOIN {_NODE_TABLE} AS f
    ON f.key = (k::bigint << {NODE_POSITION_BITS}) | ((s.n >> k) - 1)
WHERE (s.n >> k) & 1 = 1
"""


def _lock_size_and_frontier() -> tuple[int, list[tuple[int, bytes]]]:
    """Take the append lock; return the log size and (level, hash) of its frontier.

    The frontier is listed highest level first; heights strictly fall, so a
    new leaf merges with the trailing equal ones.

    On PostgreSQL a transaction-scoped advisory lock serialises appends (it
    writes no row, so it leaves nothing to vacuum). READ COMMITTED takes a new
    snapshot per statement, so the read must be a statement after the lock's
    for it to see every append committed before the lock was granted; both go
    in one round trip as two statements of one simple query. SQLite
    serialises writers by itself (transactions begin IMMEDIATE) and reads in
    two queries (it has no generate_series). The unique index on `index` and
    the nodes' primary key back both.
    """
    stored: dict[int, bytes] = {}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # No parameters, so psycopg may send both statements at once.
            cursor.execute(
                f"SELECT pg_advisory_xact_lock({LEDGER_LOCK_KEY});"
                + _PG_SIZE_AND_FRONTIER
            )
            cursor.nextset()
            rows = cursor.fetchall()
        size = int(rows[0][0]) if rows else 0
        stored = {int(key): bytes(value) for _, key, value in rows if key is not None}
    else:
        last = (
            LedgerEntry.objects.order_by("-index")
            .values_list("index", flat=True)
            .first()
        )
        size = 0 if last is None else int(last) + 1
        if size:
            stored = {
                int(key): bytes(value)
                for key, value in LedgerNode.objects.filter(
                    key__in=[node_key(level, pos) for level, pos in compact_range(size)]
                ).values_list("key", "hash")
            }
    ids = compact_range(size)
    if len(stored) != len(ids):
        raise RuntimeError(
            f"the ledger's stored subtrees for size {size} are incomplete; "
            "run manage.py verify_ledger"
        )
    return size, [(level, stored[node_key(level, pos)]) for level, pos in ids]


def _insert(entry: LedgerEntry, nodes: list[tuple[int, int, bytes]]) -> None:
    """Insert the entry and its new subtrees (level, position, hash), setting entry.pk.

    PostgreSQL does it in one statement (the node insert rides in a
    data-modifying CTE, which always runs to completion); elsewhere the ORM
    inserts them in two.
    """
    if connection.vendor != "postgresql":
        entry.save(force_insert=True)
        LedgerNode.objects.bulk_create(
            [
                LedgerNode(key=node_key(lvl, pos), level=lvl, position=pos, hash=value)
                for lvl, pos, value in nodes
            ]
        )
        return
    values = ", ".join(["(%s, %s, %s, %s)"] * len(nodes))
    params: list[Any] = [
        item
        for lvl, pos, value in nodes
        for item in (node_key(lvl, pos), lvl, pos, value)
    ]
    params += [
        entry.index,
        entry.created_at,
        entry.kind,
        entry.actor,
        entry.subject,
        entry.article,
        canonical_json(entry.payload).decode("utf-8"),
        entry.body,
        entry.leaf_hash,
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH nodes AS (INSERT INTO {_NODE_TABLE} (key, level, position, hash) "
            f"VALUES {values}) "
            f'INSERT INTO {_ENTRY_TABLE} ("index", created_at, kind, actor, subject, '
            "article, payload, body, leaf_hash) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s) RETURNING id",
            params,
        )
        row = cursor.fetchone()
    assert row is not None  # RETURNING always yields the inserted row
    entry.pk = row[0]
    entry._state.adding = False
    entry._state.db = connection.alias


def ledger_append(
    *,
    kind: str,
    actor: str,
    subject: str,
    payload: dict[str, Any],
    article: str | None = None,
) -> LedgerEntry:
    """Append one entry to the transparency log and return it.

    Runs inside the caller's transaction when there is one (so the change it
    records and the entry commit together), or in its own otherwise. Concurrent
    appends are serialised by an advisory lock (PostgreSQL) or by
    SQLite's single writer, so indices stay contiguous from 0. The lock is
    held until the caller's transaction ends, so call this as late as possible
    in it. On PostgreSQL an append costs two round trips inside its
    transaction whatever the size of the log: the lock with a read of the size
    and frontier, then one INSERT of the entry and its new subtrees (hashed
    here, in Python).

    Raises ValidationError when the kind is not in accountability.kinds, the
    actor or subject is empty, or the payload is not a JSON object.
    """
    payload = _validate(
        kind=kind, actor=actor, subject=subject, payload=payload, article=article
    )
    # No savepoint inside a caller's transaction: an append that fails leaves
    # that transaction to be rolled back whole (the change and its entry commit
    # together or not at all), and saves two statements per append.
    with transaction.atomic(savepoint=False):
        index, frontier = _lock_size_and_frontier()
        created_at = timezone.now()
        body = canonical_json(
            entry_document(
                index=index,
                created_at=created_at,
                kind=kind,
                actor=actor,
                subject=subject,
                article=article,
                payload=payload,
            )
        )
        leaf = leaf_hash(body)
        # The leaf, then every subtree it completes by merging with the
        # trailing frontier nodes of equal height.
        new_nodes = [(0, index, leaf)]
        level, position, value = 0, index, leaf
        while frontier and frontier[-1][0] == level:
            _, left = frontier.pop()
            level, position, value = level + 1, position >> 1, node_hash(left, value)
            new_nodes.append((level, position, value))
        entry = LedgerEntry(
            index=index,
            created_at=created_at,
            kind=kind,
            actor=actor,
            subject=subject,
            article=article,
            payload=payload,
            body=body.decode("utf-8"),
            leaf_hash=leaf,
        )
        _insert(entry, new_nodes)
    return entry

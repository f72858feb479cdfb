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
from .models import LedgerEntry, LedgerNode, node_key
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


def _lock_and_size() -> int:
    """Take the append lock until the end of the transaction; return the log size.

    On PostgreSQL a transaction-scoped advisory lock serialises appends (it
    writes no row, so it leaves nothing to vacuum); READ COMMITTED takes a new
    snapshot per statement, so the size read after the lock includes every
    append committed before it. SQLite serialises writers by itself
    (transactions begin IMMEDIATE). The unique index on `index` backs both.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LEDGER_LOCK_KEY])
    last = (
        LedgerEntry.objects.order_by("-index").values_list("index", flat=True).first()
    )
    return 0 if last is None else int(last) + 1


def _frontier(size: int) -> list[tuple[int, int, bytes]]:
    """(level, position, hash) of the complete subtrees of the tree, left to right.

    Heights strictly fall, so a new leaf merges with the trailing equal ones.
    """
    ids = compact_range(size)
    if not ids:
        return []
    stored = {
        (node.level, node.position): bytes(node.hash)
        for node in LedgerNode.objects.filter(
            key__in=[node_key(level, pos) for level, pos in ids]
        )
    }
    if len(stored) != len(ids):
        raise RuntimeError(
            f"the ledger's stored subtrees for size {size} are incomplete; "
            "run manage.py verify_ledger"
        )
    return [(level, pos, stored[(level, pos)]) for level, pos in ids]


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
    in it. Costs a fixed
    handful of queries whatever the size of the log.

    Raises ValidationError when the kind is not in accountability.kinds, the
    actor or subject is empty, or the payload is not a JSON object.
    """
    payload = _validate(
        kind=kind, actor=actor, subject=subject, payload=payload, article=article
    )
    with transaction.atomic():
        index = _lock_and_size()
        frontier = _frontier(index)
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
        new_nodes = [
            LedgerNode(key=node_key(0, index), level=0, position=index, hash=leaf)
        ]
        level, position, value = 0, index, leaf
        while frontier and frontier[-1][0] == level:
            _, _, left = frontier.pop()
            level, position, value = level + 1, position >> 1, node_hash(left, value)
            new_nodes.append(
                LedgerNode(
                    key=node_key(level, position),
                    level=level,
                    position=position,
                    hash=value,
                )
            )

        entry = LedgerEntry.objects.create(
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
        LedgerNode.objects.bulk_create(new_nodes)
    return entry

"""Full check of the live ledger tables: what `manage.py verify_ledger` runs.

It repeats the offline verifier's work against the database and also checks
what only the database holds: that each stored body is the canonical form of
its row's columns and that every stored subtree hash is right. Reads stream in
index order; memory stays O(log n) apart from one chunk of rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .models import LedgerEntry, LedgerNode, node_key
from .selectors import tree_root
from .services import entry_document
from .verify import (
    Checkpoint,
    VerificationError,
    canonical_json,
    fold_compact_range,
    leaf_hash,
    node_hash,
)

CHUNK = 5000


@dataclass(frozen=True)
class AuditResult:
    ok: bool
    message: str
    size: int
    root: bytes
    first_bad_index: int | None = None


def _level_hashes(level: int) -> Iterator[tuple[int, bytes]]:
    """Stored (position, hash) of one level, in position order."""
    rows = (
        LedgerNode.objects.filter(
            key__gte=node_key(level, 0), key__lt=node_key(level + 1, 0)
        )
        .order_by("key")
        .values_list("position", "hash")
    )
    for position, value in rows.iterator(chunk_size=CHUNK):
        yield int(position), bytes(value)


def _check_entries() -> tuple[int, list[bytes]]:
    """Check every entry row and its level-0 node; return (count, compact range)."""
    stack: list[tuple[int, bytes]] = []
    count = 0
    rows = LedgerEntry.objects.order_by("index").values_list(
        "index",
        "created_at",
        "kind",
        "actor",
        "subject",
        "article",
        "payload",
        "body",
        "leaf_hash",
    )
    leaves = _level_hashes(0)
    for (
        index,
        created_at,
        kind,
        actor,
        subject,
        article,
        payload,
        body,
        stored_leaf,
    ) in rows.iterator(chunk_size=CHUNK):
        if index != count:
            raise VerificationError(
                f"entry {count} is missing (the next entry is numbered {index})", count
            )
        expected_body = canonical_json(
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
        if expected_body != body.encode("utf-8"):
            raise VerificationError(
                f"entry {index}'s columns no longer match the bytes that were hashed",
                index,
            )
        leaf = leaf_hash(expected_body)
        if bytes(stored_leaf) != leaf:
            raise VerificationError(f"entry {index}'s stored leaf hash is wrong", index)
        position, node_value = next(leaves, (None, b""))
        if position != index or node_value != leaf:
            raise VerificationError(
                f"the stored leaf node for entry {index} is wrong", index
            )
        height, value = 0, leaf
        while stack and stack[-1][0] == height:
            value = node_hash(stack.pop()[1], value)
            height += 1
        stack.append((height, value))
        count += 1
    if next(leaves, None) is not None:
        raise VerificationError(
            f"there are stored leaves beyond the {count} entries", count
        )
    return count, [value for _, value in stack]


def _check_interior(size: int) -> None:
    """Every stored interior node equals the hash of its two stored children."""
    level = 1
    while (1 << level) <= size:
        expected_count = size >> level
        children = _level_hashes(level - 1)
        seen = 0
        for position, value in _level_hashes(level):
            left = next(children, None)
            right = next(children, None)
            if position != seen or left is None or right is None:
                raise VerificationError(
                    f"stored subtree ({level}, {seen}) is missing or out of place",
                    seen << level,
                )
            if node_hash(left[1], right[1]) != value:
                raise VerificationError(
                    f"stored subtree ({level}, {position}) does not match its children",
                    position << level,
                )
            seen += 1
        if seen != expected_count:
            raise VerificationError(
                f"level {level} holds {seen} subtrees, expected {expected_count}",
                seen << level,
            )
        level += 1
    if LedgerNode.objects.filter(key__gte=node_key(level, 0)).exists():
        raise VerificationError(f"there are stored subtrees above level {level - 1}")


def ledger_audit(*, previous: Checkpoint | None = None) -> AuditResult:
    """Check the whole ledger in the database; never raises on a mismatch.

    With `previous` (an already signature-checked older checkpoint), also
    checks that the log still begins with the tree that checkpoint signed.
    """
    try:
        size, compact = _check_entries()
        root = fold_compact_range(compact)
        _check_interior(size)
        if tree_root(size=size) != root:
            raise VerificationError("the root served from the stored subtrees is wrong")
        if previous is not None:
            if previous.size > size:
                raise VerificationError(
                    f"the previous checkpoint has {previous.size} entries but the log "
                    f"only {size}: entries were removed",
                    size,
                )
            if tree_root(size=previous.size) != previous.root:
                raise VerificationError(
                    f"the first {previous.size} entries no longer match the previous "
                    "checkpoint: history was rewritten"
                )
    except VerificationError as exc:
        return AuditResult(False, str(exc), size=0, root=b"", first_bad_index=exc.index)
    return AuditResult(True, f"{size} entries, root {root.hex()}", size=size, root=root)

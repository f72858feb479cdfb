"""Reads of the transparency ledger: entries, roots, proofs and checkpoints.

Roots and proofs are computed from the stored complete subtrees (LedgerNode):
each needs one query reading O(log n) rows, whatever the size of the log.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from . import signing
from .models import LedgerEntry, LedgerNode, node_key
from .tree import (
    NodeId,
    Range,
    compact_range,
    consistency_ranges,
    inclusion_ranges,
    nodes_for,
    range_hash,
)
from .verify import EMPTY_ROOT


@dataclass(frozen=True)
class InclusionProof:
    index: int
    size: int
    leaf_hash: bytes
    hashes: list[bytes]
    root: bytes


@dataclass(frozen=True)
class ConsistencyProof:
    first: int
    second: int
    first_root: bytes
    second_root: bytes
    hashes: list[bytes]


@dataclass(frozen=True)
class SignedCheckpoint:
    size: int
    root: bytes
    note: str


def ledger_size() -> int:
    """Number of entries in the log (0 when nothing was ever appended)."""
    last = (
        LedgerEntry.objects.order_by("-index").values_list("index", flat=True).first()
    )
    return 0 if last is None else int(last) + 1


def ledger_entries(*, start: int = 0, end: int | None = None) -> QuerySet[LedgerEntry]:
    """Entries with start <= index < end (end None: to the last), in log order."""
    entries = LedgerEntry.objects.filter(index__gte=start)
    if end is not None:
        entries = entries.filter(index__lt=end)
    return entries.order_by("index")


def ledger_entry_get(*, index: int) -> LedgerEntry:
    """The entry at `index`; LedgerEntry.DoesNotExist when there is none."""
    return LedgerEntry.objects.get(index=index)


def ledger_search(
    *, text: str = "", kind: str = "", subject: str = "", article: str = ""
) -> QuerySet[LedgerEntry]:
    """Entries matching the transparency page's filters, newest first.

    `text` matches the subject or actor, or any text inside the payload.
    """
    entries = LedgerEntry.objects.all()
    if kind:
        entries = entries.filter(kind=kind)
    if subject:
        entries = entries.filter(subject=subject)
    if article:
        entries = entries.filter(article=article)
    if text:
        entries = entries.filter(
            Q(subject__icontains=text)
            | Q(actor__icontains=text)
            | Q(body__icontains=text)
        )
    return entries.order_by("-index")


class NewestFirst:
    """The whole log newest first, sliceable for a Paginator without OFFSET.

    Indices are contiguous, so the count is the size and a page is an index
    range: deep pages of a million-entry log cost the same as the first.
    """

    def __init__(self, size: int) -> None:
        self.size = size

    def count(self) -> int:
        return self.size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, window: slice) -> list[LedgerEntry]:
        start, stop, _ = window.indices(self.size)
        return list(
            ledger_entries(start=self.size - stop, end=self.size - start).order_by(
                "-index"
            )
        )


def ledger_newest_first() -> NewestFirst:
    """Every entry, newest first, for paging through the unfiltered log."""
    return NewestFirst(ledger_size())


def ledger_log_lines(*, start: int = 0, end: int | None = None) -> Iterator[bytes]:
    """The log as JSON Lines, one entry's hashed bytes per line, streamed in chunks."""
    bodies = ledger_entries(start=start, end=end).values_list("body", flat=True)
    for body in bodies.iterator(chunk_size=2000):
        yield body.encode("utf-8") + b"\n"


def _fetch_nodes(needed: set[NodeId], *, sizes: dict[str, int]) -> dict[NodeId, bytes]:
    """The stored subtrees in `needed`, in one query.

    Every complete subtree of the log is stored, so a missing one means a
    requested size is beyond the log (the caller's mistake, checked only on
    this path to keep proofs at one query) or, failing that, corruption.
    """
    rows = LedgerNode.objects.filter(
        key__in=[node_key(level, position) for level, position in needed]
    ).values_list("level", "position", "hash")
    stored = {(level, position): bytes(value) for level, position, value in rows}
    missing = needed - stored.keys()
    if missing:
        current = ledger_size()
        for name, value in sizes.items():
            _require_size(value, name, current)
        raise RuntimeError(
            f"the ledger is missing stored subtrees {sorted(missing)[:5]}; "
            "run manage.py verify_ledger"
        )
    return stored


def _root_from(size: int, stored: dict[NodeId, bytes]) -> bytes:
    return range_hash(0, size, stored) if size else EMPTY_ROOT


def _require_size(value: int, name: str, current: int | None = None) -> None:
    if value < 0:
        raise ValidationError({name: f"{name} must be 0 or more, not {value}."})
    if current is not None and value > current:
        raise ValidationError(
            {name: f"{name} is {value} but the log has only {current} entries."}
        )


def tree_root(*, size: int) -> bytes:
    """Root hash of the log's first `size` entries (ValidationError if too big)."""
    _require_size(size, "size")
    return _root_from(
        size, _fetch_nodes(set(compact_range(size)), sizes={"size": size})
    )


def inclusion_proof(*, index: int, size: int) -> InclusionProof:
    """RFC 9162 inclusion proof of entry `index` in the tree of `size` entries.

    One query. ValidationError (with a message for the caller) when index or
    size is out of range.
    """
    _require_size(size, "size")
    if size == 0:
        raise ValidationError(
            {"size": "size must be at least 1: the empty tree has no entries."}
        )
    if index < 0 or index >= size:
        message = f"index must be between 0 and {size - 1} for a tree of size {size}."
        raise ValidationError({"index": message})
    ranges: list[Range] = inclusion_ranges(index, size)
    stored = _fetch_nodes(
        nodes_for(ranges) | set(compact_range(size)) | {(0, index)},
        sizes={"size": size},
    )
    return InclusionProof(
        index=index,
        size=size,
        leaf_hash=stored[(0, index)],
        hashes=[range_hash(start, end, stored) for start, end in ranges],
        root=_root_from(size, stored),
    )


def consistency_proof(*, first: int, second: int) -> ConsistencyProof:
    """RFC 9162 consistency proof that tree `first` is a prefix of tree `second`.

    One query. ValidationError when a size is negative, beyond the log, or
    first > second.
    """
    _require_size(first, "first")
    _require_size(second, "second")
    if first > second:
        raise ValidationError(
            {"first": f"first ({first}) must not be larger than second ({second})."}
        )
    ranges = consistency_ranges(first, second)
    stored = _fetch_nodes(
        nodes_for(ranges) | set(compact_range(first)) | set(compact_range(second)),
        sizes={"second": second},
    )
    return ConsistencyProof(
        first=first,
        second=second,
        first_root=_root_from(first, stored),
        second_root=_root_from(second, stored),
        hashes=[range_hash(start, end, stored) for start, end in ranges],
    )


def checkpoint_latest() -> SignedCheckpoint:
    """A signed checkpoint of the log as it stands now."""
    size = ledger_size()
    root = tree_root(size=size)
    return SignedCheckpoint(
        size=size, root=root, note=signing.checkpoint_sign(size=size, root=root)
    )


def checkpoint_at(*, size: int) -> SignedCheckpoint:
    """A signed checkpoint of the log's first `size` entries (a past tree head)."""
    root = tree_root(size=size)
    return SignedCheckpoint(
        size=size, root=root, note=signing.checkpoint_sign(size=size, root=root)
    )

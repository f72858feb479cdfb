"""The transparency ledger: entries and stored Merkle subtrees.

`LedgerEntry` and `LedgerNode` are append-only: a trigger installed by the
migrations refuses UPDATE and DELETE on both, on PostgreSQL and SQLite. Nothing
is ever updated in place: the log's size is its last index plus one and its
root is folded from stored subtrees. (A single "tree head" row rewritten on
every append bloats on PostgreSQL whenever any long transaction on the server
holds back cleanup, and slows every append and proof with it.)

`LedgerNode` stores the hash of every complete, aligned subtree: the node at
(level k, position i) covers leaves [i * 2^k, (i + 1) * 2^k). Level 0 holds the
leaf hashes. Any RFC 9162 proof element is one such node or, at the right edge
of the tree, the fold of at most log2(n) of them, so proofs read O(log n) rows
and never rebuild the tree from the leaves.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

# A node's primary key packs (level, position) so a proof is one `pk IN (...)`
# lookup: positions stay below 2^48 (280 trillion entries), levels below 64.
NODE_POSITION_BITS = 48


def node_key(level: int, position: int) -> int:
    """Primary key of the stored subtree at (level, position)."""
    return (level << NODE_POSITION_BITS) | position


class LedgerEntry(models.Model):
    index = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField()
    kind = models.CharField(max_length=64, db_index=True)
    actor = models.CharField(max_length=200)
    subject = models.CharField(max_length=200, db_index=True)
    article = models.CharField(max_length=32, null=True, blank=True)
    payload = models.JSONField()
    # The exact bytes that were hashed (canonical JSON of index, time, kind,
    # actor, subject, article, payload); served verbatim in log.jsonl.
    body = models.TextField()
    leaf_hash = models.BinaryField(max_length=32)

    class Meta:
        ordering = ["index"]
        constraints = [
            models.CheckConstraint(
                condition=Q(index__gte=0), name="ledger_index_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.index} {self.kind} {self.subject}"


class LedgerNode(models.Model):
    key = models.BigIntegerField(primary_key=True)
    level = models.PositiveSmallIntegerField()
    position = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(level__lt=64) & Q(position__gte=0),
                name="ledger_node_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"node({self.level}, {self.position})"


# Casework models live in their own module (one job per file) and are
# registered in this app by importing them here.
from .casework_models import (  # noqa: E402, F401
    Appeal,
    DecisionRecord,
    FeedExposureAuthorDay,
    FeedExposureDay,
    ItemOverride,
    ModerationAction,
    Petition,
    PetitionSignature,
)

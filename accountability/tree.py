"""Which stored subtrees a root or a proof needs (pure arithmetic, no database).

Every hash in an RFC 9162 proof is the Merkle tree hash of a leaf range
[start, end). Inside a tree of size n such a range is either one complete
subtree aligned at a multiple of its size (stored as one LedgerNode) or, at the
right edge, a run of complete subtrees of falling size whose fold gives the
range's hash. These functions name the ranges and the stored nodes they need;
the selectors fetch those nodes in one query.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .verify import fold_compact_range, largest_power_of_two_below

Range = tuple[int, int]
NodeId = tuple[int, int]  # (level, position)


def range_nodes(start: int, end: int) -> list[NodeId]:
    """The complete aligned subtrees that tile [start, end), left to right.

    For the ranges that occur in RFC 9162 trees (start aligned to the largest
    power of two below end - start) their fold equals the range's tree hash.
    """
    nodes: list[NodeId] = []
    while start < end:
        level = (start & -start).bit_length() - 1 if start else 63
        while (1 << level) > end - start:
            level -= 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def compact_range(size: int) -> list[NodeId]:
    """The subtrees whose fold is the root of the tree of `size` leaves."""
    return range_nodes(0, size)


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """Ranges whose hashes form the RFC 9162 inclusion proof of leaf `index`."""
    ranges: list[Range] = []
    start, end = 0, size
    # Walk down from the root; proof elements are listed leaf-side first.
    while end - start > 1:
        split = start + largest_power_of_two_below(end - start)
        if index < split:
            ranges.append((split, end))
            end = split
        else:
            ranges.append((start, split))
            start = split
    ranges.reverse()
    return ranges


def consistency_ranges(first: int, second: int) -> list[Range]:
    """Ranges whose hashes form the RFC 9162 consistency proof from first to second.

    Empty when first == second or first == 0 (nothing to prove).
    """
    if first == 0 or first == second:
        return []
    ranges: list[Range] = []
    start, end, m, complete = 0, second, first, True
    # SUBPROOF(m, D[start:end], complete), unrolled; elements are collected
    # root-side first and reversed at the end.
    while m != end - start:
        k = largest_power_of_two_below(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            m -= k
            complete = False
    if not complete:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


def nodes_for(ranges: Sequence[Range]) -> set[NodeId]:
    """Every stored node needed to hash the given ranges."""
    needed: set[NodeId] = set()
    for start, end in ranges:
        needed.update(range_nodes(start, end))
    return needed


def range_hash(start: int, end: int, stored: Mapping[NodeId, bytes]) -> bytes:
    """Tree hash of [start, end) from the stored nodes (KeyError if one is missing)."""
    return fold_compact_range([stored[node] for node in range_nodes(start, end)])

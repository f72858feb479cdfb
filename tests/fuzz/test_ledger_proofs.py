"""Property tests of the ledger's proofs (hypothesis), beyond the fixed vectors.

tests/accountability/test_vectors.py checks RFC 9162 vectors on small trees;
these draw tree sizes and indices at random (up to 300 leaves, so every shape
of right edge occurs) and check that the proofs the server would build verify,
and that any single corrupted byte, a wrong index or a wrong size is refused.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accountability.tree import consistency_ranges, inclusion_ranges
from accountability.verify import (
    VerificationError,
    leaf_hash,
    root_from_leaves,
    verify_consistency,
    verify_inclusion,
)

MAX_SIZE = 300


def _leaves(n: int) -> list[bytes]:
    return [leaf_hash(hashlib.sha256(str(i).encode()).digest()) for i in range(n)]


LEAVES = _leaves(MAX_SIZE)


def _proof(ranges: list[tuple[int, int]]) -> list[bytes]:
    # For the ranges RFC 9162 proofs use, a range's hash is the tree hash of
    # its leaves, computed here from scratch (independent of the stored nodes).
    return [root_from_leaves(LEAVES[start:end]) for start, end in ranges]


sizes = st.integers(min_value=1, max_value=MAX_SIZE)


@st.composite
def index_and_size(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(sizes)
    return draw(st.integers(min_value=0, max_value=size - 1)), size


@st.composite
def two_sizes(draw: st.DrawFn) -> tuple[int, int]:
    second = draw(sizes)
    return draw(st.integers(min_value=1, max_value=second)), second


def _flip(proof: list[bytes], element: int, byte: int) -> list[bytes]:
    corrupted = list(proof)
    value = bytearray(corrupted[element])
    value[byte] ^= 0x01
    corrupted[element] = bytes(value)
    return corrupted


@settings(max_examples=200, deadline=None)
@given(index_and_size(), st.data())
def test_inclusion_proofs_verify_and_corruption_is_refused(
    case: tuple[int, int], data: st.DataObject
) -> None:
    index, size = case
    root = root_from_leaves(LEAVES[:size])
    proof = _proof(inclusion_ranges(index, size))
    verify_inclusion(index=index, size=size, leaf=LEAVES[index], proof=proof, root=root)
    if proof:
        element = data.draw(st.integers(0, len(proof) - 1))
        byte = data.draw(st.integers(0, 31))
        with pytest.raises(VerificationError):
            verify_inclusion(
                index=index,
                size=size,
                leaf=LEAVES[index],
                proof=_flip(proof, element, byte),
                root=root,
            )
    other = data.draw(st.integers(0, size - 1))
    if LEAVES[other] != LEAVES[index]:
        with pytest.raises(VerificationError):
            verify_inclusion(
                index=index, size=size, leaf=LEAVES[other], proof=proof, root=root
            )
    with pytest.raises(VerificationError):
        verify_inclusion(
            index=index, size=size, leaf=LEAVES[index], proof=proof + [root], root=root
        )


@settings(max_examples=200, deadline=None)
@given(two_sizes(), st.data())
def test_consistency_proofs_verify_and_corruption_is_refused(
    case: tuple[int, int], data: st.DataObject
) -> None:
    first, second = case
    first_root = root_from_leaves(LEAVES[:first])
    second_root = root_from_leaves(LEAVES[:second])
    proof = _proof(consistency_ranges(first, second))
    verify_consistency(
        first=first,
        second=second,
        first_root=first_root,
        second_root=second_root,
        proof=proof,
    )
    if proof:
        element = data.draw(st.integers(0, len(proof) - 1))
        byte = data.draw(st.integers(0, 31))
        with pytest.raises(VerificationError):
            verify_consistency(
                first=first,
                second=second,
                first_root=first_root,
                second_root=second_root,
                proof=_flip(proof, element, byte),
            )
    if first < second:
        # A history rewritten anywhere before `first` is caught.
        rewritten = list(LEAVES[:second])
        victim = data.draw(st.integers(0, first - 1))
        rewritten[victim] = leaf_hash(b"rewritten")
        with pytest.raises(VerificationError):
            verify_consistency(
                first=first,
                second=second,
                first_root=first_root,
                second_root=root_from_leaves(rewritten),
                proof=proof,
            )

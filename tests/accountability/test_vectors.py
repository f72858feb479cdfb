"""RFC 6962 / 9162 known-answer vectors and the proof corruption matrix (no database).

The vectors are the 8-leaf tree used by Certificate Transparency's reference
implementations (transparency-dev/merkle, testonly/constants.go and
proof/verify_test.go): leaf inputs, every complete subtree hash, the roots
of all prefixes, and known inclusion and consistency proofs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pytest

from accountability.tree import (
    compact_range,
    consistency_ranges,
    inclusion_ranges,
    nodes_for,
    range_hash,
)
from accountability.verify import (
    EMPTY_ROOT,
    VerificationError,
    leaf_hash,
    node_hash,
    root_from_leaves,
    verify_consistency,
    verify_inclusion,
)

h = bytes.fromhex

LEAF_INPUTS = [
    h(""),
    h("00"),
    h("10"),
    h("2021"),
    h("3031"),
    h("40414243"),
    h("5051525354555657"),
    h("606162636465666768696a6b6c6d6e6f"),
]
NODE_HASHES = [
    [
        h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
        h("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
        h("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
        h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        h("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
        h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
        h("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
    ],
    [
        h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
        h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
        h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
    ],
    [
        h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    ],
    [h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")],
]
ROOTS = [  # by tree size, from the empty tree to all 8 leaves
    h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]
# (leaf index, tree size, proof); the reference lists indices 1-based.
INCLUSION_VECTORS = [
    (
        0,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        5,
        8,
        [
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (2, 3, [h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        1,
        5,
        [
            h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
]
CONSISTENCY_VECTORS = [
    (1, 1, []),
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")

# Every complete subtree, keyed (level, position) as LedgerNode stores them.
STORED = {
    (level, position): value
    for level, row in enumerate(NODE_HASHES)
    for position, value in enumerate(row)
}


def fails(check: Callable[[], None]) -> bool:
    try:
        check()
    except VerificationError:
        return True
    return False


def test_leaf_and_node_hashes_match_the_reference_tree() -> None:
    assert [leaf_hash(data) for data in LEAF_INPUTS] == NODE_HASHES[0]
    for level in range(1, 4):
        below = NODE_HASHES[level - 1]
        assert NODE_HASHES[level] == [
            node_hash(below[2 * i], below[2 * i + 1]) for i in range(len(below) // 2)
        ]


def test_roots_of_every_prefix_match_the_reference() -> None:
    leaves = NODE_HASHES[0]
    assert ROOTS[0] == EMPTY_ROOT
    for size in range(0, 9):
        assert root_from_leaves(leaves[:size]) == ROOTS[size]


def test_roots_from_stored_subtrees_match_the_reference() -> None:
    for size in range(1, 9):
        assert range_hash(0, size, STORED) == ROOTS[size]
        assert set(compact_range(size)) <= STORED.keys()


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
def test_inclusion_proofs_from_stored_subtrees_match_the_vectors(
    index: int, size: int, proof: list[bytes]
) -> None:
    ranges = inclusion_ranges(index, size)
    assert [range_hash(start, end, STORED) for start, end in ranges] == proof
    verify_inclusion(
        index=index,
        size=size,
        leaf=NODE_HASHES[0][index],
        proof=proof,
        root=ROOTS[size],
    )


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY_VECTORS)
def test_consistency_proofs_from_stored_subtrees_match_the_vectors(
    first: int, second: int, proof: list[bytes]
) -> None:
    ranges = consistency_ranges(first, second)
    assert [range_hash(start, end, STORED) for start, end in ranges] == proof
    verify_consistency(
        first=first,
        second=second,
        first_root=ROOTS[first],
        second_root=ROOTS[second],
        proof=proof,
    )


def test_every_inclusion_and_consistency_proof_of_the_8_leaf_tree_verifies() -> None:
    for size in range(1, 9):
        for index in range(size):
            proof = [range_hash(a, b, STORED) for a, b in inclusion_ranges(index, size)]
            verify_inclusion(
                index=index,
                size=size,
                leaf=NODE_HASHES[0][index],
                proof=proof,
                root=ROOTS[size],
            )
        for first in range(0, size + 1):
            proof = [
                range_hash(a, b, STORED) for a, b in consistency_ranges(first, size)
            ]
            verify_consistency(
                first=first,
                second=size,
                first_root=ROOTS[first],
                second_root=ROOTS[size],
                proof=proof,
            )


# Wrong sizes are probed as in the reference (doubled, halved): a size one off
# can give a tree of the same shape, where the proof legitimately computes the
# same root. What binds a root to its size is the signed checkpoint, whose
# signature covers both (tested in test_verifier.py).


def inclusion_corruptions(
    index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes
) -> dict[str, tuple[int, int, bytes, list[bytes], bytes]]:
    probes = {
        "index - 1": (index - 1, size, leaf, proof, root),
        "index + 1": (index + 1, size, leaf, proof, root),
        "index ^ 2": (index ^ 2, size, leaf, proof, root),
        "size * 2": (index, size * 2, leaf, proof, root),
        "size / 2": (index, size // 2, leaf, proof, root),
        "wrong leaf": (index, size, leaf_hash(b"WrongLeaf"), proof, root),
        "empty root": (index, size, leaf, proof, EMPTY_ROOT),
        "random root": (index, size, leaf, proof, SOME_HASH),
        "trailing garbage": (index, size, leaf, [*proof, b""], root),
        "trailing root": (index, size, leaf, [*proof, root], root),
        "preceding garbage": (index, size, leaf, [b"", *proof], root),
        "preceding root": (index, size, leaf, [root, *proof], root),
    }
    for i in range(len(proof)):
        for bit in (0, 3, 7):
            flipped = list(proof)
            flipped[i] = bytes([proof[i][0] ^ (1 << bit)]) + proof[i][1:]
            probes[f"proof[{i}] bit {bit}"] = (index, size, leaf, flipped, root)
        probes[f"proof[{i}] removed"] = (
            index,
            size,
            leaf,
            proof[:i] + proof[i + 1 :],
            root,
        )
        probes[f"hash inserted before proof[{i}]"] = (
            index,
            size,
            leaf,
            [*proof[:i], SOME_HASH, *proof[i:]],
            root,
        )
    probes["hash appended"] = (index, size, leaf, [*proof, SOME_HASH], root)
    return probes


def consistency_corruptions(
    first: int, second: int, root1: bytes, root2: bytes, proof: list[bytes]
) -> dict[str, tuple[int, int, bytes, bytes, list[bytes]]]:
    probes = {
        "first - 1": (first - 1, second, root1, root2, proof),
        "first + 1": (first + 1, second, root1, root2, proof),
        "first ^ 2": (first ^ 2, second, root1, root2, proof),
        "second * 2": (first, second * 2, root1, root2, proof),
        "second / 2": (first, second // 2, root1, root2, proof),
        "wrong root1": (first, second, SOME_HASH, root2, proof),
        "wrong root2": (first, second, root1, SOME_HASH, proof),
        "swapped roots": (first, second, root2, root1, proof),
        "empty proof": (first, second, root1, root2, []),
        "trailing garbage": (first, second, root1, root2, [*proof, b""]),
        "trailing root1": (first, second, root1, root2, [*proof, root1]),
        "trailing root2": (first, second, root1, root2, [*proof, root2]),
        "preceding garbage": (first, second, root1, root2, [b"", *proof]),
        "preceding root1": (first, second, root1, root2, [root1, *proof]),
        "preceding root2": (first, second, root1, root2, [root2, *proof]),
        "preceding proof[0]": (first, second, root1, root2, [proof[0], *proof]),
    }
    for i in range(len(proof)):
        for bit in (0, 4, 7):
            flipped = list(proof)
            flipped[i] = bytes([proof[i][0] ^ (1 << bit)]) + proof[i][1:]
            probes[f"proof[{i}] bit {bit}"] = (first, second, root1, root2, flipped)
        probes[f"proof[{i}] removed"] = (
            first,
            second,
            root1,
            root2,
            proof[:i] + proof[i + 1 :],
        )
        probes[f"hash inserted before proof[{i}]"] = (
            first,
            second,
            root1,
            root2,
            [*proof[:i], SOME_HASH, *proof[i:]],
        )
    probes["hash appended"] = (first, second, root1, root2, [*proof, SOME_HASH])
    return probes


def assert_inclusion_corruptions_fail(
    index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes
) -> None:
    verify_inclusion(index=index, size=size, leaf=leaf, proof=proof, root=root)
    accepted = [
        name
        for name, (i, n, lf, p, r) in inclusion_corruptions(
            index, size, leaf, proof, root
        ).items()
        if not fails(
            partial(verify_inclusion, index=i, size=n, leaf=lf, proof=p, root=r)
        )
    ]
    assert accepted == [], f"corrupted inclusion proofs accepted: {accepted}"


def assert_consistency_corruptions_fail(
    first: int, second: int, root1: bytes, root2: bytes, proof: list[bytes]
) -> None:
    verify_consistency(
        first=first, second=second, first_root=root1, second_root=root2, proof=proof
    )
    accepted = [
        name
        for name, (m, n, r1, r2, p) in consistency_corruptions(
            first, second, root1, root2, proof
        ).items()
        if not fails(
            partial(
                verify_consistency,
                first=m,
                second=n,
                first_root=r1,
                second_root=r2,
                proof=p,
            )
        )
    ]
    assert accepted == [], f"corrupted consistency proofs accepted: {accepted}"


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
def test_every_corruption_of_a_vector_inclusion_proof_fails(
    index: int, size: int, proof: list[bytes]
) -> None:
    assert_inclusion_corruptions_fail(
        index, size, NODE_HASHES[0][index], proof, ROOTS[size]
    )


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY_VECTORS[1:])
def test_every_corruption_of_a_vector_consistency_proof_fails(
    first: int, second: int, proof: list[bytes]
) -> None:
    assert_consistency_corruptions_fail(
        first, second, ROOTS[first], ROOTS[second], proof
    )


def test_trivial_consistency_cases_follow_the_reference() -> None:
    # Equal sizes need equal roots and an empty proof; size 0 is a prefix of anything.
    verify_consistency(
        first=0, second=0, first_root=EMPTY_ROOT, second_root=EMPTY_ROOT, proof=[]
    )
    verify_consistency(
        first=0, second=5, first_root=EMPTY_ROOT, second_root=ROOTS[5], proof=[]
    )
    verify_consistency(
        first=3, second=3, first_root=ROOTS[3], second_root=ROOTS[3], proof=[]
    )
    assert fails(
        lambda: verify_consistency(
            first=1, second=1, first_root=ROOTS[1], second_root=ROOTS[2], proof=[]
        )
    )
    assert fails(
        lambda: verify_consistency(
            first=1,
            second=1,
            first_root=ROOTS[1],
            second_root=ROOTS[1],
            proof=[EMPTY_ROOT],
        )
    )
    assert fails(
        lambda: verify_consistency(
            first=0,
            second=1,
            first_root=EMPTY_ROOT,
            second_root=ROOTS[1],
            proof=[EMPTY_ROOT],
        )
    )
    assert fails(
        lambda: verify_consistency(
            first=2, second=1, first_root=ROOTS[2], second_root=ROOTS[1], proof=[]
        )
    )
    assert fails(
        lambda: verify_consistency(
            first=1, second=2, first_root=ROOTS[1], second_root=ROOTS[2], proof=[]
        )
    )


def test_inclusion_in_impossible_trees_fails() -> None:
    for index, size in ((0, 0), (1, 0), (2, 1), (-1, 4)):
        assert fails(
            partial(
                verify_inclusion,
                index=index,
                size=size,
                leaf=SOME_HASH,
                proof=[],
                root=EMPTY_ROOT,
            )
        )
    single = leaf_hash(b"data")
    verify_inclusion(index=0, size=1, leaf=single, proof=[], root=single)
    assert fails(
        lambda: verify_inclusion(index=0, size=1, leaf=b"", proof=[], root=single)
    )


@pytest.mark.parametrize(
    "size", [1, 2, 3, 7, 8, 9, 100, 1000, 1024, 1025, 10**6, 2**40 + 3]
)
def test_proofs_need_logarithmically_many_stored_nodes(size: int) -> None:
    bound = 2 * size.bit_length() + 2
    for index in {0, size // 3, size // 2, size - 1}:
        needed = nodes_for(inclusion_ranges(index, size)) | set(compact_range(size))
        assert len(needed) <= bound
    for first in {1, size // 3, size // 2, size - 1} - {0}:
        needed = nodes_for(consistency_ranges(first, size))
        assert len(needed) <= bound + size.bit_length()

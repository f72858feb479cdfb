"""Offline verifier for the Charter Social transparency log.

Run it with nothing but the downloaded files:

    python verify.py --log log.jsonl --checkpoint checkpoint --key key
    python verify.py ... --previous OLD_CHECKPOINT   # also prove append-only
    python verify.py ... --key old-key --key new-key   # across a key rotation
    python verify.py ... --key keys                    # /transparency/keys

(or `python -m accountability.verify ...` inside the project). It needs the
Python standard library and the `cryptography` package, nothing else: this file
imports nothing from the project, so an auditor can fetch it on its own from
/transparency/verify.py and read every line of it.

What it checks:

* every line of the log is one entry, numbered 0, 1, 2, ... without gaps;
* the Merkle tree root over all entries (RFC 9162 hashing: leaf =
  SHA-256(0x00 || canonical JSON), node = SHA-256(0x01 || left || right))
  equals the root in the checkpoint, and the log is exactly as long as the
  checkpoint says;
* the checkpoint (a C2SP signed note) carries a valid Ed25519 signature by a
  trusted key: every --key you give (a file may hold several keys, one a line;
  lines starting with # are comments), so that after a key rotation the
  current and the retired keys are all trusted, and a signature line naming a
  trusted key but failing to verify is an error;
* with --previous: the older checkpoint is signed by a trusted key (perhaps a
  retired one) and its tree is a prefix of the new one (its root is recomputed
  from the same entries).

It exits 0 and prints one line starting with "OK" only if all of that holds;
otherwise it prints one line starting with "FAIL" (naming the first bad index
where there is one) and exits 1. Unusable input (missing file, bad arguments)
exits 2.

The same module holds the hashing and proof-checking functions the server uses,
so the server and the auditor can never disagree about what a hash means.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
# C2SP signed-note signature type byte for Ed25519.
ED25519_ALG = 0x01
SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space start every signature line

ENTRY_FIELDS = ("actor", "article", "index", "kind", "payload", "subject", "time")


class VerificationError(Exception):
    """Something in the log, a proof or a checkpoint does not hold."""

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index


# Hashing ----------------------------------------------------------------------------


def canonical_json(value: Any) -> bytes:
    """Canonical bytes: sorted keys, UTF-8, no insignificant whitespace, no NaN."""
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    ).encode("utf-8")


def leaf_hash(entry_bytes: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || entry)."""
    return hashlib.sha256(b"\x00" + entry_bytes).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaves(leaves: Sequence[bytes]) -> bytes:
    """Merkle tree hash of a list of leaf hashes, in O(n) time and O(log n) memory.

    Keeps the stack of complete subtrees of the prefix read so far (the
    "compact range"); this equals the recursive RFC 9162 definition.
    """
    stack: list[tuple[int, bytes]] = []  # (height, hash), heights strictly falling
    for leaf in leaves:
        height, value = 0, leaf
        while stack and stack[-1][0] == height:
            _, left = stack.pop()
            value = node_hash(left, value)
            height += 1
        stack.append((height, value))
    return fold_compact_range([value for _, value in stack])


def fold_compact_range(hashes: Sequence[bytes]) -> bytes:
    """Root of a tree given the hashes of its complete subtrees, left to right."""
    if not hashes:
        return EMPTY_ROOT
    value = hashes[-1]
    for left in reversed(hashes[:-1]):
        value = node_hash(left, value)
    return value


# Proof verification (RFC 9162 sections 2.1.3.2 and 2.1.4.2) ------------------------


def verify_inclusion(
    *, index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise VerificationError unless `proof` shows leaf `index` is in the tree."""
    if index < 0 or size <= 0 or index >= size:
        raise VerificationError(f"index {index} is outside a tree of size {size}")
    if any(len(p) != HASH_SIZE for p in proof):
        raise VerificationError("every proof element must be a 32-byte hash")
    fn, sn = index, size - 1
    value = leaf
    for sibling in proof:
        if sn == 0:
            raise VerificationError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            value = node_hash(sibling, value)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            value = node_hash(value, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("the inclusion proof is too short")
    if value != root:
        raise VerificationError("the inclusion proof does not lead to the root")


def verify_consistency(
    *,
    first: int,
    second: int,
    first_root: bytes,
    second_root: bytes,
    proof: Sequence[bytes],
) -> None:
    """Raise VerificationError unless `proof` shows tree `first` prefixes `second`."""
    if first < 0 or second < first:
        raise VerificationError(f"sizes {first} and {second} are not in order")
    if any(len(p) != HASH_SIZE for p in proof):
        raise VerificationError("every proof element must be a 32-byte hash")
    if first == second:
        if proof:
            raise VerificationError("trees of equal size need an empty proof")
        if first_root != second_root:
            raise VerificationError("two trees of the same size have different roots")
        return
    if first == 0:
        if proof:
            raise VerificationError(
                "consistency with the empty tree needs an empty proof"
            )
        return
    if not proof:
        raise VerificationError("the consistency proof is empty")
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two: its root is a subtree
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerificationError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("the consistency proof is too short")
    if fr != first_root:
        raise VerificationError("the consistency proof does not lead to the first root")
    if sr != second_root:
        raise VerificationError(
            "the consistency proof does not lead to the second root"
        )


# Signed notes (C2SP signed-note) and checkpoints (C2SP tlog-checkpoint) ------------


def key_id(name: str, public_key: bytes) -> bytes:
    """C2SP signed-note key ID: SHA-256(name || 0x0A || 0x01 || key)[:4]."""
    return hashlib.sha256(
        name.encode("utf-8") + b"\n" + bytes([ED25519_ALG]) + public_key
    ).digest()[:4]


def verifier_key_encode(name: str, public_key: bytes) -> str:
    """The note verifier key: `<name>+<hex key ID>+<base64(0x01 || public key)>`."""
    encoded = base64.b64encode(bytes([ED25519_ALG]) + public_key).decode("ascii")
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


@dataclass(frozen=True)
class VerifierKey:
    name: str
    key_id: bytes
    public_key: bytes


def verifier_key_parse(text: str) -> VerifierKey:
    """Parse a note verifier key, checking that its key ID matches the key."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise VerificationError("the key is not in the form name+keyid+base64key")
    name, hex_id, encoded = parts
    try:
        raw = base64.b64decode(encoded, validate=True)
        declared_id = bytes.fromhex(hex_id)
    except ValueError as exc:
        raise VerificationError(f"the key is not valid: {exc}") from exc
    if len(raw) != 33 or raw[0] != ED25519_ALG:
        raise VerificationError("the key is not an Ed25519 note verifier key")
    public_key = raw[1:]
    if declared_id != key_id(name, public_key):
        raise VerificationError("the key ID does not match the key")
    return VerifierKey(name=name, key_id=declared_id, public_key=public_key)


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    body: str  # the signed text: origin, size and root lines, each ending in \n


def checkpoint_body(*, origin: str, size: int, root: bytes) -> str:
    """The signed text of a checkpoint (C2SP tlog-checkpoint)."""
    return f"{origin}\n{size}\n{base64.b64encode(root).decode('ascii')}\n"


def note_signature_line(*, name: str, key_id_bytes: bytes, signature: bytes) -> str:
    """One signed-note signature line, ending in a newline."""
    encoded = base64.b64encode(key_id_bytes + signature).decode("ascii")
    return f"{SIGNATURE_PREFIX}{name} {encoded}\n"


def checkpoint_open(note: str, key: VerifierKey) -> Checkpoint:
    """Check a signed checkpoint note against `key` and return what it states.

    Raises VerificationError if the note is malformed or carries no valid
    signature by `key`.
    """
    if "\n\n" not in note:
        raise VerificationError("the checkpoint has no signature block")
    body, _, signatures = note.partition("\n\n")
    body += "\n"
    signed = False
    for line in signatures.splitlines():
        if not line.startswith(SIGNATURE_PREFIX):
            raise VerificationError("the checkpoint has a malformed signature line")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except ValueError as exc:
            raise VerificationError("a checkpoint signature is not base64") from exc
        if name != key.name or raw[:4] != key.key_id:
            continue  # a signature by some other key (e.g. a witness): not ours
        try:
            Ed25519PublicKey.from_public_bytes(key.public_key).verify(
                raw[4:], body.encode("utf-8")
            )
        except InvalidSignature as exc:
            raise VerificationError("the checkpoint signature is not valid") from exc
        signed = True
    if not signed:
        raise VerificationError(f"the checkpoint is not signed by the key {key.name}")
    lines = body.split("\n")[:-1]
    if len(lines) < 3:
        raise VerificationError("the checkpoint body needs origin, size and root lines")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not size_text.isdigit() or (len(size_text) > 1 and size_text[0] == "0"):
        raise VerificationError("the checkpoint size is not a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except ValueError as exc:
        raise VerificationError("the checkpoint root is not base64") from exc
    if len(root) != HASH_SIZE:
        raise VerificationError("the checkpoint root is not a 32-byte hash")
    return Checkpoint(origin=origin, size=int(size_text), root=root, body=body)


def verifier_keys_parse(text: str) -> list[VerifierKey]:
    """Parse one or more verifier keys, one a line; blank and # lines are skipped."""
    keys = [
        verifier_key_parse(line)
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not keys:
        raise VerificationError("no verifier key was given")
    return keys


def checkpoint_open_trusted(
    note: str, keys: Sequence[VerifierKey]
) -> tuple[Checkpoint, VerifierKey]:
    """Check a checkpoint against several trusted keys; return it and its signer.

    Passes if at least one trusted key signed it. A signature line that names a
    trusted key and does not verify fails the whole note: that is a forgery
    attempt, not someone else's signature.
    """
    opened: tuple[Checkpoint, VerifierKey] | None = None
    for key in keys:
        try:
            checkpoint = checkpoint_open(note, key)
        except VerificationError as exc:
            if str(exc).startswith("the checkpoint is not signed by the key"):
                continue
            raise
        if opened is None:
            opened = (checkpoint, key)
    if opened is None:
        if len(keys) == 1:
            raise VerificationError(
                f"the checkpoint is not signed by the key {keys[0].name}"
            )
        names = ", ".join(f"{k.name}+{k.key_id.hex()}" for k in keys)
        raise VerificationError(
            f"the checkpoint is not signed by any trusted key ({names})"
        )
    return opened


# The log ----------------------------------------------------------------------------


def entry_leaf_hash(entry: dict[str, Any]) -> bytes:
    """Leaf hash of one log entry (the canonical JSON of its fields)."""
    return leaf_hash(canonical_json(entry))


def log_leaf_hashes(lines: Iterable[bytes]) -> Iterable[bytes]:
    """Leaf hashes of a JSON Lines log, checking every entry's shape and index."""
    expected = 0
    for raw in lines:
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw)
        except ValueError as exc:
            raise VerificationError(
                f"entry {expected} is not valid JSON", expected
            ) from exc
        if not isinstance(entry, dict) or tuple(sorted(entry)) != ENTRY_FIELDS:
            raise VerificationError(
                f"entry {expected} does not have exactly the fields "
                f"{', '.join(ENTRY_FIELDS)}",
                expected,
            )
        if type(entry["index"]) is not int or entry["index"] != expected:
            raise VerificationError(
                f"entry {expected} is numbered {entry['index']!r}: an entry is "
                "missing, duplicated or out of order",
                expected,
            )
        yield entry_leaf_hash(entry)
        expected += 1


@dataclass(frozen=True)
class Verdict:
    ok: bool
    message: str
    first_bad_index: int | None = None

    def line(self) -> str:
        if self.ok:
            return f"OK {self.message}"
        where = (
            ""
            if self.first_bad_index is None
            else f" (first bad index: {self.first_bad_index})"
        )
        return f"FAIL {self.message}{where}"


def verify_log(
    *,
    log_lines: Iterable[bytes],
    checkpoint_note: str,
    key_text: str,
    previous_note: str | None = None,
) -> Verdict:
    """Check a downloaded log against a signed checkpoint (and an older one)."""
    try:
        keys = verifier_keys_parse(key_text)
        checkpoint, key = checkpoint_open_trusted(checkpoint_note, keys)
        previous = (
            checkpoint_open_trusted(previous_note, keys)[0]
            if previous_note is not None
            else None
        )
    except VerificationError as exc:
        return Verdict(False, str(exc))
    if previous is not None:
        if previous.origin != checkpoint.origin:
            return Verdict(False, "the two checkpoints are from different logs")
        if previous.size > checkpoint.size:
            return Verdict(
                False,
                f"the previous checkpoint ({previous.size} entries) is larger than the "
                f"new one ({checkpoint.size}): the log shrank",
            )
    stack: list[tuple[int, bytes]] = []
    count = 0
    try:
        for leaf in log_leaf_hashes(log_lines):
            if count >= checkpoint.size:
                return Verdict(
                    False,
                    f"the log has more entries than the checkpoint's {checkpoint.size}",
                    count,
                )
            height, value = 0, leaf
            while stack and stack[-1][0] == height:
                value = node_hash(stack.pop()[1], value)
                height += 1
            stack.append((height, value))
            count += 1
            if (
                previous is not None
                and count == previous.size
                and fold_compact_range([h for _, h in stack]) != previous.root
            ):
                return Verdict(
                    False,
                    f"the first {previous.size} entries do not match the previous "
                    "checkpoint: history was rewritten",
                    None,
                )
    except VerificationError as exc:
        return Verdict(False, str(exc), exc.index)
    if previous is not None and previous.size == 0 and previous.root != EMPTY_ROOT:
        return Verdict(
            False, "the previous checkpoint has a wrong root for an empty log"
        )
    if count != checkpoint.size:
        return Verdict(
            False,
            f"the log has {count} entries but the checkpoint covers {checkpoint.size}: "
            "entries are missing",
            count,
        )
    if fold_compact_range([h for _, h in stack]) != checkpoint.root:
        return Verdict(
            False,
            f"the root of the {count} entries does not match the signed checkpoint: "
            "an entry was changed, removed, added or reordered",
        )
    extra = (
        f", consistent with the previous checkpoint of {previous.size}"
        if previous
        else ""
    )
    return Verdict(
        True,
        f"{count} entries of {checkpoint.origin} match the checkpoint signed by "
        f"{key.name}+{key.key_id.hex()}{extra}",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="verify",
        description="Verify a Charter Social transparency log offline.",
    )
    parser.add_argument(
        "--log", required=True, help="the log as JSON Lines (log.jsonl)"
    )
    parser.add_argument("--checkpoint", required=True, help="the signed checkpoint")
    parser.add_argument(
        "--key",
        required=True,
        action="append",
        help="a file with a trusted verifier key (or several, one a line); "
        "repeat --key to trust several files, e.g. the keys before and after a "
        "rotation",
    )
    parser.add_argument("--previous", help="an older checkpoint you kept")
    args = parser.parse_args(argv)
    try:
        with open(args.checkpoint, encoding="utf-8") as f:
            checkpoint_note = f.read()
        key_texts = []
        for key_path in args.key:
            with open(key_path, encoding="utf-8") as f:
                key_texts.append(f.read())
        key_text = "\n".join(key_texts)
        previous_note = None
        if args.previous:
            with open(args.previous, encoding="utf-8") as f:
                previous_note = f.read()
        with open(args.log, "rb") as log:
            verdict = verify_log(
                log_lines=log,
                checkpoint_note=checkpoint_note,
                key_text=key_text,
                previous_note=previous_note,
            )
    except OSError as exc:
        print(f"ERROR cannot read {exc.filename}: {exc.strerror}")
        return 2
    print(verdict.line())
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""JSON shapes of entries, proofs, checkpoints and the key (pages and API share them).

Hashes are base64, as in C2SP checkpoints and RFC 9162's JSON APIs.
"""

from __future__ import annotations

import base64
from typing import Any

from . import signing
from .models import LedgerEntry
from .selectors import ConsistencyProof, InclusionProof, SignedCheckpoint
from .services import rfc3339
from .verify import verifier_key_parse


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def entry_json(entry: LedgerEntry) -> dict[str, Any]:
    """An entry as published, plus its leaf hash."""
    return {
        "index": entry.index,
        "time": rfc3339(entry.created_at),
        "kind": entry.kind,
        "actor": entry.actor,
        "subject": entry.subject,
        "article": entry.article,
        "payload": entry.payload,
        "leaf_hash": b64(bytes(entry.leaf_hash)),
    }


def inclusion_json(proof: InclusionProof) -> dict[str, Any]:
    return {
        "index": proof.index,
        "size": proof.size,
        "leaf_hash": b64(proof.leaf_hash),
        "hashes": [b64(h) for h in proof.hashes],
        "root": b64(proof.root),
    }


def consistency_json(proof: ConsistencyProof) -> dict[str, Any]:
    return {
        "first": proof.first,
        "second": proof.second,
        "first_root": b64(proof.first_root),
        "second_root": b64(proof.second_root),
        "hashes": [b64(h) for h in proof.hashes],
    }


def checkpoint_json(checkpoint: SignedCheckpoint) -> dict[str, Any]:
    return {
        "origin": signing.key_name(),
        "size": checkpoint.size,
        "root": b64(checkpoint.root),
        "note": checkpoint.note,
    }


def key_json() -> dict[str, Any]:
    vkey = signing.verifier_key()
    parsed = verifier_key_parse(vkey)
    return {
        "name": parsed.name,
        "key_id": parsed.key_id.hex(),
        "algorithm": "Ed25519",
        "public_key": b64(parsed.public_key),
        "verifier_key": vkey,
    }

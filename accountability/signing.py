"""The log's Ed25519 signing key and signed checkpoints (C2SP signed notes).

The key comes from settings.LEDGER_SIGNING_KEY (a PEM private key, or the
base64 of a raw 32-byte seed). Without it, a key is generated on first use and
kept at settings.LEDGER_KEY_FILE, which lives under var/ and never in git. The
key's name in notes is settings.LEDGER_ORIGIN, the log's origin line.

Key rotation (`manage.py ledger_key_rotate`) keeps a key history next to the
key file (`<key file stem>.history.json`, also outside git): every key the log
has used, as its published verifier key, with the tree size at which it took
over and, for retired keys, the size at which it handed over plus its own
signature line on the handover checkpoint. Without a history file the log has
only ever had the configured key. With one, the signing key is whichever of
LEDGER_SIGNING_KEY and the key file is the history's current key, so a process
still configured with the retired key picks up the new one from the key file
instead of signing with a key auditors were told is retired.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .verify import checkpoint_body, key_id, note_signature_line, verifier_key_encode

_key_lock = threading.Lock()


def _key_from_text(text: str) -> Ed25519PrivateKey:
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ImproperlyConfigured("LEDGER_SIGNING_KEY must be an Ed25519 key.")
        return key
    try:
        seed = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ImproperlyConfigured(
            "LEDGER_SIGNING_KEY must be a PEM Ed25519 key or a base64 32-byte seed."
        ) from exc
    if len(seed) != 32:
        raise ImproperlyConfigured("LEDGER_SIGNING_KEY's seed must be 32 bytes.")
    return Ed25519PrivateKey.from_private_bytes(seed)


def _key_from_file(path: Path) -> Ed25519PrivateKey:
    with _key_lock:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            # O_EXCL: if another process created the file meanwhile, use theirs.
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "wb") as f:
                    f.write(pem)
        return _key_from_text(path.read_text())


@lru_cache(maxsize=4)
def _load(signing_key: str, key_file: str, mtime_ns: int = 0) -> Ed25519PrivateKey:
    # mtime_ns is part of the cache key only: a key file replaced by a rotation
    # run in another process is read again instead of served from the cache.
    if signing_key:
        return _key_from_text(signing_key)
    return _key_from_file(Path(key_file))


@dataclass(frozen=True)
class HistoryKey:
    """One key the log has used: its verifier key and the sizes it covered."""

    verifier_key: str
    from_size: int
    until_size: int | None  # None for the current key
    handover_signature: str = ""  # its signature line on checkpoint `until_size`

    def as_json(self) -> dict[str, Any]:
        return {
            "verifier_key": self.verifier_key,
            "from_size": self.from_size,
            "until_size": self.until_size,
            "handover_signature": self.handover_signature,
        }


def history_file() -> Path:
    """Where the key history lives: beside the key file, outside the repository."""
    key_file = Path(settings.LEDGER_KEY_FILE)
    return key_file.with_name(key_file.stem + ".history.json")


@lru_cache(maxsize=8)
def _history_parse(path: str, mtime_ns: int) -> tuple[HistoryKey, ...]:
    # Keyed by mtime so every process sees a rotation made by another one.
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return tuple(
        HistoryKey(
            verifier_key=str(item["verifier_key"]),
            from_size=int(item["from_size"]),
            until_size=None if item["until_size"] is None else int(item["until_size"]),
            handover_signature=str(item.get("handover_signature", "")),
        )
        for item in data["keys"]
    )


def _history_stored() -> tuple[HistoryKey, ...]:
    path = history_file()
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        return ()
    return _history_parse(str(path), mtime)


def _configured_keys() -> list[Ed25519PrivateKey]:
    """The keys this process can sign with: the environment's, then the file's."""
    keys = []
    if settings.LEDGER_SIGNING_KEY:
        keys.append(_load(settings.LEDGER_SIGNING_KEY, ""))
    key_file = Path(settings.LEDGER_KEY_FILE)
    try:
        mtime = key_file.stat().st_mtime_ns
    except FileNotFoundError:
        mtime = 0
    if not keys or mtime:
        keys.append(_load("", str(key_file), mtime))
    return keys


def _raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def signing_key() -> Ed25519PrivateKey:
    """The log's current private key (see the module docstring for which one)."""
    # Two tries: a rotation in another process replaces the key file and then
    # the history, and a read between the two renames sees them disagree.
    for attempt in range(2):
        history = _history_stored()
        candidates = _configured_keys()
        if not history:
            return candidates[0]
        current = history[-1].verifier_key
        for candidate in candidates:
            if verifier_key_encode(key_name(), _raw_public(candidate)) == current:
                return candidate
        if attempt == 0:
            time.sleep(0.05)
    raise ImproperlyConfigured(
        f"The ledger's current key is {current} (see {history_file()}), but neither "
        "LEDGER_SIGNING_KEY nor LEDGER_KEY_FILE holds it: set LEDGER_SIGNING_KEY to "
        "the key that ledger_key_rotate installed, or restore the key file."
    )


def key_history() -> list[HistoryKey]:
    """Every key the log has used, oldest first; the last one is current."""
    history = _history_stored()
    if history:
        return list(history)
    return [HistoryKey(verifier_key=verifier_key(), from_size=0, until_size=None)]


def private_key_from_text(text: str) -> Ed25519PrivateKey:
    """Parse a PEM Ed25519 private key or the base64 of a 32-byte seed."""
    return _key_from_text(text)


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_atomically(path: Path, data: bytes) -> None:
    # Write a private temporary file, then rename: readers see old or new, whole.
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def key_switch(
    *, new_key: Ed25519PrivateKey, handover_size: int, handover_signature: str
) -> list[HistoryKey]:
    """Make `new_key` current from tree size `handover_size` on; return the history.

    Writes the new private key to LEDGER_KEY_FILE (replacing, and so destroying,
    the file copy of the retired key) and then the history. Called by
    `ledger_key_rotate` after the rotation entry has committed.
    """
    history = key_history()
    old = history[-1]
    history[-1] = HistoryKey(
        verifier_key=old.verifier_key,
        from_size=old.from_size,
        until_size=handover_size,
        handover_signature=handover_signature,
    )
    history.append(
        HistoryKey(
            verifier_key=verifier_key_encode(key_name(), _raw_public(new_key)),
            from_size=handover_size,
            until_size=None,
        )
    )
    with _key_lock:
        _write_atomically(Path(settings.LEDGER_KEY_FILE), private_key_pem(new_key))
        document = {"origin": key_name(), "keys": [k.as_json() for k in history]}
        _write_atomically(
            history_file(),
            json.dumps(document, indent=2, sort_keys=True).encode("utf-8") + b"\n",
        )
    _load.cache_clear()
    return history


def key_name() -> str:
    """The signer name that appears in checkpoints and the verifier key."""
    return str(settings.LEDGER_ORIGIN)


def public_key_bytes() -> bytes:
    return _raw_public(signing_key())


def verifier_key() -> str:
    """The published verifier key: `<name>+<key ID hex>+<base64(0x01 || key)>`."""
    return verifier_key_encode(key_name(), public_key_bytes())


def signature_line(*, key: Ed25519PrivateKey, body: str) -> str:
    """`key`'s signed-note signature line over a checkpoint body."""
    name = key_name()
    return note_signature_line(
        name=name,
        key_id_bytes=key_id(name, _raw_public(key)),
        signature=key.sign(body.encode("utf-8")),
    )


def checkpoint_sign(*, size: int, root: bytes) -> str:
    """A signed checkpoint note for a tree of `size` entries with `root`.

    Ed25519 signatures are deterministic, so the same tree head always gives
    the same note and checkpoints need not be stored. The checkpoint at a
    handover size also carries the retired key's signature (kept in the key
    history), so one note links the old key to the new one.
    """
    body = checkpoint_body(origin=key_name(), size=size, root=root)
    lines = [signature_line(key=signing_key(), body=body)]
    for past in _history_stored()[:-1]:
        if past.until_size == size and past.handover_signature:
            lines.insert(0, past.handover_signature)
    return body + "\n" + "".join(lines)

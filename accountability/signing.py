"""The log's Ed25519 signing key and signed checkpoints (C2SP signed notes).

The key comes from settings.LEDGER_SIGNING_KEY (a PEM private key, or the
base64 of a raw 32-byte seed). Without it, a key is generated on first use and
kept at settings.LEDGER_KEY_FILE, which lives under var/ and never in git. The
key's name in notes is settings.LEDGER_ORIGIN, the log's origin line.
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
from functools import lru_cache
from pathlib import Path

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
def _load(signing_key: str, key_file: str) -> Ed25519PrivateKey:
    if signing_key:
        return _key_from_text(signing_key)
    return _key_from_file(Path(key_file))


def signing_key() -> Ed25519PrivateKey:
    """The log's private key (cached per configured source)."""
    return _load(settings.LEDGER_SIGNING_KEY, str(settings.LEDGER_KEY_FILE))


def key_name() -> str:
    """The signer name that appears in checkpoints and the verifier key."""
    return str(settings.LEDGER_ORIGIN)


def public_key_bytes() -> bytes:
    return (
        signing_key()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def verifier_key() -> str:
    """The published verifier key: `<name>+<key ID hex>+<base64(0x01 || key)>`."""
    return verifier_key_encode(key_name(), public_key_bytes())


def checkpoint_sign(*, size: int, root: bytes) -> str:
    """A signed checkpoint note for a tree of `size` entries with `root`.

    Ed25519 signatures are deterministic, so the same tree head always gives
    the same note and checkpoints need not be stored.
    """
    body = checkpoint_body(origin=key_name(), size=size, root=root)
    signature = signing_key().sign(body.encode("utf-8"))
    name = key_name()
    return (
        body
        + "\n"
        + note_signature_line(
            name=name,
            key_id_bytes=key_id(name, public_key_bytes()),
            signature=signature,
        )
    )

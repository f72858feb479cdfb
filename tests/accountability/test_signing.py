"""The signing key: from the environment, or generated once outside the repository."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from accountability import signing
from accountability.verify import (
    EMPTY_ROOT,
    checkpoint_open,
    key_id,
    verifier_key_parse,
)


def test_a_missing_key_file_is_generated_private_and_reused(tmp_path: Path) -> None:
    key_file = tmp_path / "var" / "ledger.pem"
    with override_settings(LEDGER_SIGNING_KEY="", LEDGER_KEY_FILE=key_file):
        first = signing.verifier_key()
        assert key_file.exists()
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert signing.verifier_key() == first
    signing._load.cache_clear()
    with override_settings(LEDGER_SIGNING_KEY="", LEDGER_KEY_FILE=key_file):
        assert signing.verifier_key() == first  # read back from the file


@pytest.mark.parametrize("form", ["pem", "seed"])
def test_a_key_from_the_environment_wins_over_the_file(
    tmp_path: Path, form: str
) -> None:
    private = Ed25519PrivateKey.generate()
    if form == "pem":
        text = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
    else:
        raw = private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        text = base64.b64encode(raw).decode()
    key_file = tmp_path / "unused.pem"
    with override_settings(LEDGER_SIGNING_KEY=text, LEDGER_KEY_FILE=key_file):
        public = private.public_key().public_bytes_raw()
        assert signing.public_key_bytes() == public
        assert not key_file.exists()
        key = verifier_key_parse(signing.verifier_key())
        assert key.key_id == key_id(signing.key_name(), public)
        note = signing.checkpoint_sign(size=0, root=EMPTY_ROOT)
        assert checkpoint_open(note, key).size == 0


@pytest.mark.parametrize(
    "bad", ["not base64 at all!", base64.b64encode(b"short").decode()]
)
def test_a_malformed_key_in_the_environment_is_a_configuration_error(bad: str) -> None:
    with (
        override_settings(LEDGER_SIGNING_KEY=bad),
        pytest.raises(ImproperlyConfigured, match="LEDGER_SIGNING_KEY"),
    ):
        signing.signing_key()


def test_checkpoint_note_has_the_c2sp_shape() -> None:
    note = signing.checkpoint_sign(size=5, root=b"\x07" * 32)
    body, signature_block = note.split("\n\n")
    origin, size, root = body.split("\n")
    assert (origin, size) == (signing.key_name(), "5")
    assert base64.b64decode(root) == b"\x07" * 32
    assert signature_block.startswith(f"\u2014 {signing.key_name()} ")
    assert signature_block.endswith("\n") and signature_block.count("\n") == 1
    raw = base64.b64decode(signature_block.split(" ")[2])
    assert len(raw) == 4 + 64
    assert raw[:4] == key_id(signing.key_name(), signing.public_key_bytes())

"""Rotating the ledger's signing key: public, tamper-evident, verifiable offline."""

from __future__ import annotations

import ast
import io
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings

from accountability import signing
from accountability.models import LedgerEntry
from accountability.selectors import checkpoint_at, consistency_proof
from accountability.verify import (
    VerificationError,
    checkpoint_body,
    checkpoint_open,
    checkpoint_open_trusted,
    key_id,
    note_signature_line,
    verifier_key_encode,
    verifier_key_parse,
    verifier_keys_parse,
    verify_consistency,
    verify_log,
)

from .conftest import fetch

VERIFY_PY = Path(signing.__file__).resolve().parent / "verify.py"


@pytest.fixture
def own_key(tmp_path: Path) -> Iterator[Path]:
    """A key file (and so a key history) of this test's own, outside the repo."""
    key_file = tmp_path / "keys" / "ledger.pem"
    signing._load.cache_clear()
    with override_settings(LEDGER_SIGNING_KEY="", LEDGER_KEY_FILE=key_file):
        yield key_file
    signing._load.cache_clear()


def save(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def run_verifier(*args: Path | str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(VERIFY_PY), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def rotate(**options: Any) -> str:
    out = []

    class Sink:
        def write(self, text: str) -> None:
            out.append(text)

        def flush(self) -> None:
            pass

    call_command("ledger_key_rotate", stdout=Sink(), **options)
    return "".join(out)


def test_rotation_is_a_log_entry_and_switches_the_key(
    own_key: Path, fill_ledger: Callable[[int], list[LedgerEntry]], client: Client
) -> None:
    fill_ledger(5)
    old_vkey = signing.verifier_key()
    output = rotate(reason="yearly")
    new_vkey = signing.verifier_key()
    assert new_vkey != old_vkey
    assert fetch(client, "/transparency/key").decode().strip() == new_vkey

    entry = LedgerEntry.objects.get(index=5)
    assert entry.kind == "ledger.key_rotated"
    assert entry.payload["old_verifier_key"] == old_vkey
    assert entry.payload["new_verifier_key"] == new_vkey
    assert entry.payload["reason"] == "yearly"
    assert "the new key signs from tree size 6" in output

    history = signing.key_history()
    assert [(k.verifier_key, k.from_size, k.until_size) for k in history] == [
        (old_vkey, 0, 6),
        (new_vkey, 6, None),
    ]
    stored = json.loads(signing.history_file().read_text())
    assert [k["verifier_key"] for k in stored["keys"]] == [old_vkey, new_vkey]
    # The private key file now holds the new key only; the history holds no secret.
    assert "PRIVATE" not in signing.history_file().read_text()
    assert (
        verifier_key_encode(signing.key_name(), signing.public_key_bytes()) == new_vkey
    )


def test_the_handover_checkpoint_carries_both_signatures(
    own_key: Path, fill_ledger: Callable[[int], list[LedgerEntry]]
) -> None:
    fill_ledger(3)
    old = verifier_key_parse(signing.verifier_key())
    rotate()
    new = verifier_key_parse(signing.verifier_key())
    note = checkpoint_at(size=4).note
    assert note.count("\u2014 ") == 2
    # Each key alone verifies the handover note: the old key vouches for the tree
    # that announces the new key.
    assert checkpoint_open(note, old).size == 4
    assert checkpoint_open(note, new).size == 4
    fill_ledger(1)
    later = checkpoint_at(size=5).note
    assert later.count("\u2014 ") == 1
    with pytest.raises(VerificationError, match="not signed by the key"):
        checkpoint_open(later, old)  # the retired key signs nothing new
    assert checkpoint_open(later, new).size == 5


def test_old_and_new_checkpoints_verify_offline_across_the_rotation(
    own_key: Path,
    fill_ledger: Callable[[int], list[LedgerEntry]],
    client: Client,
    tmp_path: Path,
) -> None:
    fill_ledger(7)
    old_checkpoint = save(
        tmp_path / "old-checkpoint", fetch(client, "/transparency/checkpoint")
    )
    old_key = save(tmp_path / "old-key", fetch(client, "/transparency/key"))
    rotate()
    fill_ledger(4)
    log = save(tmp_path / "log.jsonl", fetch(client, "/transparency/log.jsonl"))
    checkpoint = save(
        tmp_path / "checkpoint", fetch(client, "/transparency/checkpoint")
    )
    new_key = save(tmp_path / "new-key", fetch(client, "/transparency/key"))
    keys = save(tmp_path / "all-keys", fetch(client, "/transparency/keys"))

    both = run_verifier(
        "--log",
        log,
        "--checkpoint",
        checkpoint,
        "--key",
        old_key,
        "--key",
        new_key,
        "--previous",
        old_checkpoint,
    )
    assert both.returncode == 0, both.stdout
    assert both.stdout.startswith("OK 12 entries")
    assert "consistent with the previous checkpoint of 7" in both.stdout
    # The published history file works as one --key.
    history = run_verifier(
        "--log",
        log,
        "--checkpoint",
        checkpoint,
        "--key",
        keys,
        "--previous",
        old_checkpoint,
    )
    assert history.returncode == 0, history.stdout
    # Trusting only the new key, the old checkpoint is not vouched for.
    new_only = run_verifier(
        "--log",
        log,
        "--checkpoint",
        checkpoint,
        "--key",
        new_key,
        "--previous",
        old_checkpoint,
    )
    assert new_only.returncode == 1 and new_only.stdout.startswith("FAIL")
    # Trusting only the old key, the new checkpoint is not vouched for.
    old_only = run_verifier("--log", log, "--checkpoint", checkpoint, "--key", old_key)
    assert old_only.returncode == 1 and "not signed by the key" in old_only.stdout


def test_a_checkpoint_by_an_unknown_key_still_fails(
    own_key: Path, fill_ledger: Callable[[int], list[LedgerEntry]], client: Client
) -> None:
    fill_ledger(4)
    old_vkey = signing.verifier_key()
    rotate()
    keys_text = f"{old_vkey}\n{signing.verifier_key()}\n"
    signed = checkpoint_at(size=5)
    body = checkpoint_body(origin=signing.key_name(), size=5, root=signed.root)
    impostor = Ed25519PrivateKey.generate()
    raw = impostor.public_key().public_bytes_raw()
    name = signing.key_name()
    forged = (
        body
        + "\n"
        + note_signature_line(
            name=name,
            key_id_bytes=key_id(name, raw),
            signature=impostor.sign(body.encode()),
        )
    )
    lines = fetch(client, "/transparency/log.jsonl").splitlines()
    verdict = verify_log(log_lines=lines, checkpoint_note=forged, key_text=keys_text)
    assert not verdict.ok and "not signed by any trusted key" in verdict.message
    # A bad signature under a trusted key's ID fails even next to a good one.
    bad_line = note_signature_line(
        name=name,
        key_id_bytes=verifier_key_parse(old_vkey).key_id,
        signature=impostor.sign(body.encode()),
    )
    tampered = signed.note + bad_line
    with pytest.raises(VerificationError, match="not valid"):
        checkpoint_open_trusted(tampered, verifier_keys_parse(keys_text))
    assert verify_log(
        log_lines=lines, checkpoint_note=signed.note, key_text=keys_text
    ).ok


def test_the_tree_stays_consistent_across_the_rotation(
    own_key: Path, fill_ledger: Callable[[int], list[LedgerEntry]]
) -> None:
    fill_ledger(9)
    before = checkpoint_open(
        checkpoint_at(size=9).note, verifier_key_parse(signing.verifier_key())
    )
    rotate()
    fill_ledger(6)
    after = checkpoint_open(
        checkpoint_at(size=16).note, verifier_key_parse(signing.verifier_key())
    )
    proof = consistency_proof(first=before.size, second=after.size)
    verify_consistency(
        first=before.size,
        second=after.size,
        first_root=before.root,
        second_root=after.root,
        proof=proof.hashes,
    )
    assert checkpoint_at(size=9).root == before.root  # history not rewritten


def test_two_rotations_keep_every_key_in_the_history(
    own_key: Path, fill_ledger: Callable[[int], list[LedgerEntry]], client: Client
) -> None:
    fill_ledger(2)
    rotate()
    fill_ledger(2)
    rotate()
    history = signing.key_history()
    assert [(k.from_size, k.until_size) for k in history] == [(0, 3), (3, 6), (6, None)]
    assert [e.kind for e in LedgerEntry.objects.filter(kind="ledger.key_rotated")] == [
        "ledger.key_rotated",
        "ledger.key_rotated",
    ]
    text = fetch(client, "/transparency/keys").decode()
    keys = verifier_keys_parse(text)
    assert [f"{k.name}+{k.key_id.hex()}" for k in keys] == [
        "+".join(h.verifier_key.split("+")[:2]) for h in history
    ]
    assert "handed over at tree size 3" in text and "current" in text
    api = client.get("/api/transparency/keys").json()
    assert [(k["from_size"], k["until_size"]) for k in api] == [
        (0, 3),
        (3, 6),
        (6, None),
    ]
    assert api[-1]["verifier_key"] == signing.verifier_key()
    page = client.get("/transparency/").content.decode()
    assert "Signing keys, oldest first" in page
    assert history[0].verifier_key in page  # the retired key, in the history table


def test_a_given_new_key_is_used_and_a_retired_key_is_refused(
    own_key: Path, fill_ledger: Callable[[int], list[LedgerEntry]], tmp_path: Path
) -> None:
    fill_ledger(1)
    signing.verifier_key()  # the first key is generated on first use
    old_pem = own_key.read_text()
    new = Ed25519PrivateKey.generate()
    new_file = save(tmp_path / "new.pem", signing.private_key_pem(new))
    rotate(new_key_file=new_file)
    assert signing.public_key_bytes() == new.public_key().public_bytes_raw()
    before = LedgerEntry.objects.count()
    retired = save(tmp_path / "retired.pem", old_pem)
    with pytest.raises(CommandError, match="never used"):
        rotate(new_key_file=retired)
    with pytest.raises(CommandError, match="never used"):
        rotate(new_key_file=new_file)
    with pytest.raises(CommandError, match="cannot read"):
        rotate(new_key_file=tmp_path / "missing.pem")
    assert LedgerEntry.objects.count() == before  # nothing half-written


def test_another_process_picks_up_the_rotation_without_a_restart(
    own_key: Path,
    fill_ledger: Callable[[int], list[LedgerEntry]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fill_ledger(2)
    old_vkey = signing.verifier_key()  # this "process" has the old key cached
    new = Ed25519PrivateKey.generate()
    # Another process switches the files; it cannot clear this process's cache.
    monkeypatch.setattr(signing._load, "cache_clear", lambda: None)
    signing.key_switch(new_key=new, handover_size=2, handover_signature="")
    new_vkey = verifier_key_encode(
        signing.key_name(), new.public_key().public_bytes_raw()
    )
    assert signing.verifier_key() == new_vkey != old_vkey


def test_a_server_still_configured_with_the_retired_key_signs_with_the_new_one(
    tmp_path: Path, fill_ledger: Callable[[int], list[LedgerEntry]]
) -> None:
    key_file = tmp_path / "ledger.pem"
    env_key = Ed25519PrivateKey.generate()
    env_pem = signing.private_key_pem(env_key).decode()
    signing._load.cache_clear()
    try:
        with override_settings(LEDGER_SIGNING_KEY=env_pem, LEDGER_KEY_FILE=key_file):
            fill_ledger(2)
            old_vkey = signing.verifier_key()
            output = rotate()
            assert "LEDGER_SIGNING_KEY still holds the retired key" in output
            assert signing.verifier_key() != old_vkey  # taken from the key file
            key_file.unlink()
            with pytest.raises(Exception, match="neither"):
                signing.verifier_key()  # never silently sign with a retired key
    finally:
        signing._load.cache_clear()


def test_the_verifier_still_imports_only_stdlib_and_cryptography() -> None:
    tree = ast.parse(VERIFY_PY.read_text())
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported - (set(sys.stdlib_module_names) | {"cryptography"}) == set()


def test_verify_ledger_accepts_a_previous_checkpoint_signed_before_a_rotation(
    own_key: Path, fill_ledger: Callable[[int], list[LedgerEntry]], tmp_path: Path
) -> None:
    fill_ledger(5)
    old_note = save(tmp_path / "old-checkpoint", checkpoint_at(size=5).note)
    rotate()
    fill_ledger(3)
    call_command("verify_ledger", previous=old_note, stdout=io.StringIO())
    # A checkpoint by a key the log never used is still refused.
    stranger = Ed25519PrivateKey.generate()
    note = checkpoint_at(size=5).note
    body = note[: note.index("\n\n") + 1]
    forged = signing.signature_line(key=stranger, body=body)
    with pytest.raises(CommandError, match="FAIL the previous checkpoint"):
        call_command(
            "verify_ledger",
            previous=save(
                tmp_path / "forged",
                body + "\n" + forged,
            ),
            stdout=io.StringIO(),
        )

"""The offline verifier catches every way of tampering with a downloaded log."""

from __future__ import annotations

import ast
import base64
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.test import Client

from accountability import signing
from accountability.verify import (
    canonical_json,
    checkpoint_body,
    key_id,
    leaf_hash,
    note_signature_line,
    root_from_leaves,
    verifier_key_encode,
    verify_log,
)

from .conftest import Download, fetch

pytestmark = pytest.mark.django_db
PYTHON = sys.executable
REPO = Path(settings.BASE_DIR)


def lines_of(download: Download) -> list[bytes]:
    return download.log.read_bytes().splitlines(keepends=True)


def check(
    lines: list[bytes], checkpoint: str, key: str, previous: str | None = None
) -> Any:
    return verify_log(
        log_lines=lines,
        checkpoint_note=checkpoint,
        key_text=key,
        previous_note=previous,
    )


def edit(line: bytes, **changes: Any) -> bytes:
    entry = json.loads(line)
    entry.update(changes)
    return canonical_json(entry) + b"\n"


def root_of(lines: list[bytes]) -> bytes:
    return root_from_leaves(
        [leaf_hash(canonical_json(json.loads(line))) for line in lines]
    )


@pytest.fixture
def published(
    fill_ledger: Callable[[int], Any], download: Callable[[], Download]
) -> tuple[list[bytes], str, str]:
    fill_ledger(12)
    files = download()
    return lines_of(files), files.checkpoint.read_text(), files.key.read_text()


def test_the_untouched_download_verifies(
    published: tuple[list[bytes], str, str],
) -> None:
    lines, checkpoint, key = published
    verdict = check(lines, checkpoint, key)
    assert verdict.ok, verdict.message
    assert verdict.line().startswith("OK 12 entries")


def test_an_edited_payload_is_detected(published: tuple[list[bytes], str, str]) -> None:
    lines, checkpoint, key = published
    payload = json.loads(lines[5])["payload"] | {"note": "quietly changed"}
    lines[5] = edit(lines[5], payload=payload)
    verdict = check(lines, checkpoint, key)
    assert not verdict.ok and "does not match the signed checkpoint" in verdict.message


def test_a_deleted_entry_is_detected_at_its_index(
    published: tuple[list[bytes], str, str],
) -> None:
    lines, checkpoint, key = published
    del lines[4]
    verdict = check(lines, checkpoint, key)
    assert not verdict.ok and verdict.first_bad_index == 4
    assert verdict.line().startswith("FAIL") and "first bad index: 4" in verdict.line()


def test_a_deleted_entry_with_the_rest_renumbered_is_detected(
    published: tuple[list[bytes], str, str],
) -> None:
    lines, checkpoint, key = published
    del lines[4]
    lines = [edit(line, index=i) for i, line in enumerate(lines)]
    verdict = check(lines, checkpoint, key)
    assert not verdict.ok and "entries are missing" in verdict.message


def test_reordered_entries_are_detected(
    published: tuple[list[bytes], str, str],
) -> None:
    lines, checkpoint, key = published
    lines[2], lines[3] = lines[3], lines[2]
    verdict = check(lines, checkpoint, key)
    assert not verdict.ok and verdict.first_bad_index == 2
    # Renumbering the swapped pair to hide the swap changes the root instead.
    lines[2], lines[3] = edit(lines[2], index=2), edit(lines[3], index=3)
    verdict = check(lines, checkpoint, key)
    assert not verdict.ok and "does not match the signed checkpoint" in verdict.message


def test_a_truncated_log_presented_with_the_newer_checkpoint_is_detected(
    published: tuple[list[bytes], str, str],
) -> None:
    lines, checkpoint, key = published
    verdict = check(lines[:9], checkpoint, key)
    assert not verdict.ok and "entries are missing" in verdict.message
    assert verdict.first_bad_index == 9


def test_entries_beyond_the_checkpoint_are_detected(
    published: tuple[list[bytes], str, str],
) -> None:
    lines, checkpoint, key = published
    extra = edit(lines[-1], index=len(lines), subject="charter.version:999")
    verdict = check([*lines, extra], checkpoint, key)
    assert not verdict.ok and verdict.first_bad_index == 12


def test_a_checkpoint_signed_by_another_key_is_rejected(
    published: tuple[list[bytes], str, str],
) -> None:
    lines, _, key = published
    impostor = Ed25519PrivateKey.generate()
    name = signing.key_name()  # same name, different key
    body = checkpoint_body(origin=name, size=len(lines), root=root_of(lines))
    raw_public = impostor.public_key().public_bytes_raw()
    forged = (
        body
        + "\n"
        + note_signature_line(
            name=name,
            key_id_bytes=key_id(name, raw_public),
            signature=impostor.sign(body.encode()),
        )
    )
    verdict = check(lines, forged, key)
    assert not verdict.ok and "not signed by the key" in verdict.message
    # Even reusing the real key ID, the signature itself does not verify.
    real_id = key_id(name, signing.public_key_bytes())
    forged = (
        body
        + "\n"
        + note_signature_line(
            name=name, key_id_bytes=real_id, signature=impostor.sign(body.encode())
        )
    )
    verdict = check(lines, forged, key)
    assert not verdict.ok and "signature is not valid" in verdict.message
    # And the impostor's own key is not the published one.
    assert verifier_key_encode(name, raw_public) != key.strip()


def test_a_forged_root_in_a_genuine_checkpoint_is_rejected(
    published: tuple[list[bytes], str, str],
) -> None:
    lines, checkpoint, key = published
    payload = json.loads(lines[0])["payload"] | {"n": -1}
    lines[0] = edit(lines[0], payload=payload)
    origin, size, _root, *rest = checkpoint.split("\n")
    forged_root = base64.b64encode(root_of(lines)).decode()
    forged = "\n".join([origin, size, forged_root, *rest])
    verdict = check(lines, forged, key)
    assert not verdict.ok and "signature is not valid" in verdict.message


def test_a_forged_size_in_a_genuine_checkpoint_is_rejected(
    published: tuple[list[bytes], str, str],
) -> None:
    lines, checkpoint, key = published
    origin, _size, *rest = checkpoint.split("\n")
    verdict = check(lines, "\n".join([origin, "11", *rest]), key)
    assert not verdict.ok and "signature is not valid" in verdict.message


def test_rewritten_history_fails_against_the_previous_checkpoint(
    fill_ledger: Callable[[int], Any], download: Callable[[], Download], client: Client
) -> None:
    fill_ledger(7)
    previous = download().checkpoint.read_text()
    fill_ledger(5)
    files = download()
    lines = lines_of(files)
    assert check(
        lines, files.checkpoint.read_text(), files.key.read_text(), previous
    ).ok
    # The operator rewrites entry 3 and signs a fresh checkpoint with the real key:
    # the new checkpoint alone cannot tell, the one the auditor kept can.
    lines[3] = edit(lines[3], actor="user:0")
    rewritten = signing.checkpoint_sign(size=len(lines), root=root_of(lines))
    assert check(lines, rewritten, files.key.read_text()).ok
    verdict = check(lines, rewritten, files.key.read_text(), previous)
    assert not verdict.ok and "history was rewritten" in verdict.message
    # A previous checkpoint larger than the new one means the log shrank.
    verdict = check(
        lines[:5],
        fetch(client, "/transparency/checkpoint?size=5").decode(),
        files.key.read_text(),
        files.checkpoint.read_text(),
    )
    assert not verdict.ok and "the log shrank" in verdict.message


def test_a_tampered_key_file_is_rejected(
    published: tuple[list[bytes], str, str],
) -> None:
    lines, checkpoint, key = published
    name, hex_id, encoded = key.strip().split("+", 2)
    bad_id = f"{name}+{'00000000' if hex_id != '00000000' else '11111111'}+{encoded}"
    verdict = check(lines, checkpoint, bad_id)
    assert not verdict.ok and "key ID does not match" in verdict.message


def test_malformed_lines_name_their_index(
    published: tuple[list[bytes], str, str],
) -> None:
    lines, checkpoint, key = published
    original = lines[6]
    lines[6] = b'{"index": 6, "kind": \n'
    verdict = check(lines, checkpoint, key)
    assert not verdict.ok and verdict.first_bad_index == 6
    lines[6] = original
    # JSON true equals 1 in Python; it must still not pass as index 1.
    lines[1] = edit(lines[1], index=True)
    verdict = check(lines, checkpoint, key)
    assert not verdict.ok and verdict.first_bad_index == 1
    lines[1] = edit(lines[1], index=1)
    lines[6] = b'{"index": 6}\n'
    verdict = check(lines, checkpoint, key)
    assert (
        not verdict.ok and verdict.first_bad_index == 6 and "fields" in verdict.message
    )


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def test_module_cli_exits_zero_with_one_ok_line_and_one_on_tampering(
    fill_ledger: Callable[[int], Any], download: Callable[[], Download]
) -> None:
    fill_ledger(9)
    files = download()
    args = [
        PYTHON,
        "-m",
        "accountability.verify",
        "--log",
        str(files.log),
        "--checkpoint",
        str(files.checkpoint),
        "--key",
        str(files.key),
    ]
    ok = run(args, REPO)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.count("\n") == 1 and ok.stdout.startswith("OK 9 entries")
    lines = lines_of(files)
    del lines[2]
    files.log.write_bytes(b"".join(lines))
    bad = run(args, REPO)
    assert bad.returncode == 1
    assert bad.stdout.count("\n") == 1
    assert bad.stdout.startswith("FAIL") and "first bad index: 2" in bad.stdout
    missing = run([*args[:4], str(files.directory / "nope.jsonl"), *args[5:]], REPO)
    assert missing.returncode == 2 and "cannot read" in missing.stdout


def test_downloaded_verifier_runs_on_its_own_with_a_previous_checkpoint(
    fill_ledger: Callable[[int], Any],
    download: Callable[[], Download],
    client: Client,
    tmp_path: Path,
) -> None:
    fill_ledger(5)
    files = download()
    previous = files.write("old-checkpoint", files.checkpoint.read_bytes())
    fill_ledger(4)
    files = download()
    auditor = tmp_path / "auditor"
    auditor.mkdir()
    script = auditor / "verify.py"
    script.write_bytes(fetch(client, "/transparency/verify.py"))
    assert script.read_bytes() == (REPO / "accountability" / "verify.py").read_bytes()
    result = run(
        [
            PYTHON,
            "-I",
            str(script),
            "--log",
            str(files.log),
            "--checkpoint",
            str(files.checkpoint),
            "--key",
            str(files.key),
            "--previous",
            str(previous),
        ],
        auditor,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "9 entries" in result.stdout and "previous checkpoint of 5" in result.stdout


def test_verifier_imports_only_the_standard_library_and_cryptography() -> None:
    tree = ast.parse((REPO / "accountability" / "verify.py").read_text())
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports: the file must stand alone"
            imported.add((node.module or "").split(".")[0])
    allowed = set(sys.stdlib_module_names) | {"cryptography", "__future__"}
    assert imported - allowed == set()
    assert "cryptography" in imported

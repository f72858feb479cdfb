"""`manage.py ledger_key_rotate`: hand the log's signing over to a new key, in public.

The handover is itself a log entry (kind `ledger.key_rotated`) naming the old
and the new verifier key. The old key signs the checkpoint that includes that
entry, and that checkpoint is then served with both signatures; every later
checkpoint is signed by the new key alone. An auditor who trusted the old key
therefore sees, signed by it, which key comes next.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accountability import signing
from accountability.selectors import tree_root
from accountability.services import ledger_append
from accountability.verify import checkpoint_body, verifier_key_encode

NEW_KEY_ENV = "LEDGER_NEW_SIGNING_KEY"


@dataclass(frozen=True)
class KeyRotation:
    entry_index: int
    handover_size: int
    old_verifier_key: str
    new_verifier_key: str
    handover_checkpoint: str


def key_rotate(*, new_key: Ed25519PrivateKey, actor: str, reason: str) -> KeyRotation:
    """Log the handover to `new_key`, sign it with the old key, then switch keys.

    The entry commits before the key files change: if the switch then fails,
    the log says a rotation was announced and the old key keeps signing, which
    is visible and can be finished by running the command again with the same
    key. Raises ValidationError if `new_key` is the current key or one the log
    has already retired (a retired key must never sign again).
    """
    old_key = signing.signing_key()
    name = signing.key_name()
    old_vkey = signing.verifier_key()
    new_vkey = verifier_key_encode(name, signing._raw_public(new_key))
    used = {past.verifier_key for past in signing.key_history()}
    if new_vkey in used:
        raise ValidationError(
            "The new key is the current key or a retired one: give a key the log "
            "has never used (or let the command generate one)."
        )
    with transaction.atomic():
        entry = ledger_append(
            kind="ledger.key_rotated",
            actor=actor,
            subject=f"ledger.key:{new_vkey.split('+')[1]}",
            payload={
                "old_verifier_key": old_vkey,
                "new_verifier_key": new_vkey,
                "reason": reason,
                # The old key signs the tree that ends with this entry; the new
                # key signs every tree from this size on.
                "handover": "the new key signs from tree size index + 1",
            },
        )
        handover_size = entry.index + 1
        body = checkpoint_body(
            origin=name, size=handover_size, root=tree_root(size=handover_size)
        )
        old_line = signing.signature_line(key=old_key, body=body)
    signing.key_switch(
        new_key=new_key, handover_size=handover_size, handover_signature=old_line
    )
    return KeyRotation(
        entry_index=entry.index,
        handover_size=handover_size,
        old_verifier_key=old_vkey,
        new_verifier_key=new_vkey,
        handover_checkpoint=signing.checkpoint_sign(
            size=handover_size, root=tree_root(size=handover_size)
        ),
    )


class Command(BaseCommand):
    help = (
        "Rotate the transparency log's signing key: append a ledger.key_rotated "
        "entry signed by the old key, then switch to the new key. The new key is "
        f"read from --new-key-file, or from ${NEW_KEY_ENV}, or generated."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--new-key-file",
            type=Path,
            help="a PEM Ed25519 private key (or base64 32-byte seed) to switch to",
        )
        parser.add_argument(
            "--actor", default="operator", help="who rotates (recorded in the log)"
        )
        parser.add_argument(
            "--reason",
            default="scheduled rotation",
            help="why (recorded in the log, e.g. 'scheduled' or 'suspected leak')",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["new_key_file"]:
                text = options["new_key_file"].read_text(encoding="utf-8")
                new_key = signing.private_key_from_text(text)
            elif os.environ.get(NEW_KEY_ENV):
                new_key = signing.private_key_from_text(os.environ[NEW_KEY_ENV])
            else:
                new_key = Ed25519PrivateKey.generate()
            rotation = key_rotate(
                new_key=new_key, actor=options["actor"], reason=options["reason"]
            )
        except OSError as exc:
            raise CommandError(f"cannot read {options['new_key_file']}: {exc}") from exc
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"OK key rotated at entry {rotation.entry_index}; the new key signs "
                f"from tree size {rotation.handover_size}."
            )
        )
        self.stdout.write(f"old key: {rotation.old_verifier_key}")
        self.stdout.write(f"new key: {rotation.new_verifier_key}")
        self.stdout.write("handover checkpoint (signed by both):")
        self.stdout.write(rotation.handover_checkpoint)
        if settings.LEDGER_SIGNING_KEY:
            self.stdout.write(
                self.style.WARNING(
                    "LEDGER_SIGNING_KEY still holds the retired key. The new key is "
                    f"in {settings.LEDGER_KEY_FILE} and is used from there; move it to "
                    "LEDGER_SIGNING_KEY on every server, then delete that file."
                )
            )

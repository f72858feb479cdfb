"""`manage.py verify_ledger`: check the live ledger end to end, loudly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accountability import signing
from accountability.audit import ledger_audit
from accountability.verify import (
    VerificationError,
    checkpoint_open_trusted,
    verifier_key_parse,
)


class Command(BaseCommand):
    help = (
        "Recompute every leaf, stored subtree and the root of the transparency log "
        "from the database and compare them with what is stored; exit 1 on any "
        "mismatch. With --previous, also check an older signed checkpoint is a prefix."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--previous",
            type=Path,
            help="an older checkpoint file to check the current log against",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        previous = None
        if options["previous"]:
            try:
                note = options["previous"].read_text(encoding="utf-8")
                # An older checkpoint may predate a key rotation: trust every
                # key the log has used, as the offline verifier does.
                trusted = [
                    verifier_key_parse(k.verifier_key) for k in signing.key_history()
                ]
                previous, _ = checkpoint_open_trusted(note, trusted)
            except OSError as exc:
                raise CommandError(f"cannot read {options['previous']}: {exc}") from exc
            except VerificationError as exc:
                raise CommandError(f"FAIL the previous checkpoint: {exc}") from exc
        result = ledger_audit(previous=previous)
        if not result.ok:
            where = (
                ""
                if result.first_bad_index is None
                else f" (first bad index: {result.first_bad_index})"
            )
            raise CommandError(f"FAIL ledger verification: {result.message}{where}")
        self.stdout.write(self.style.SUCCESS(f"OK ledger verified: {result.message}"))

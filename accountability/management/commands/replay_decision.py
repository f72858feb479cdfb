"""Recompute a decision from its recorded inputs: `manage.py replay_decision ID`."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accountability.casework_models import DecisionRecord
from accountability.decisions import decision_get, decision_replay


class Command(BaseCommand):
    help = (
        "Replay a decision record (e.g. DR-3f2a...) with the ranker's own code and "
        "the recorded policy and model versions. Prints 'reproduced', or the "
        "differences and exits with status 1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("public_id", help="The decision record's id, DR-...")
        parser.add_argument(
            "--json", action="store_true", help="Print the result as JSON."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            record = decision_get(public_id=options["public_id"])
        except DecisionRecord.DoesNotExist:
            raise CommandError(
                f"There is no decision record {options['public_id']!r}; ids look "
                "like DR- followed by 32 hex digits."
            ) from None
        result = decision_replay(record=record)
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "id": record.public_id,
                        "reproduced": result.reproduced,
                        "differences": result.differences,
                        "recomputed": result.recomputed,
                    },
                    indent=2,
                )
            )
        elif result.reproduced:
            self.stdout.write(f"{record.public_id}: reproduced")
        else:
            self.stdout.write(f"{record.public_id}: not reproduced")
            for line in result.differences:
                self.stdout.write(f"  - {line}")
        if not result.reproduced:
            raise SystemExit(1)

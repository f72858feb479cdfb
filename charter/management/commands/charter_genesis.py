"""`manage.py charter_genesis`: adopt charter v1 from charter/data/ once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from charter.services import charter_genesis


class Command(BaseCommand):
    help = "Create charter version 1 (idempotent) with its ledger entries."

    def handle(self, *args: Any, **options: Any) -> None:
        version = charter_genesis()
        self.stdout.write(
            f"Charter v{version.number} in force since "
            f"{version.effective_at:%Y-%m-%d %H:%M} UTC; "
            f"policy sha256 {version.policy_sha256}"
        )

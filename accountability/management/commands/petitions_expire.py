"""Apply due petition transitions now: `manage.py petitions_expire`.

Not required — every page and API view that shows petitions applies them
lazily — but useful from cron so the ledger records a missed deadline even
when nobody looks at the petition.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from accountability.petitions import petitions_refresh


class Command(BaseCommand):
    help = (
        "Close petitions whose signing window or answer deadline has passed, "
        "logging petition.expired / petition.overdue once each."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        changed = petitions_refresh()
        self.stdout.write(f"{changed} petition(s) changed state")

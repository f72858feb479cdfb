"""`manage.py flush`, extended to empty the append-only ledger tables too.

Django's flush deletes every row of every table (SQLite) or truncates them
(PostgreSQL); the ledger's triggers rightly refuse both. Flushing is an
explicit "erase this whole database" act (test teardown uses it between
transactional tests), so this command lifts the triggers for the flush and puts
them back afterwards, even if the flush fails.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.flush import Command as DjangoFlushCommand
from django.db import DEFAULT_DB_ALIAS, connections

from accountability.db_triggers import triggers_install, triggers_remove


class Command(DjangoFlushCommand):
    def handle(self, **options: Any) -> None:
        connection = connections[options.get("database") or DEFAULT_DB_ALIAS]
        existing = connection.introspection.table_names()
        if "accountability_ledgerentry" not in existing:
            return super().handle(**options)
        triggers_remove(connection)
        try:
            return super().handle(**options)
        finally:
            triggers_install(connection)

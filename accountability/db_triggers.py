"""Database triggers that make the ledger tables append-only.

Installed by migration 0002 on PostgreSQL and SQLite. They refuse UPDATE and
DELETE (and, on PostgreSQL, TRUNCATE) of entries and stored subtrees, so even a
bug or a careless administrator's statement cannot rewrite history in place.
Someone who can drop triggers can still tamper; that is what the signed
checkpoints held by auditors and `manage.py verify_ledger` are for.

Refusals surface as django.db.IntegrityError on both databases.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

PROTECTED_TABLES = ("accountability_ledgerentry", "accountability_ledgernode")
MESSAGE = "the transparency ledger is append-only"

_PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION accountability_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;
"""


def _pg_install(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION accountability_refuse_change();",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION accountability_refuse_change();",
    ]


def _pg_remove(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};",
    ]


def _sqlite_install(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}: {op} on {table} is refused'); END;"
        for op in ("UPDATE", "DELETE")
    ]


def _sqlite_remove(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_no_{op} ;" for op in ("update", "delete")]


def install_sql(vendor: str) -> list[str]:
    """Statements that install the append-only triggers for `vendor`."""
    if vendor == "postgresql":
        return [_PG_FUNCTION] + [
            sql for t in PROTECTED_TABLES for sql in _pg_install(t)
        ]
    if vendor == "sqlite":
        return [sql for t in PROTECTED_TABLES for sql in _sqlite_install(t)]
    raise NotImplementedError(f"no append-only triggers for the {vendor} database")


def remove_sql(vendor: str) -> list[str]:
    """Statements that remove the append-only triggers for `vendor`."""
    if vendor == "postgresql":
        return [sql for t in PROTECTED_TABLES for sql in _pg_remove(t)]
    if vendor == "sqlite":
        return [sql for t in PROTECTED_TABLES for sql in _sqlite_remove(t)]
    raise NotImplementedError(f"no append-only triggers for the {vendor} database")


def triggers_install(connection: BaseDatabaseWrapper) -> None:
    """Install the triggers on `connection` (idempotent on SQLite)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for sql in remove_sql("postgresql"):
                cursor.execute(sql)
        for sql in install_sql(connection.vendor):
            cursor.execute(sql)


def triggers_remove(connection: BaseDatabaseWrapper) -> None:
    """Remove the triggers on `connection` (used by flush and by tamper tests)."""
    with connection.cursor() as cursor:
        for sql in remove_sql(connection.vendor):
            cursor.execute(sql)

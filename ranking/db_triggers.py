"""A database trigger that keeps stored model artefacts immutable.

Installed by migration 0002 on PostgreSQL and SQLite. An UPDATE that changes
anything but the activation fields (is_active, activated_at, activated_by) of a
`ModelArtefact` is refused, so a model that the ledger records by its hashes
cannot be swapped underneath that record, whatever code or admin statement
tries. DELETE stays possible (pruning never-activated versions; flush); a
deleted artefact simply cannot be activated or loaded any more.

Refusals surface as django.db.IntegrityError on both databases.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "ranking_modelartefact"
MESSAGE = "model artefacts are immutable; store a new version instead"
IMMUTABLE_COLUMNS = (
    "name",
    "version",
    "format",
    "created_at",
    "training_data_sha256",
    "parameters",
    "metrics",
    "blob",
    "blob_sha256",
)

_changed_pg = " OR ".join(
    f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in IMMUTABLE_COLUMNS
)
_changed_sqlite = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in IMMUTABLE_COLUMNS)

_PG_INSTALL = [
    f"""
CREATE OR REPLACE FUNCTION ranking_artefact_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF {_changed_pg} THEN
        RAISE EXCEPTION '{MESSAGE} (% v%)', OLD.name, OLD.version
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;
""",
    f"DROP TRIGGER IF EXISTS {TABLE}_immutable ON {TABLE};",
    f"CREATE TRIGGER {TABLE}_immutable BEFORE UPDATE ON {TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION ranking_artefact_refuse_change();",
]
_PG_REMOVE = [f"DROP TRIGGER IF EXISTS {TABLE}_immutable ON {TABLE};"]

_SQLITE_INSTALL = [
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_immutable "
    f"BEFORE UPDATE OF {', '.join(IMMUTABLE_COLUMNS)} ON {TABLE} "
    f"WHEN {_changed_sqlite} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;"
]
_SQLITE_REMOVE = [f"DROP TRIGGER IF EXISTS {TABLE}_immutable;"]


def _statements(vendor: str, *, install: bool) -> list[str]:
    if vendor == "postgresql":
        return _PG_INSTALL if install else _PG_REMOVE
    if vendor == "sqlite":
        return _SQLITE_INSTALL if install else _SQLITE_REMOVE
    raise NotImplementedError(f"no artefact immutability trigger for {vendor}")


def artefact_trigger_install(connection: BaseDatabaseWrapper) -> None:
    """Install the immutability trigger on `connection` (idempotent)."""
    with connection.cursor() as cursor:
        for sql in _statements(connection.vendor, install=True):
            cursor.execute(sql)


def artefact_trigger_remove(connection: BaseDatabaseWrapper) -> None:
    """Remove the trigger (migration rollback; tests that simulate tampering)."""
    with connection.cursor() as cursor:
        for sql in _statements(connection.vendor, install=False):
            cursor.execute(sql)

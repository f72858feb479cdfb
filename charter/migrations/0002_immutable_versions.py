"""The database itself refuses to UPDATE an adopted charter version or article.

DELETE is refused by the ORM only: test databases are flushed with plain
DELETE (SQLite) or TRUNCATE (PostgreSQL) between tests, which a DELETE trigger
would break on SQLite.
"""

from django.db import migrations

TABLES = ("charter_charterversion", "charter_charterarticle")

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION charter_refuse_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'adopted charter versions are immutable (table %)', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION, params=None)
        for table in TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_immutable BEFORE UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION charter_refuse_update();"
            )
    elif vendor == "sqlite":
        for table in TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_immutable BEFORE UPDATE ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'adopted charter versions are immutable'); END;"
            )


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table};")
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_immutable;")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS charter_refuse_update();")


class Migration(migrations.Migration):
    dependencies = [("charter", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]

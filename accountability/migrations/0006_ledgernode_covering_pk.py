"""On PostgreSQL, make the stored subtrees' primary key a covering index.

A proof is one `key IN (...)` lookup of O(log n) nodes. With level, position
and hash carried in the primary key's index (INCLUDE), PostgreSQL answers it
with an index-only scan and skips one heap page per node once VACUUM has set
the visibility map (the table is append-only, so that holds for all but the
newest rows). The table keeps a single index, so appends write no extra one.
Database-only: the model's fields and primary key are unchanged. SQLite has
no INCLUDE and is left as it is.
"""

from django.db import migrations

TABLE = "accountability_ledgernode"
PKEY = "accountability_ledgernode_pkey"


def covering(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE {TABLE} DROP CONSTRAINT {PKEY}, ADD CONSTRAINT {PKEY} "
            "PRIMARY KEY (key) INCLUDE (level, position, hash)"
        )


def plain(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE {TABLE} DROP CONSTRAINT {PKEY}, ADD CONSTRAINT {PKEY} "
            "PRIMARY KEY (key)"
        )


class Migration(migrations.Migration):
    dependencies = [("accountability", "0005_casework")]

    operations = [migrations.RunPython(covering, plain)]

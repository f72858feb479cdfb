"""Full-text search index on PostgreSQL only; SQLite falls back to substring search."""

from django.db import migrations


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS post_body_fts ON feed_post "
            "USING GIN (to_tsvector('english'::regconfig, body))"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS post_body_fts")


class Migration(migrations.Migration):
    dependencies = [("feed", "0001_initial")]
    operations = [migrations.RunPython(create_index, drop_index)]

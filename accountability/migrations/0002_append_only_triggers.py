"""Install the triggers that refuse UPDATE and DELETE on the ledger tables."""

from django.db import migrations


def install(apps, schema_editor):
    from accountability.db_triggers import triggers_install

    triggers_install(schema_editor.connection)


def remove(apps, schema_editor):
    from accountability.db_triggers import triggers_remove

    triggers_remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("accountability", "0001_ledger")]

    operations = [migrations.RunPython(install, remove)]

"""Install the trigger that refuses changes to a stored model artefact."""

from django.db import migrations


def install(apps, schema_editor):
    from ranking.db_triggers import artefact_trigger_install

    artefact_trigger_install(schema_editor.connection)


def remove(apps, schema_editor):
    from ranking.db_triggers import artefact_trigger_remove

    artefact_trigger_remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("ranking", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]

import socket

from django.db import migrations


def record_run(apps, schema_editor):
    # A second run of this migration would add a second row.
    MigrationRun = apps.get_model("core", "MigrationRun")
    MigrationRun.objects.using(schema_editor.connection.alias).create(
        migration="0003_record_migration_run", hostname=socket.gethostname()
    )


class Migration(migrations.Migration):

    dependencies = [("core", "0002_slow_data_migration")]

    operations = [migrations.RunPython(record_run, migrations.RunPython.noop)]

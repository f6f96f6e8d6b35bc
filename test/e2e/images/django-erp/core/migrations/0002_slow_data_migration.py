import time

from django.db import migrations


def slow(apps, schema_editor):
    # Long enough for two concurrent migrators to overlap.
    time.sleep(5)


class Migration(migrations.Migration):

    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(slow, migrations.RunPython.noop)]

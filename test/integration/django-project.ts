/**
 * A tiny Django project written by the test itself: settings that read the
 * database from exactly the variables the manifests set (DB_HOST, DB_PORT,
 * DB_NAME, DB_USER, DB_PASSWORD, or DATABASE_URL), Django's contenttypes and
 * auth apps, and one app `inventory` with three migrations:
 *
 *   0001_initial      creates warehouse, item and a side-effect table
 *   0002_slow_data    RunPython: sleeps IT_MIGRATION_SLEEP s (default 2) so
 *                     concurrent migrators overlap, then writes ONE row to the
 *                     side-effect table (a second run would write a second row)
 *   0003_item_note    adds a column
 *
 * Harness knob: when IT_FAIL_ONCE_FILE names an existing file, 0002 deletes it
 * and raises (a transient failure: the next attempt succeeds).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const FILES: Record<string, string> = {
  'manage.py': `#!/usr/bin/env python3
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itproject.settings")
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
`,
  'itproject/__init__.py': '',
  'itproject/settings.py': `import os
from urllib.parse import unquote, urlparse

SECRET_KEY = "integration-test-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "inventory"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

if os.environ.get("DB_HOST"):
    _db = {
        "HOST": os.environ["DB_HOST"],
        "PORT": os.environ["DB_PORT"],
        "NAME": os.environ["DB_NAME"],
        "USER": os.environ["DB_USER"],
        "PASSWORD": os.environ["DB_PASSWORD"],
    }
else:
    _u = urlparse(os.environ["DATABASE_URL"])
    _db = {"HOST": _u.hostname, "PORT": str(_u.port or 5432), "NAME": _u.path.lstrip("/"),
           "USER": unquote(_u.username or ""), "PASSWORD": unquote(_u.password or "")}
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "CONN_MAX_AGE": 0,
                         "OPTIONS": {"connect_timeout": 3}, **_db}}
`,
  'itproject/settings_nomodels.py': `from .settings import *  # noqa
INSTALLED_APPS = []
`,
  'inventory/__init__.py': '',
  'inventory/models.py': `from django.db import models


class Warehouse(models.Model):
    name = models.CharField(max_length=50, unique=True)


class Item(models.Model):
    sku = models.CharField(max_length=30, unique=True)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE)
    quantity = models.IntegerField(default=0)
    note = models.CharField(max_length=200, blank=True, default="")


class MigrationSideEffect(models.Model):
    migration = models.CharField(max_length=100)
    pid = models.IntegerField()
`,
  'inventory/migrations/__init__.py': '',
  'inventory/migrations/0001_initial.py': `from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):

    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="MigrationSideEffect",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("migration", models.CharField(max_length=100)),
                ("pid", models.IntegerField()),
            ],
        ),
        migrations.CreateModel(
            name="Warehouse",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=50, unique=True)),
            ],
        ),
        migrations.CreateModel(
            name="Item",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("sku", models.CharField(max_length=30, unique=True)),
                ("quantity", models.IntegerField(default=0)),
                ("warehouse", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="inventory.warehouse")),
            ],
        ),
    ]
`,
  'inventory/migrations/0002_slow_data.py': `import os
import time

from django.db import migrations


def forwards(apps, schema_editor):
    marker = os.environ.get("IT_FAIL_ONCE_FILE")
    if marker and os.path.exists(marker):
        os.remove(marker)
        raise RuntimeError("simulated transient failure in 0002_slow_data")
    time.sleep(float(os.environ.get("IT_MIGRATION_SLEEP", "2")))
    apps.get_model("inventory", "MigrationSideEffect").objects.create(migration="0002_slow_data", pid=os.getpid())


class Migration(migrations.Migration):

    dependencies = [("inventory", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
`,
  'inventory/migrations/0003_item_note.py': `from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("inventory", "0002_slow_data")]

    operations = [
        migrations.AddField(model_name="item", name="note", field=models.CharField(blank=True, default="", max_length=200)),
    ]
`,
};

/** Migrations of the `inventory` app, in order. */
export const INVENTORY_MIGRATIONS = ['0001_initial', '0002_slow_data', '0003_item_note'];

/** Writes the project into a new temp dir and returns its path (the commands' working directory). */
export function writeDjangoProject(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'erp-it-django-'));
  for (const [rel, text] of Object.entries(FILES)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

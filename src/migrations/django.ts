import { djangoBootstrapScript } from './bootstrap-scripts';
import type { DjangoMigrationsOptions, FrameworkCommands } from './migrations';
import { lockedMigrateScript, shQuote } from './scripts';

/**
 * Django (seed 000): `manage.py check --database default`, `migrate
 * --fake-initial --noinput` with fallback to plain `migrate`; the image's own
 * CMD serves it. Built-in management commands only: the seed's image has
 * nothing else ("Seeding is disabled for ERP-API. Use Django management
 * commands").
 */
export function djangoCommands(options: DjangoMigrationsOptions): FrameworkCommands {
  const manage = options.manageScript ?? 'manage.py';
  const m = shQuote(manage);
  return {
    framework: 'django',
    writableDirectories: [],
    serverCommand: () => undefined,
    healthCheckCommand: () => {
      const connect = 'from django.db import connection; connection.ensure_connection(); print("health-check: database answers")';
      return ['sh', '-c', [
        'set -eu',
        'echo "health-check: manage.py check --deploy --fail-level ERROR"',
        `python ${m} check --deploy --fail-level ERROR`,
        `python ${m} shell --command ${shQuote(connect)}`,
        `python ${m} migrate --check --noinput || { echo "health-check: unapplied migrations" >&2; exit 1; }`,
        'echo "health-check: ok"',
      ].join('\n')];
    },
    dataIntegrityCommand: () => ['sh', '-c', [
      'set -eu',
      `python ${m} makemigrations --check --dry-run --noinput || ` +
        '{ echo "data-integrity: models have changes that no migration records" >&2; exit 1; }',
      `python ${m} migrate --check --noinput || { echo "data-integrity: unapplied migrations" >&2; exit 1; }`,
      'echo "data-integrity: ok"',
    ].join('\n')],
    cleanupCommand: () => ['python', manage, 'clearsessions'],
    bootstrapCommand: () => ['python', manage, 'shell', '--command', djangoBootstrapScript()],
    // `check --database default` (the seed's) validates the settings, but on
    // PostgreSQL it does not necessarily open a connection (Django >= 4.1 runs
    // no query at all): ensure_connection() proves the server answers.
    databaseCheck: () => `python ${m} check --database default >/dev/null && ` +
      `python ${m} shell --command ${shQuote('from django.db import connection; connection.ensure_connection()')}`,
    migrationsAppliedCheck: () => `python ${m} migrate --check --noinput >/dev/null`,
    // Runs inside `manage.py shell` so settings load exactly as for the app.
    migrateCommand: (lockKey, budgetSeconds) => ['python', manage, 'shell', '--command', lockedMigrateScript({
      imports: ['import sys', 'from django.core.management import call_command', 'from django.db import connection'],
      connect: ['cur = connection.cursor()'],
      lock: 'cur.execute("SELECT pg_advisory_lock(%s)", [LOCK])',
      exec: 'cur.execute',
      fetch: 'cur.fetchone()',
      migrate: [
        '    try:',
        '        call_command("migrate", fake_initial=True, interactive=False)',
        '    except Exception as exc:',
        '        print("migrate --fake-initial failed (%s); falling back to plain migrate" % exc, file=sys.stderr, flush=True)',
        '        call_command("migrate", interactive=False)',
      ],
      unlock: ['    connection.cursor().execute("SELECT pg_advisory_unlock(%s)", [LOCK])'],
    }, lockKey, budgetSeconds)],
  };
}

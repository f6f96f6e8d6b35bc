import { fail } from '../internal/validate';
import { alembicBootstrapScript } from './bootstrap-scripts';
import type { AlembicMigrationsOptions, FrameworkCommands, OperationsCommandOptions } from './migrations';
import { lockedMigrateScript, shQuote } from './scripts';

/**
 * FastAPI/SQLAlchemy (seed 002): `alembic upgrade head`, served by uvicorn;
 * the operations commands are seed 002's maintenance scripts ("Production
 * Maintenance" and "Recommended Schedule") and its bootstrap CLI.
 */
export function alembicCommands(options: AlembicMigrationsOptions): FrameworkCommands {
  const asgiApp = options.asgiApp ?? 'app.main:app';
  const workers = options.workers ?? 4;
  const configFile = options.configFile ?? 'alembic.ini';
  const c = shQuote(configFile);
  const logDirectory = options.logDirectory ?? '/var/log/erp';
  const script = (o: OperationsCommandOptions, name: string) => ['python', `${o.scriptDir ?? 'scripts/prod'}/${name}`];
  return {
    framework: 'alembic',
    writableDirectories: logDirectory === '' ? [] : [checkWritableDirectory('logDirectory', logDirectory)],
    serverCommand: (port) => ['uvicorn', asgiApp, '--host', '0.0.0.0', '--port', String(port), '--workers', String(workers)],
    healthCheckCommand: (o) => script(o, 'health_check.py'),
    dataIntegrityCommand: (o) => script(o, 'check_data_integrity.py'),
    cleanupCommand: (o) => [...script(o, 'cleanup_old_data.py'), ...(o.cleanupExecute ? ['--execute'] : [])],
    bootstrapCommand: (o) => ['python', '-c', alembicBootstrapScript(o.cli ?? 'erp-bootstrap')],
    databaseCheck: () => `alembic -c ${c} current >/dev/null`,
    migrationsAppliedCheck: () => `[ "$(alembic -c ${c} current 2>/dev/null | cut -d' ' -f1 | sort)" = ` +
      `"$(alembic -c ${c} heads | cut -d' ' -f1 | sort)" ]`,
    // The lock is taken on its own synchronous connection (the app may use an
    // async driver such as asyncpg in DATABASE_URL); alembic migrates on its own.
    migrateCommand: (lockKey, budgetSeconds) => ['python', '-c', lockedMigrateScript({
      imports: [
        'import os, re, sys', 'from alembic import command', 'from alembic.config import Config', 'from sqlalchemy import create_engine, text',
      ],
      connect: [
        'url = os.environ.get("DATABASE_URL") or "postgresql://%s:%s@%s:%s/%s" % ' +
          'tuple(os.environ[k] for k in ("DB_USER", "DB_PASSWORD", "DB_HOST", "DB_PORT", "DB_NAME"))',
        'url = re.sub(r"^postgres(ql)?(\\+\\w+)?://", "postgresql://", url)',
        'conn = create_engine(url, isolation_level="AUTOCOMMIT").connect()',
      ],
      lock: 'conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": LOCK})',
      exec: 'conn.exec_driver_sql',
      fetch: 'RESULT.fetchone()',
      migrate: [`    command.upgrade(Config(${JSON.stringify(configFile)}), "head")`],
      unlock: ['    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK})', '    conn.close()'],
    }, lockKey, budgetSeconds)],
  };
}

/** Checks a directory for {@link Migrations.writableDirectories}. */
function checkWritableDirectory(field: string, dir: string): string {
  if (typeof dir !== 'string' || !/^(\/[A-Za-z0-9._-]+)+$/.test(dir) || dir.split('/').some((p) => p === '.' || p === '..') || dir === '/tmp') {
    fail('Migrations.alembic', field, dir,
      "must be an absolute directory such as '/var/log/erp' (no trailing '/', '.' or '..'; not /tmp, which is mounted already), or '' for none");
  }
  return dir;
}

import { MARKER_COLUMNS, MARKER_TABLE } from '../data/backup-scripts';

/*
 * The programs the migration frameworks run (django.ts, alembic.ts): shell
 * quoting, the retry loop of the wait steps, and the locked migration with
 * its wait for the release's pre-migration backup. Their text is part of the
 * output (the golden snapshots hold it), and the integration suite runs it
 * against PostgreSQL.
 */

/** Shell-quotes one word for `sh -c`. */
export function shQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'"'"'`)}'`;
}

/**
 * A POSIX sh loop that runs `check` up to `attempts` times, `intervalSeconds`
 * apart, and exits 0 on the first success or 1 after the last failure.
 */
export function retryLoop(check: string, attempts: number, intervalSeconds: number, what: string): string {
  return [
    'i=0',
    `while [ "$i" -lt ${attempts} ]; do`,
    `  if ${check}; then echo "${what}: ready after $((i+1)) attempt(s)"; exit 0; fi`,
    '  i=$((i+1))',
    `  [ "$i" -lt ${attempts} ] || break`,
    `  echo "${what}: not ready (attempt $i/${attempts}); retrying in ${intervalSeconds}s" >&2`,
    `  sleep ${intervalSeconds}`,
    'done',
    `echo "${what}: gave up after ${attempts} attempts" >&2`,
    'exit 1',
  ].join('\n');
}

/** A framework's Python dialect for {@link lockedMigrateScript}. */
export interface LockedMigrateDialect {
  /** Lines before `LOCK = <key>` (imports). */
  readonly imports: string[];
  /** Lines after it that open the connection the lock is held on. */
  readonly connect: string[];
  /** The statement taking the session-level advisory lock LOCK. */
  readonly lock: string;
  /** Runs SQL with %s parameters (e.g. `cur.execute`). */
  readonly exec: string;
  /** Reads one row of what `exec` returned (RESULT). */
  readonly fetch: string;
  /** The migration, indented 4 (inside the locked `try:`). */
  readonly migrate: string[];
  /** Lines of the `finally:` that release the lock, indented 4. */
  readonly unlock: string[];
}

/**
 * The Python of a locked migration: takes the PostgreSQL advisory lock `lockKey`
 * (which serialises the Job and every starting pod), waits for the release's
 * pre-migration backup ({@link awaitPreMigrationBackup}, at most
 * `budgetSeconds` by default), migrates, records the release
 * ({@link recordFirstMigration}) and releases the lock in `finally` (and
 * PostgreSQL releases it anyway when the connection closes).
 */
export function lockedMigrateScript(dialect: LockedMigrateDialect, lockKey: number, budgetSeconds: number): string {
  return [
    ...dialect.imports,
    `LOCK = ${lockKey}`,
    ...dialect.connect,
    'print("migrate: waiting for advisory lock %d" % LOCK, flush=True)',
    dialect.lock,
    'try:',
    ...awaitPreMigrationBackup(budgetSeconds, dialect.exec, dialect.fetch),
    ...dialect.migrate,
    ...recordFirstMigration(dialect.exec),
    'finally:',
    ...dialect.unlock,
    '    print("migrate: lock released", flush=True)',
  ].join('\n');
}

/**
 * Python lines (inside the locked `try:`, indented 4) that wait, when
 * ERP_K8S_RELEASE is set, until the pre-migration backup of that release is
 * recorded in `erp_k8s.pre_migration_backups` (see backup-scripts.ts), giving
 * the lock up while waiting so the backup's own session is never blocked. A
 * database without the table (before the first release with pre-migration
 * backups, or just restored) does not wait. Top-level statements only (see
 * djangoBootstrapScript). `exec` runs SQL with %s parameters; `fetch` reads a
 * row (RESULT is the value `exec` returned). ERP_K8S_BACKUP_WAIT_SECONDS
 * bounds the wait (default: the wait-for-database budget).
 */
function awaitPreMigrationBackup(budgetSeconds: number, exec: string, fetch: string): string[] {
  const row = (sql: string, params = '') => [
    `    RESULT = ${exec}(${JSON.stringify(sql)}${params ? `, ${params}` : ''})`,
    `    ROW = ${fetch}`,
  ];
  return [
    '    import os as _os, time as _time',
    '    RELEASE = _os.environ.get("ERP_K8S_RELEASE", "")',
    `    WAIT = int(_os.environ.get("ERP_K8S_BACKUP_WAIT_SECONDS", "${budgetSeconds}"))`,
    '    DEADLINE = _time.time() + WAIT',
    '    while RELEASE:',
    ...row(`SELECT to_regclass('${MARKER_TABLE}') IS NOT NULL`).map((l) => `    ${l}`),
    '        if not ROW[0]:',
    '            print("migrate: no %s table (first release with pre-migration backups, or a restored database): not waiting for a backup" % ' +
      `${JSON.stringify(MARKER_TABLE)}, flush=True)`,
    '            break',
    ...row(`SELECT backup FROM ${MARKER_TABLE} WHERE release = %s`, '(RELEASE,)').map((l) => `    ${l}`),
    '        if ROW:',
    '            print("migrate: pre-migration backup of release %s: %s" % (RELEASE, ROW[0]), flush=True)',
    '            break',
    '        if _time.time() > DEADLINE:',
    '            raise SystemExit("migrate: no pre-migration backup of release %s after %ds: its backup Job dumps the database first; ' +
      'see kubectl get jobs -l app.kubernetes.io/component=pre-migration-backup and its logs" % (RELEASE, WAIT))',
    '        print("migrate: waiting for the pre-migration backup of release %s" % RELEASE, flush=True)',
    `        ${exec}("SELECT pg_advisory_unlock(%s)", (LOCK,))`,
    '        _time.sleep(5)',
    `        ${exec}("SELECT pg_advisory_lock(%s)", (LOCK,))`,
  ];
}

/**
 * Python lines run after a successful migration: with ERP_K8S_RELEASE set,
 * creates the record table if needed and records the release (as migrated
 * without a backup if its backup did not record it), so later releases wait
 * for theirs and restarts of this one do not.
 */
function recordFirstMigration(exec: string): string[] {
  return [
    '    if _os.environ.get("ERP_K8S_RELEASE", ""):',
    `        ${exec}("CREATE SCHEMA IF NOT EXISTS ${MARKER_TABLE.split('.')[0]}")`,
    `        ${exec}(${JSON.stringify(`CREATE TABLE IF NOT EXISTS ${MARKER_TABLE} (${MARKER_COLUMNS})`)})`,
    `        ${exec}(${JSON.stringify(`INSERT INTO ${MARKER_TABLE} (release, backup) VALUES (%s, 'none') ON CONFLICT (release) DO NOTHING`)}, ` +
      '(RELEASE,))',
  ];
}

/**
 * The shell programs of backups and restores. Each reads its inputs from the
 * environment (nothing secret on a command line) and is written for bash in
 * the PostgreSQL image or for the POSIX sh of the rclone image.
 *
 * A backup set is a directory `<UTC time>-<kind>` (kind: scheduled, initial,
 * pre-migration) holding `globals.sql` (roles, `pg_dumpall --globals-only`),
 * one `<database>.dump` per database (custom format, checked with
 * `pg_restore --list`), one `<name>.tar.gz` per archived volume (media) and
 * `SHA256SUMS`. It is written as `.<set>.partial` and renamed when complete, so
 * a set without the dot is always whole.
 */

/** Where the backup volume is mounted. */
export const BACKUP_DIR = '/backups';
/** Where archived volumes (media) are mounted, one directory per archive. */
export const ARCHIVE_DIR = '/archive';
/** Per-pod scratch directory: `set` holds the name of the set being made or restored. */
export const STATE_DIR = '/state';
/** Name of the rclone remote configured from RCLONE_CONFIG_OFFSITE_* variables. */
export const REMOTE = 'offsite';
/** Schema of the pre-migration backup records in the application database. */
export const MARKER_SCHEMA = 'erp_k8s';
/** The table of pre-migration backup records: one row per migrated release. */
export const MARKER_TABLE = `${MARKER_SCHEMA}.pre_migration_backups`;
/** Its columns. */
export const MARKER_COLUMNS = 'release text PRIMARY KEY, backup text NOT NULL, taken_at timestamptz NOT NULL DEFAULT now()';

/**
 * The environment contract of the PostgreSQL-side scripts:
 * - PGHOST, PGPORT, PGCONNECT_TIMEOUT, PGSSLMODE...: libpq
 * - DB_COUNT and, for i in 0..DB_COUNT-1, DB_NAME_i, DB_USER_i, DB_PASSWORD_i:
 *   the databases, each with its owner's credentials (the first one also
 *   dumps the globals and holds the pre-migration records)
 * - SERVER_MAJOR: the declared server major version (checked)
 * - BACKUP_KIND, RETENTION_DAYS, MARKER_RELEASE, BACKUP (restore), ...
 */
const COMMON = [
  'set -euo pipefail',
  `dir='${BACKUP_DIR}'`,
  'db_env() { local n="DB_NAME_$1" u="DB_USER_$1" p="DB_PASSWORD_$1"; DB_NAME=${!n}; export PGDATABASE=$DB_NAME PGUSER=${!u} PGPASSWORD=${!p}; }',
  'wait_for_server() { for try in $(seq 1 30); do pg_isready -q && return 0; echo "waiting for $PGHOST:$PGPORT ($try/30)"; sleep 2; done; ' +
    'pg_isready; }',
  // the client must be at least the server's major: pg_dump refuses newer servers
  'check_versions() {',
  '  local client server',
  '  client=$(pg_dump --version | sed -E \'s/^[^0-9]*([0-9]+).*/\\1/\')',
  '  server=$(( $(psql -XAtq -c "SHOW server_version_num") / 10000 ))',
  '  echo "server PostgreSQL $server, client $(pg_dump --version)"',
  '  if [ "$server" -gt "$client" ]; then',
  '    echo "error: the client is PostgreSQL $client but the server is PostgreSQL $server: pg_dump cannot dump a newer server. Set the ' +
    'server version to $server (the backup image follows it) or give a backup image of major $server or newer." >&2',
  '    exit 3',
  '  fi',
  '  if [ -n "${SERVER_MAJOR:-}" ] && [ "$SERVER_MAJOR" != "$server" ]; then',
  '    echo "warning: the server is PostgreSQL $server but the manifests declare $SERVER_MAJOR: update the declared version" >&2',
  '  fi',
  '}',
];

/**
 * Makes one backup set in {@link BACKUP_DIR} and writes its name to
 * `$STATE_DIR/set`. Exits non-zero (and leaves no set) when any step fails.
 * With MARKER_RELEASE set it also records, in the first database, that this
 * release's pre-migration backup exists (the migrators wait for the record).
 * Volumes mounted under {@link ARCHIVE_DIR} are archived by {@link archiveScript}.
 */
export function dumpScript(): string {
  return [
    ...COMMON,
    'umask 007', // group (the pod's fsGroup) may add archives to the set
    'db_env 0',
    'wait_for_server',
    'check_versions',
    'set_name="$(date -u +%Y%m%dT%H%M%SZ)-${BACKUP_KIND}"',
    'work="$dir/.$set_name.partial"',
    // a failed run leaves nothing behind (prune runs only after a success)
    'trap \'rc=$?; if [ "$rc" -ne 0 ]; then rm -rf "$work"; echo "backup failed (exit $rc): $work removed" >&2; fi\' EXIT',
    'mkdir -p "$work"',
    'echo "backup set $set_name"',
    'pg_dumpall --globals-only --no-role-passwords --database="$DB_NAME" --file="$work/globals.sql"',
    'echo "  globals.sql: $(wc -c < "$work/globals.sql") bytes"',
    'for i in $(seq 0 $((DB_COUNT - 1))); do',
    '  db_env "$i"',
    '  pg_dump --format=custom --compress=9 --no-password --file="$work/$DB_NAME.dump"',
    '  pg_restore --list "$work/$DB_NAME.dump" > /dev/null',
    '  echo "  $DB_NAME.dump: $(wc -c < "$work/$DB_NAME.dump") bytes (as $PGUSER)"',
    'done',
    `echo "$set_name" > '${STATE_DIR}/set'`,
    '',
  ].join('\n');
}

/**
 * Archives every volume mounted under {@link ARCHIVE_DIR} into the set being
 * made (`<name>.tar.gz`), then seals it: `SHA256SUMS`, rename to its final
 * name. Runs as the volume's own user so it reads every file the app wrote.
 */
export function archiveScript(): string {
  return [
    'set -euo pipefail',
    'umask 007',
    `dir='${BACKUP_DIR}'`,
    `set_name=$(cat '${STATE_DIR}/set')`,
    'work="$dir/.$set_name.partial"',
    'trap \'rc=$?; if [ "$rc" -ne 0 ]; then rm -rf "$work"; echo "backup failed (exit $rc): $work removed" >&2; fi\' EXIT',
    `for d in ${ARCHIVE_DIR}/*/; do`,
    '  [ -d "$d" ] || continue',
    '  name=$(basename "$d")',
    // the volume's entries, not `.`: its root is not ours (extracting `.` would chmod it and fail);
    // not an ext4 lost+found either (root-only: unreadable, and not the app's)
    '  find "$d" -mindepth 1 -maxdepth 1 ! -name lost+found -printf \'%P\\0\' | tar -czf "$work/$name.tar.gz" -C "$d" --null -T -',
    '  echo "  $name.tar.gz: $(tar -tzf "$work/$name.tar.gz" | grep -vc \'/$\') files, $(wc -c < "$work/$name.tar.gz") bytes"',
    'done',
    '(cd "$work" && sha256sum -- * > SHA256SUMS)',
    'mv "$work" "$dir/$set_name"',
    'echo "backup set written: $dir/$set_name ($(du -sk "$dir/$set_name" | cut -f1) KiB)"',
    '',
  ].join('\n');
}

/**
 * Records a pre-migration backup (run after {@link archiveScript}): creates
 * `erp_k8s.pre_migration_backups` if needed and inserts MARKER_RELEASE.
 */
export function markerScript(): string {
  return [
    ...COMMON,
    'db_env 0',
    `set_name=$(cat '${STATE_DIR}/set')`,
    `psql -X -v ON_ERROR_STOP=1 -q -v release="$MARKER_RELEASE" -v set_name="$set_name" <<'SQL'`,
    `CREATE SCHEMA IF NOT EXISTS ${MARKER_SCHEMA};`,
    `CREATE TABLE IF NOT EXISTS ${MARKER_TABLE} (${MARKER_COLUMNS});`,
    `INSERT INTO ${MARKER_TABLE} (release, backup) VALUES (:'release', :'set_name') ON CONFLICT (release) DO UPDATE SET backup = ` +
      `EXCLUDED.backup, taken_at = now();`,
    'SQL',
    'echo "pre-migration backup of release $MARKER_RELEASE recorded: $set_name"',
    '',
  ].join('\n');
}

/** Shell: the name of the newest complete local set (complete sets start with a digit; `.partial` ones with a dot). */
const NEWEST_LOCAL_SET = 'find "$dir" -mindepth 1 -maxdepth 1 -type d -name "[0-9]*" -printf "%f\\n" | sort | tail -n 1';

/**
 * Deletes local sets older than RETENTION_DAYS, never the newest complete one,
 * and leftovers of failed runs older than a day. Runs only after every other
 * step of the backup succeeded.
 */
export function pruneScript(): string {
  return [
    'set -euo pipefail',
    `dir='${BACKUP_DIR}'`,
    `newest=$(${NEWEST_LOCAL_SET})`,
    'echo "local retention: $RETENTION_DAYS days (newest set $newest is always kept)"',
    'find "$dir" -mindepth 1 -maxdepth 1 -type d -name "[0-9]*" ! -name "$newest" -mmin +$((RETENTION_DAYS * 1440)) -print -exec rm -rf {} +',
    'find "$dir" -mindepth 1 -maxdepth 1 -name ".*.partial" -mmin +1440 -print -exec rm -rf {} +',
    // dumps of the layout before backup sets (`<db>-<time>.dump`)
    'find "$dir" -mindepth 1 -maxdepth 1 -type f -name "*.dump" -mmin +$((RETENTION_DAYS * 1440)) -print -delete',
    'echo "local backup sets:"',
    'find "$dir" -mindepth 1 -maxdepth 1 -type d -name "[0-9]*" -printf "  %f\\n" | sort',
    '',
  ].join('\n');
}

/**
 * Restore, step 2 (bash, PostgreSQL image): the set from `$STATE_DIR/set`, or
 * BACKUP (`latest`: the newest complete local set); checks SHA256SUMS, then
 * restores each database dump present in the set as its owner, in one
 * transaction per database: `DROP OWNED BY CURRENT_USER` (so tables created
 * after the backup go too), then the dump's SQL (extensions are left to the
 * server's own initialization); and drops the pre-migration records (the
 * restored data is itself a backup: the next migration need not wait for
 * one). Writes the set name for {@link unarchiveScript}.
 */
export function restoreScript(): string {
  return [
    ...COMMON,
    'umask 077',
    `name=$(cat '${STATE_DIR}/set' 2>/dev/null || true)`,
    'if [ -z "$name" ]; then',
    '  name="$BACKUP"',
    '  if [ "$name" = latest ]; then',
    `    name=$(${NEWEST_LOCAL_SET})`,
    '    [ -n "$name" ] || { echo "error: no backup set in $dir" >&2; exit 1; }',
    '  fi',
    'fi',
    'set_dir="$dir/$name"',
    '[ -d "$set_dir" ] || { echo "error: no backup set $name in $dir; sets:" >&2; ls "$dir" >&2; exit 1; }',
    'echo "restoring $name"',
    '(cd "$set_dir" && sha256sum --check --quiet SHA256SUMS)',
    'echo "checksums verified"',
    'db_env 0',
    'wait_for_server',
    'check_versions',
    'for i in $(seq 0 $((DB_COUNT - 1))); do',
    '  db_env "$i"',
    '  f="$set_dir/$DB_NAME.dump"',
    '  if [ ! -f "$f" ]; then echo "  $DB_NAME: not in this set, left as is"; continue; fi',
    '  list=$(mktemp)',
    '  pg_restore --list "$f" | grep -v -E "^[0-9]+; [0-9]+ [0-9]+ (EXTENSION|COMMENT - EXTENSION) " > "$list"',
    // one transaction: everything the owner has (tables added after the backup too) goes, the dump comes back
    '  { echo "SET client_min_messages = warning;"; echo "DROP OWNED BY CURRENT_USER;"; pg_restore --no-owner --use-list="$list" --file=- "$f"; } \\',
    '    | psql -X -q -v ON_ERROR_STOP=1 --single-transaction --dbname="$DB_NAME" > /dev/null',
    '  echo "  $DB_NAME: restored (as $PGUSER)"',
    'done',
    'db_env 0',
    `psql -X -v ON_ERROR_STOP=1 -q -c "DROP SCHEMA IF EXISTS ${MARKER_SCHEMA} CASCADE"`,
    // readable by the unarchive container, which runs as the volume's user (umask 077 above)
    `(umask 022; echo "$name" > '${STATE_DIR}/set')`,
    'echo "databases restored from $name"',
    '',
  ].join('\n');
}

/**
 * Restore, step 3 (bash, as the volume's user): replaces the contents of each
 * volume mounted under {@link ARCHIVE_DIR} with its archive from the set.
 */
export function unarchiveScript(): string {
  return [
    'set -euo pipefail',
    `dir='${BACKUP_DIR}'`,
    `name=$(cat '${STATE_DIR}/set')`,
    `for d in ${ARCHIVE_DIR}/*/; do`,
    '  [ -d "$d" ] || continue',
    '  archive="$dir/$name/$(basename "$d").tar.gz"',
    '  if [ ! -f "$archive" ]; then echo "  $(basename "$d"): not in this set, left as is"; continue; fi',
    '  find "$d" -mindepth 1 -maxdepth 1 ! -name lost+found -exec rm -rf -- {} +',
    '  tar -C "$d" -xzf "$archive" --no-same-owner --same-permissions',
    '  echo "  $(basename "$d"): $(find "$d" -name lost+found -prune -o -type f -print | wc -l) files restored"',
    'done',
    'echo "restore of $name complete"',
    '',
  ].join('\n');
}

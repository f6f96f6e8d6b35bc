/**
 * The off-site steps of backups and restores (POSIX sh in the rclone image,
 * except the list, which runs in either): upload, prune, fetch and list the
 * sets in object storage through the rclone remote configured from the
 * RCLONE_CONFIG_OFFSITE_* variables (see backup-scripts.ts for the sets).
 */
import { BACKUP_DIR, REMOTE, STATE_DIR } from './backup-scripts';

/** rclone target of the sets: `offsite:<bucket>/<prefix>`. */
const TARGET = `"${REMOTE}:$OFFSITE_BUCKET/$OFFSITE_PREFIX"`;

/** Copies the set just made to object storage and checks the copy (sh, rclone image). */
export function uploadScript(): string {
  return [
    'set -eu',
    `set_name=$(cat '${STATE_DIR}/set')`,
    `echo "uploading $set_name to $OFFSITE_BUCKET/$OFFSITE_PREFIX/ at $RCLONE_CONFIG_OFFSITE_ENDPOINT"`,
    `rclone copy --s3-no-check-bucket --stats-one-line -v "${BACKUP_DIR}/$set_name" ${TARGET}/"$set_name"`,
    `rclone check --one-way "${BACKUP_DIR}/$set_name" ${TARGET}/"$set_name"`,
    'echo "off-site copy verified: $set_name"',
    '',
  ].join('\n');
}

/** Deletes off-site sets older than OFFSITE_RETENTION_DAYS (sh, rclone image). */
export function offsitePruneScript(): string {
  return [
    'set -eu',
    'echo "off-site retention: $OFFSITE_RETENTION_DAYS days"',
    `rclone delete -v --min-age "\${OFFSITE_RETENTION_DAYS}d" ${TARGET}`,
    `rclone rmdirs --leave-root ${TARGET}`,
    'echo "off-site backup sets:"',
    `rclone lsf --dirs-only ${TARGET} | sed 's/^/  /'`,
    '',
  ].join('\n');
}

/**
 * Restore, step 1 (sh, rclone image): with SOURCE=offsite, resolves BACKUP
 * (`latest` or a set name) among the off-site sets and downloads it into the
 * backup volume (checked against the off-site copy); with SOURCE=local, does
 * nothing. Writes the set name to `$STATE_DIR/set`.
 */
export function fetchScript(): string {
  return [
    'set -eu',
    `: > '${STATE_DIR}/set'`,
    'case "$SOURCE" in local) echo "source: local backup volume"; exit 0 ;; offsite) ;; *) echo "error: SOURCE must be local or offsite, not ' +
      '\'$SOURCE\'" >&2; exit 2 ;; esac',
    'name="$BACKUP"',
    'if [ "$name" = latest ]; then',
    `  name=$(rclone lsf --dirs-only ${TARGET} | sed 's:/$::' | grep -E '^[0-9]{8}T[0-9]{6}Z-' | sort | tail -n 1)`,
    '  [ -n "$name" ] || { echo "error: no backup set at $OFFSITE_BUCKET/$OFFSITE_PREFIX" >&2; exit 1; }',
    // a missing set copies nothing and checks clean: say so instead
    `elif ! rclone lsf --dirs-only ${TARGET} | grep -qxF "$name/"; then`,
    '  echo "error: no backup set $name at $OFFSITE_BUCKET/$OFFSITE_PREFIX; the sets there:" >&2',
    `  rclone lsf --dirs-only ${TARGET} | sed 's:/$::; s/^/  /' >&2`,
    '  exit 1',
    'fi',
    `echo "downloading $name from $OFFSITE_BUCKET/$OFFSITE_PREFIX/"`,
    `rclone copy --stats-one-line -v ${TARGET}/"$name" "${BACKUP_DIR}/.$name.download"`,
    `rclone check --one-way ${TARGET}/"$name" "${BACKUP_DIR}/.$name.download"`,
    `rm -rf "${BACKUP_DIR}/$name" && mv "${BACKUP_DIR}/.$name.download" "${BACKUP_DIR}/$name"`,
    `echo "$name" > '${STATE_DIR}/set'`,
    '',
  ].join('\n');
}

/** Lists the sets, local and off-site (the `backup list` of seed 002). */
export function listScript(offsite: boolean): string {
  return [
    'set -eu',
    'echo "local sets (newest last):"',
    `ls -1 '${BACKUP_DIR}' | grep -E '^[0-9]{8}T[0-9]{6}Z-' | sed 's/^/  /' || echo '  (none)'`,
    ...(offsite ? [
      'echo "off-site sets at $OFFSITE_BUCKET/$OFFSITE_PREFIX (newest last):"',
      `rclone lsf --dirs-only ${TARGET} | sed 's:/$::; s/^/  /'`,
    ] : []),
    '',
  ].join('\n');
}

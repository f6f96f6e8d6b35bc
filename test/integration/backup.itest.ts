/**
 * Issue 14 against a real PostgreSQL: the shell programs of backup-scripts.ts
 * (the containers of the backup, pre-migration, restore and prune pods) run
 * byte for byte as the manifests carry them, except for the three mount
 * paths (/backups, /archive, /state), which are re-rooted to temp dirs in the
 * script text (every occurrence, checked).
 *
 * The pods are laid out as Kubernetes runs them: when the suite runs as root
 * (CI), the PostgreSQL client containers run as UID 26 and the media
 * containers as UID 1000, both with the pod's fsGroup 26 as supplementary
 * group (setpriv); the backup volume and the media volume are group-26 setgid
 * directories owned by root, the media volume with a root-only `lost+found`
 * as an ext4 PVC has. As a non-root user every container runs as that user.
 *
 * Databases: koku (owner koku, pg_stat_statements created by the superuser as
 * the server's init SQL does), hive (owner hive) and api_gateway (owner
 * api_gateway), each dumped and restored as its own non-superuser owner.
 */
import { spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  ARCHIVE_DIR, archiveScript, BACKUP_DIR, dumpScript, MARKER_SCHEMA, MARKER_TABLE, markerScript, pruneScript, restoreScript, STATE_DIR,
  unarchiveScript,
} from '../../src/data/backup-scripts';
import { PgCluster, record, say, sha256, sleep, treeEntries, volumeFingerprint as fingerprint } from './harness';

const AS_ROOT = process.getuid?.() === 0;
/** UID of the PostgreSQL client containers and the pod's fsGroup (the chart's default `user`). */
const PG_UID = 26;
/** UID owning the media files (the app's user): archive and unarchive run as it. */
const MEDIA_UID = 1000;
const FS_GROUP = PG_UID;

/** The three databases, in the order of DB_NAME_i (the first holds the globals and the pre-migration records). */
const DATABASES = ['koku', 'hive', 'api_gateway'] as const;
type Db = typeof DATABASES[number];
const INVOICES = 20_000;
const SET_RE = /^\d{8}T\d{6}Z-[a-z-]+$/;

let pg: PgCluster;
let work: string;
/** The backup volume (mounted at /backups). */
let backups: string;
/** Parent of the archived volumes (/archive); the media volume is `<archiveRoot>/media`. */
let archiveRoot: string;
let media: string;
/** The pod's /tmp (HOME, TMPDIR, cwd). */
let podTmp: string;
let serverMajor: number;
const passwords: Record<Db, string> = { koku: '', hive: '', api_gateway: '' };

// ---------------------------------------------------------------- helpers

interface Out {
  readonly label: string;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

const show = (o: Out) => `${o.label}: exit ${o.code} after ${o.ms} ms\n--- stdout\n${o.stdout.slice(-4000)}\n--- stderr\n${o.stderr.slice(-4000)}`;

function ok(o: Out): Out {
  if (o.code !== 0) throw new Error(`expected exit 0\n${show(o)}`);
  return o;
}

/** Runs a bash script as a container of the pod would: its user (when root), its env only, PATH with the PostgreSQL client first. */
function sh(label: string, script: string, env: Record<string, string>, user: 'pg' | 'media', pathPrefix: string[] = []): Out {
  const uid = user === 'pg' ? PG_UID : MEDIA_UID;
  const [cmd, args] = AS_ROOT
    ? ['setpriv', ['--reuid', String(uid), '--regid', String(uid), '--groups', String(FS_GROUP), '--', 'bash', '-c', script]]
    : ['bash', ['-c', script]];
  const t0 = Date.now();
  const r = spawnSync(cmd, args, {
    cwd: podTmp,
    encoding: 'utf8',
    timeout: 120_000,
    env: {
      PATH: [...pathPrefix, pg.bin, '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
      HOME: podTmp, TMPDIR: podTmp, LANG: 'C.UTF-8',
      ...env,
    },
  });
  const stderr = (r.stderr ?? '') + (r.error ? `spawn error: ${r.error.message}\n` : '');
  return { label, code: r.status, stdout: r.stdout ?? '', stderr, ms: Date.now() - t0 };
}

/**
 * A script with the pod's mount paths re-rooted: every occurrence of
 * BACKUP_DIR, ARCHIVE_DIR and STATE_DIR at a path boundary, in one pass;
 * throws if any occurrence is left (so a new use of a mount path cannot slip
 * past the test).
 */
function reroot(script: string, state: string): string {
  const map: Record<string, string> = { [BACKUP_DIR]: backups, [ARCHIVE_DIR]: archiveRoot, [STATE_DIR]: state };
  const alt = Object.keys(map).sort((a, b) => b.length - a.length).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  const re = new RegExp(`(?<=^|[\\s'"=(:])(${alt})(?=[/'"\\s);]|$)`, 'gm');
  let moved = 0;
  const out = script.replace(re, (m) => { moved++; return map[m]; });
  const occurrences = Object.keys(map).reduce((n, p) => n + script.split(p).length - 1, 0);
  if (moved === 0 || moved !== occurrences || re.test(out)) {
    throw new Error(`re-rooting moved ${moved} of ${occurrences} mount paths:\n${script}`);
  }
  return out;
}

/** A fresh /state emptyDir (one per pod: its containers share it). */
function newState(): string {
  const d = fs.mkdtempSync(path.join(work, 'state-'));
  fs.chmodSync(d, 0o2777);
  if (AS_ROOT) fs.chownSync(d, 0, FS_GROUP);
  return d;
}

/** The environment of the PostgreSQL containers (what pgEnv() in postgres-backup.ts gives them). */
function pgEnv(overrides: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PGHOST: '127.0.0.1', PGPORT: String(pg.port), PGCONNECT_TIMEOUT: '10',
    DB_COUNT: String(DATABASES.length), SERVER_MAJOR: String(serverMajor),
  };
  DATABASES.forEach((db, i) => {
    env[`DB_NAME_${i}`] = db;
    env[`DB_USER_${i}`] = db;
    env[`DB_PASSWORD_${i}`] = passwords[db];
  });
  return { ...env, ...overrides };
}

/** Sets in the backup volume, oldest first (complete ones only: no leading dot). */
const sets = () => fs.readdirSync(backups).filter((f) => SET_RE.test(f)).sort();
const leftovers = () => fs.readdirSync(backups).filter((f) => f.startsWith('.'));

/** Set names have one-second resolution: start each backup in a new second. */
const nextSecond = () => sleep(1020 - (Date.now() % 1000));

interface BackupRun { state: string; dump: Out; archive?: Out; set?: string }

/** The backup pod: dump (PostgreSQL client, as UID 26), then archive + seal (as the media user). */
function backupPod(kind: string, env = pgEnv(), pathPrefix: string[] = []): BackupRun {
  const state = newState();
  const dump = sh(`dump (${kind})`, reroot(dumpScript(), state), { ...env, BACKUP_KIND: kind }, 'pg', pathPrefix);
  if (dump.code !== 0) return { state, dump };
  const archive = ok(sh(`archive (${kind})`, reroot(archiveScript(), state), {}, 'media'));
  return { state, dump, archive, set: fs.readFileSync(path.join(state, 'set'), 'utf8').trim() };
}

interface RestoreRun { state: string; restore: Out; unarchive?: Out }

/** The restore pod (local source): restore as the owners (UID 26), then unarchive as the media user. */
function restorePod(backup: string, env = pgEnv()): RestoreRun {
  const state = newState();
  const restore = sh(`restore ${backup}`, reroot(restoreScript(), state), { ...env, BACKUP: backup }, 'pg');
  if (restore.code !== 0) return { state, restore };
  const unarchive = ok(sh(`unarchive ${backup}`, reroot(unarchiveScript(), state), {}, 'media'));
  return { state, restore, unarchive };
}


/**
 * Everything a restore must bring back in one database: schemas, tables with
 * their owners, every row (digest of the sorted rows), sequences, indexes and
 * views (but not the members of extensions, which belong to the server).
 */
function dbState(db: Db): string {
  const catalog = pg.psql(`
    SELECT 'schema', nspname, pg_get_userbyid(nspowner) FROM pg_namespace
      WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY 2;
    SELECT 'table', schemaname, tablename, tableowner FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 2, 3;
    SELECT 'sequence', schemaname, sequencename, sequenceowner, last_value FROM pg_sequences ORDER BY 2, 3;
    SELECT 'index', schemaname, indexname, indexdef FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 2, 3;
    SELECT 'view', schemaname, viewname, viewowner, definition FROM pg_views
      WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND viewowner <> 'postgres' ORDER BY 2, 3;`, db);
  return [catalog, ...pg.rowDigests(db)].join('\n');
}

const allDbState = () => Object.fromEntries(DATABASES.map((db) => [db, dbState(db)]));
const rowCount = (db: Db, table: string) => Number(pg.value(`SELECT count(*) FROM ${table}`, db));

/** Every entry of the media volume but its `lost+found` (see treeEntries). */
const mediaEntries = (dir = media) => treeEntries(dir);

const mediaState = () => mediaEntries().map((e) => e.line);

/** Writes a media file as the app would (owned by the media user, group fsGroup). */
function mediaFile(rel: string, content: string | Buffer, mode = 0o644): void {
  const f = path.join(media, rel);
  for (let d = path.dirname(rel); d !== '.'; d = path.dirname(d)) {
    if (!fs.existsSync(path.join(media, d))) fs.mkdirSync(path.join(media, d), { recursive: true });
  }
  fs.writeFileSync(f, content);
  fs.chmodSync(f, mode);
  if (AS_ROOT) chownTree(media);
}

/** The app owns everything in its volume (the volume root and lost+found stay root's). */
function chownTree(dir: string): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (dir === media && e.name === 'lost+found') continue;
    fs.chownSync(p, MEDIA_UID, FS_GROUP);
    if (e.isDirectory()) chownTree(p);
  }
}

const volumeFingerprint = () => fingerprint(backups);

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

// ---------------------------------------------------------------- fixture

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'erp-it-backup-'));
  fs.chmodSync(work, 0o755);
  backups = path.join(work, 'backups');
  archiveRoot = path.join(work, 'archive');
  media = path.join(archiveRoot, 'media');
  podTmp = path.join(work, 'tmp');
  fs.mkdirSync(backups);
  fs.mkdirSync(media, { recursive: true });
  fs.mkdirSync(podTmp);
  fs.chmodSync(podTmp, 0o1777);
  // PVC roots after the kubelet applied the pod's fsGroup: root-owned, group fsGroup, setgid, group-writable
  fs.chmodSync(backups, 0o2770);
  fs.chmodSync(media, 0o2775);
  if (AS_ROOT) {
    fs.chownSync(backups, 0, FS_GROUP);
    fs.chownSync(media, 0, FS_GROUP);
    fs.mkdirSync(path.join(media, 'lost+found'), { mode: 0o700 }); // what mkfs.ext4 leaves on a new block volume
    fs.chownSync(path.join(media, 'lost+found'), 0, 0);
    fs.chmodSync(path.join(media, 'lost+found'), 0o700);
  }

  pg = await PgCluster.create('backup'); // pg_stat_statements preloaded, scram over TCP
  pg.start();
  serverMajor = Math.floor(Number(pg.value('SHOW server_version_num')) / 10000);
  for (const db of DATABASES) passwords[db] = randomBytes(24).toString('hex');
  pg.psql(`
    CREATE ROLE erp_readers NOLOGIN;
    ${DATABASES.map((db) => `CREATE ROLE ${db} LOGIN PASSWORD '${passwords[db]}'; CREATE DATABASE ${db} OWNER ${db};`).join('\n')}
    GRANT erp_readers TO koku;
    ALTER ROLE koku SET statement_timeout = '5min';`);
  // what the server's init SQL does in the app database: a superuser-only extension
  pg.psql('CREATE EXTENSION pg_stat_statements;', 'koku');
  pg.psql(`SET ROLE koku;
    CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL UNIQUE);
    CREATE TABLE invoices (id bigserial PRIMARY KEY, customer_id int NOT NULL REFERENCES customers, amount numeric(12,2) NOT NULL,
      note text, created timestamptz NOT NULL);
    INSERT INTO customers (name) SELECT 'customer-' || g FROM generate_series(1, 97) g;
    INSERT INTO invoices (customer_id, amount, note, created)
      SELECT 1 + g % 97, g * 1.25, md5(g::text), timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute'
      FROM generate_series(1, ${INVOICES}) g;
    CREATE INDEX invoices_created ON invoices (created);
    CREATE VIEW customer_totals AS SELECT c.name, sum(i.amount) AS total
      FROM customers c JOIN invoices i ON i.customer_id = c.id GROUP BY c.name;`, 'koku');
  pg.psql(`SET ROLE hive;
    CREATE TABLE "DBS" ("DB_ID" bigint PRIMARY KEY, "NAME" varchar(128) NOT NULL, "DB_LOCATION_URI" text NOT NULL);
    CREATE TABLE "TBLS" ("TBL_ID" bigint PRIMARY KEY, "DB_ID" bigint REFERENCES "DBS", "TBL_NAME" varchar(256), "CREATE_TIME" int);
    INSERT INTO "DBS" VALUES (1, 'default', 's3a://warehouse/'), (2, 'cost', 's3a://warehouse/cost.db');
    INSERT INTO "TBLS" SELECT g, 1 + g % 2, 'table_' || g, 1700000000 + g FROM generate_series(1, 300) g;`, 'hive');
  pg.psql(`SET ROLE api_gateway;
    CREATE TABLE django_migrations (id serial PRIMARY KEY, app varchar(255) NOT NULL, name varchar(255) NOT NULL, applied timestamptz NOT NULL);
    CREATE TABLE gateway_route (id serial PRIMARY KEY, path text UNIQUE NOT NULL, upstream text NOT NULL, data jsonb);
    INSERT INTO django_migrations (app, name, applied)
      VALUES ('contenttypes', '0001_initial', '2024-01-01'), ('gateway', '0001_initial', '2024-01-02');
    INSERT INTO gateway_route (path, upstream, data) SELECT '/api/v' || g || '/', 'http://erp-api:8000', jsonb_build_object('n', g) FROM generate_series(1, 50) g;`,
  'api_gateway');

  mediaFile('avatars/alice.png', randomBytes(64 * 1024));
  mediaFile('reports/2024/q1.csv', 'id,amount\n1,1.25\n2,2.50\n');
  mediaFile('private.key', randomBytes(32).toString('hex') + '\n', 0o600);
  mediaFile('shared.txt', 'group-writable\n', 0o664);
  mediaFile('notes 2024.txt', 'a name with a space\n');
  mediaFile('big.bin', randomBytes(1024 * 1024));
  fs.mkdirSync(path.join(media, 'empty'));
  if (AS_ROOT) chownTree(media);
  say('backup', `throwaway PostgreSQL ${serverMajor} on 127.0.0.1:${pg.port}; roles koku, hive, api_gateway (scram), databases owned by them; ` +
    (AS_ROOT
      ? `containers as UID ${PG_UID} (PostgreSQL client) and ${MEDIA_UID} (media), fsGroup ${FS_GROUP}; media volume with a root-only lost+found`
      : `not root: every container runs as UID ${process.getuid?.()}`));
});

afterAll(() => {
  pg?.destroy();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

// ---------------------------------------------------------------- 1

/** The state at the time of each set, to compare restores with. */
const snapshots = new Map<string, { db: Record<string, string>; media: string[] }>();
let firstSet: string;

describe('1. a backup set: globals, every database, media', () => {
  test('dump + archive as the owners (non-superusers) write one complete, checksummed set', async () => {
    await nextSecond();
    const before = { db: allDbState(), media: mediaState() };
    const b = backupPod('scheduled');
    ok(b.dump);
    const set = b.set!;
    firstSet = set;
    snapshots.set(set, before);
    expect(set).toMatch(/^\d{8}T\d{6}Z-scheduled$/);
    expect(sets()).toEqual([set]);
    expect(leftovers()).toEqual([]); // no .partial
    expect(b.dump.stdout).toContain(`server PostgreSQL ${serverMajor}, client pg_dump (PostgreSQL) ${serverMajor}.`);
    expect(b.dump.stderr).not.toMatch(/warning|error/i);
    for (const db of DATABASES) expect(b.dump.stdout).toContain(`  ${db}.dump: `);
    expect(b.dump.stdout).toMatch(/\(as koku\)[\s\S]*\(as hive\)[\s\S]*\(as api_gateway\)/);
    for (const db of DATABASES) expect(pg.value(`SELECT rolsuper FROM pg_roles WHERE rolname = '${db}'`)).toBe('f');

    const dir = path.join(backups, set);
    const files = fs.readdirSync(dir).sort();
    expect(files).toEqual(['SHA256SUMS', 'api_gateway.dump', 'globals.sql', 'hive.dump', 'koku.dump', 'media.tar.gz']);
    // nothing in the set is readable by others (umask 007): the group is the pod's fsGroup
    for (const f of ['.', ...files]) expect([f, (fs.statSync(path.join(dir, f)).mode & 0o007)]).toEqual([f, 0]);
    if (AS_ROOT) for (const f of ['.', ...files]) expect([f, fs.statSync(path.join(dir, f)).gid]).toEqual([f, FS_GROUP]);

    // globals: every role, memberships and settings, no password (hash or plain)
    const globals = fs.readFileSync(path.join(dir, 'globals.sql'), 'utf8');
    for (const role of [...DATABASES, 'erp_readers']) expect(globals).toMatch(new RegExp(`^CREATE ROLE ${role};$`, 'm'));
    expect(globals).toMatch(/^GRANT erp_readers TO koku\b/m);
    expect(globals).toMatch(/^ALTER ROLE koku SET statement_timeout TO '5min';$/m);
    expect(globals).not.toMatch(/PASSWORD|SCRAM-SHA-256\$|md5[0-9a-f]{32}/);
    for (const pw of Object.values(passwords)) expect(globals.includes(pw)).toBe(false);

    // each dump is a custom-format archive of its database, owned by its owner
    const expected: Record<Db, string[]> = {
      koku: ['TABLE public customers koku', 'TABLE public invoices koku', 'TABLE DATA public invoices koku', 'VIEW public customer_totals koku',
        'INDEX public invoices_created koku', 'EXTENSION - pg_stat_statements'],
      hive: ['TABLE public DBS hive', 'TABLE public TBLS hive', 'TABLE DATA public TBLS hive'],
      api_gateway: [
        'TABLE public django_migrations api_gateway', 'TABLE public gateway_route api_gateway', 'TABLE DATA public gateway_route api_gateway',
      ],
    };
    const listing: Record<string, string> = {};
    for (const db of DATABASES) {
      const l = spawnSync(path.join(pg.bin, 'pg_restore'), ['--list', path.join(dir, `${db}.dump`)], { encoding: 'utf8' });
      expect([db, l.status, l.stderr]).toEqual([db, 0, '']);
      listing[db] = l.stdout;
      expect(l.stdout).toContain(`;     dbname: ${db}\n`);
      expect(l.stdout).toContain('Format: CUSTOM');
      for (const entry of expected[db]) expect([db, l.stdout.includes(` ${entry}`)]).toEqual([db, true]);
      for (const other of DATABASES.filter((o) => o !== db)) expect(l.stdout).not.toMatch(new RegExp(` TABLE public \\S+ ${other}$`, 'm'));
    }

    // media.tar.gz: every file and directory of the volume, not lost+found
    const tar = spawnSync('tar', ['-tzf', path.join(dir, 'media.tar.gz')], { encoding: 'utf8' });
    expect([tar.status, tar.stderr]).toEqual([0, '']);
    const names = tar.stdout.split('\n').map((l) => l.replace(/^\.\//, '').replace(/\/$/, '')).filter(Boolean).sort();
    expect(names).toEqual(mediaEntries().map((e) => e.rel).sort());
    expect(names).toEqual(expect.arrayContaining(['private.key', 'reports/2024/q1.csv', 'notes 2024.txt', 'empty', 'big.bin']));
    expect(names.some((n) => n.startsWith('lost+found'))).toBe(false);
    expect(tar.stdout.split('\n')).not.toContain('./'); // not the volume's root: extracting it would chmod a directory the app does not own
    const verbose = spawnSync('tar', ['-tzvf', path.join(dir, 'media.tar.gz')], { encoding: 'utf8' }).stdout;
    expect(verbose).toMatch(/^-rw------- .* (\.\/)?private\.key$/m);
    expect(verbose).toMatch(/^-rw-rw-r-- .* (\.\/)?shared\.txt$/m);

    // SHA256SUMS lists every other file and verifies
    const sums = fs.readFileSync(path.join(dir, 'SHA256SUMS'), 'utf8').trim().split('\n').map((l) => l.split(/\s+\*?/));
    expect(sums.map(([, f]) => f).sort()).toEqual(files.filter((f) => f !== 'SHA256SUMS'));
    for (const [hash, f] of sums) expect([f, sha256(path.join(dir, f))]).toEqual([f, hash]);
    const check = spawnSync('sha256sum', ['--check', '--strict', 'SHA256SUMS'], { cwd: dir, encoding: 'utf8' });
    expect([check.status, check.stderr]).toEqual([0, '']);
    expect(fs.readFileSync(path.join(b.state, 'set'), 'utf8')).toBe(`${set}\n`);

    const sizes = files.map((f) => `${f} ${kib(fs.statSync(path.join(dir, f)).size)}`).join(', ');
    const total = files.reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
    say('backup', `set ${set}: dump ${b.dump.ms} ms + archive ${b.archive!.ms} ms; ${sizes}; total ${kib(total)}`);
    say('backup', `globals.sql: CREATE ROLE koku/hive/api_gateway/erp_readers, GRANT, ALTER ROLE SET; no PASSWORD; ` +
      `pg_restore --list: koku ${listing.koku.split('\n').filter((l) => /^\d+;/.test(l)).length} entries, ` +
      `hive ${listing.hive.split('\n').filter((l) => /^\d+;/.test(l)).length}, api_gateway ${listing.api_gateway.split('\n').filter((l) => /^\d+;/.test(l)).length}; ` +
      `media.tar.gz ${names.length} entries (0600 file kept 0600, no lost+found); sha256sum --check --strict ok`);
    record('backup set', `3 databases + globals + media in ${b.dump.ms + b.archive!.ms} ms, ${kib(total)}; every file checksummed`);
  });
});

// ---------------------------------------------------------------- 5 (before 2: the set restored in 2 holds the records)

describe('5. pre-migration record', () => {
  const records = () => pg.psql(`SELECT release, backup FROM ${MARKER_TABLE} ORDER BY release`, 'koku');

  test('the pre-migration pod records its release after the set is sealed; a second run upserts', async () => {
    await nextSecond();
    const b = backupPod('pre-migration');
    ok(b.dump);
    expect(b.set).toMatch(/^\d{8}T\d{6}Z-pre-migration$/);
    const marker = reroot(markerScript(), b.state);
    const first = ok(sh('record 2.0.0', marker, pgEnv({ MARKER_RELEASE: '2.0.0' }), 'pg'));
    expect(first.stdout).toContain(`pre-migration backup of release 2.0.0 recorded: ${b.set}`);
    expect(records()).toBe(`2.0.0|${b.set}`);
    expect(pg.value(`SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = '${MARKER_SCHEMA}'`, 'koku')).toBe('koku');
    const t1 = pg.value(`SELECT taken_at FROM ${MARKER_TABLE} WHERE release = '2.0.0'`, 'koku');

    // the same pod again (a retried Job): exit 0, still one row, taken_at moves
    await sleep(20);
    const again = ok(sh('record 2.0.0 again', marker, pgEnv({ MARKER_RELEASE: '2.0.0' }), 'pg'));
    expect(again.stderr).not.toMatch(/ERROR/); // NOTICEs: schema and table exist
    expect(records()).toBe(`2.0.0|${b.set}`);
    expect(pg.value(`SELECT taken_at > '${t1}' FROM ${MARKER_TABLE} WHERE release = '2.0.0'`, 'koku')).toBe('t');

    // a later backup for the same release replaces the record; another release adds one
    const other = newState();
    fs.writeFileSync(path.join(other, 'set'), `${firstSet}\n`);
    ok(sh('record 2.0.0 (other set)', reroot(markerScript(), other), pgEnv({ MARKER_RELEASE: '2.0.0' }), 'pg'));
    expect(records()).toBe(`2.0.0|${firstSet}`);
    ok(sh('record 2.0.0 (back)', marker, pgEnv({ MARKER_RELEASE: '2.0.0' }), 'pg'));
    ok(sh('record 2.1.0', marker, pgEnv({ MARKER_RELEASE: '2.1.0' }), 'pg'));
    expect(records()).toBe(`2.0.0|${b.set}\n2.1.0|${b.set}`);
    say('marker', `pre-migration pod (dump + seal + record as koku): ${b.set}; record run twice -> 1 row, taken_at advanced; ` +
      `another set for the same release -> updated (upsert); a 2nd release -> 2 rows; ${MARKER_SCHEMA} owned by koku`);
    record('pre-migration record', 'recorded after the seal; idempotent (upsert), as the non-superuser owner');
  });
});

// ---------------------------------------------------------------- 2

describe('2. restore', () => {
  let latest: string;

  test('restore latest brings back every row, table and media file exactly, and drops the pre-migration records', async () => {
    // a set that holds the erp_k8s records (made after the record above), and a change after the first set
    pg.psql("SET ROLE koku; INSERT INTO customers (name) VALUES ('added-after-set-1');", 'koku');
    mediaFile('avatars/bob.png', randomBytes(2048));
    await nextSecond();
    const before = { db: allDbState(), media: mediaState() };
    const b = backupPod('scheduled');
    ok(b.dump);
    latest = b.set!;
    snapshots.set(latest, before);
    expect(before.db.koku).toContain(`table|${MARKER_SCHEMA}|pre_migration_backups|koku`);

    // damage: rows deleted and changed, a table dropped in each other database, media changed, removed and added
    pg.psql('DELETE FROM invoices WHERE id % 3 = 0; UPDATE customers SET name = name || \'!\' WHERE id < 10; DROP VIEW customer_totals;', 'koku');
    pg.psql('DROP TABLE "TBLS"; UPDATE "DBS" SET "NAME" = \'broken\';', 'hive');
    pg.psql('DELETE FROM django_migrations; DROP TABLE gateway_route;', 'api_gateway');
    fs.writeFileSync(path.join(media, 'private.key'), 'tampered\n');
    fs.rmSync(path.join(media, 'reports'), { recursive: true });
    fs.chmodSync(path.join(media, 'shared.txt'), 0o600);
    mediaFile('uploaded-after-backup.txt', 'must disappear\n');
    // a table a later migration added (an upgrade being rolled back): the restore must not keep it
    pg.psql('SET ROLE koku; CREATE TABLE added_after_backup (id int); INSERT INTO added_after_backup VALUES (1);', 'koku');
    expect(allDbState()).not.toEqual(before.db);
    expect(mediaState()).not.toEqual(before.media);

    const r = restorePod('latest');
    ok(r.restore);
    expect(r.restore.stdout).toContain(`restoring ${latest}\nchecksums verified`);
    for (const db of DATABASES) expect(r.restore.stdout).toContain(`  ${db}: restored (as ${db})`);
    expect(r.unarchive!.stdout).toContain(`restore of ${latest} complete`);
    expect(r.unarchive!.stderr).toBe('');
    const after = allDbState();
    const expectedKoku = before.db.koku.split('\n').filter((l) => !l.includes(MARKER_SCHEMA)).join('\n');
    expect(after.koku).toEqual(expectedKoku); // all but the records
    expect(after.hive).toEqual(before.db.hive);
    expect(after.api_gateway).toEqual(before.db.api_gateway);
    expect(pg.value(`SELECT count(*) FROM pg_namespace WHERE nspname = '${MARKER_SCHEMA}'`, 'koku')).toBe('0');
    expect(pg.value("SELECT to_regclass('public.added_after_backup') IS NULL", 'koku')).toBe('t');
    expect(pg.value("SELECT extname FROM pg_extension WHERE extname = 'pg_stat_statements'", 'koku')).toBe('pg_stat_statements'); // left alone
    expect(mediaState()).toEqual(before.media);
    if (AS_ROOT) {
      expect(fs.statSync(path.join(media, 'lost+found')).uid).toBe(0); // untouched
      expect(fs.statSync(path.join(media, 'private.key')).uid).toBe(MEDIA_UID);
    }
    // the app can go on: sequences continue after the restored rows
    pg.psql("SET ROLE koku; INSERT INTO invoices (customer_id, amount, created) VALUES (1, 1, now());", 'koku');
    expect(pg.value('SELECT max(id) FROM invoices', 'koku')).toBe(String(INVOICES + 1));
    pg.psql(`DELETE FROM invoices WHERE id = ${INVOICES + 1}; SELECT setval('invoices_id_seq', ${INVOICES});`, 'koku');
    const size = fs.readdirSync(path.join(backups, latest)).reduce((n, f) => n + fs.statSync(path.join(backups, latest, f)).size, 0);
    say('restore', `BACKUP=latest -> ${latest} (${kib(size)}): restore ${r.restore.ms} ms + unarchive ${r.unarchive!.ms} ms; ` +
      `${rowCount('koku', 'invoices')} invoices, ${rowCount('hive', '"TBLS"')} TBLS, ${rowCount('api_gateway', 'gateway_route')} routes, ` +
      `${before.media.filter((l) => l.startsWith('["f"')).length} media files identical (content, mode, mtime); ${MARKER_SCHEMA} dropped; ` +
      'pg_stat_statements (EXTENSION entry skipped) left as the server has it');
    record('restore (existing databases)', `${r.restore.ms + r.unarchive!.ms} ms; rows, tables, sequences, views, media identical`);
  });

  test('restore by name brings back that (older) set', () => {
    const r = restorePod(firstSet);
    ok(r.restore);
    expect(r.restore.stdout).toContain(`restoring ${firstSet}\n`);
    const want = snapshots.get(firstSet)!;
    expect(allDbState()).toEqual(want.db);
    expect(rowCount('koku', "customers WHERE name = 'added-after-set-1'")).toBe(0);
    expect(mediaState()).toEqual(want.media);
    expect(fs.existsSync(path.join(media, 'avatars', 'bob.png'))).toBe(false);
    say('restore', `BACKUP=${firstSet} (by name, the older set): databases and media equal to that set's snapshot ` +
      `(restore ${r.restore.ms} ms + unarchive ${r.unarchive!.ms} ms)`);
  });

  test('restore into freshly created empty databases (the owners exist)', () => {
    pg.psql(DATABASES.map((db) => `DROP DATABASE ${db} WITH (FORCE);`).join('\n'));
    pg.psql(DATABASES.map((db) => `CREATE DATABASE ${db} OWNER ${db};`).join('\n'));
    fs.rmSync(media, { recursive: true });
    fs.mkdirSync(media);
    fs.chmodSync(media, 0o2775);
    if (AS_ROOT) {
      fs.chownSync(media, 0, FS_GROUP);
      fs.mkdirSync(path.join(media, 'lost+found'), { mode: 0o700 });
    }
    for (const db of DATABASES) expect(pg.value("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", db)).toBe('0');
    const r = restorePod('latest');
    ok(r.restore);
    const want = snapshots.get(latest)!;
    const after = allDbState();
    expect(after.koku).toEqual(want.db.koku.split('\n').filter((l) => !l.includes(MARKER_SCHEMA)).join('\n'));
    expect(after.hive).toEqual(want.db.hive);
    expect(after.api_gateway).toEqual(want.db.api_gateway);
    expect(mediaState()).toEqual(want.media);
    // extensions are the server's: the restore skips them, so a fresh database has none until the server's init creates it
    expect(pg.value("SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'", 'koku')).toBe('0');
    pg.psql('CREATE EXTENSION pg_stat_statements;', 'koku'); // as the in-cluster server's init SQL does on start
    say('restore', `into freshly created empty databases koku, hive, api_gateway (owners exist) and an empty media volume: ` +
      `identical (restore ${r.restore.ms} ms + unarchive ${r.unarchive!.ms} ms); pg_stat_statements not restored (the server's init creates it)`);
    record('restore (fresh databases)', `${r.restore.ms + r.unarchive!.ms} ms; identical`);
  });

  test('a corrupted file fails the checksum before the database or the media are touched', () => {
    const copy = latest.replace(/^\d{8}T\d{6}Z/, '29991231T235959Z');
    fs.cpSync(path.join(backups, latest), path.join(backups, copy), { recursive: true, preserveTimestamps: true });
    try {
      const f = path.join(backups, copy, 'hive.dump');
      const bytes = fs.readFileSync(f);
      bytes[Math.floor(bytes.length / 2)] ^= 0xff;
      fs.writeFileSync(f, bytes);
      pg.psql("SET ROLE hive; INSERT INTO \"DBS\" VALUES (99, 'sentinel', 's3a://x');", 'hive');
      mediaFile('sentinel.txt', 'still here\n');
      const dbBefore = allDbState();
      const mediaBefore = mediaState();
      for (const backup of ['latest', copy]) {
        const r = restorePod(backup);
        expect([backup, r.restore.code]).not.toEqual([backup, 0]);
        expect(r.restore.stdout).toContain(`restoring ${copy}`);
        expect(r.restore.stdout).not.toContain('checksums verified');
        expect(r.restore.stdout).toMatch(/^hive\.dump: FAILED$/m); // sha256sum --quiet names the file on stdout
        expect(r.restore.stderr).toContain('WARNING: 1 computed checksum did NOT match');
        expect(r.unarchive).toBeUndefined();
        expect(allDbState()).toEqual(dbBefore);
        expect(mediaState()).toEqual(mediaBefore);
        expect(fs.existsSync(path.join(r.state, 'set'))).toBe(false); // nothing for the unarchive step
      }
      say('restore', `${copy} with one flipped byte in hive.dump (BACKUP=latest and by name): exit non-zero, ` +
        '"hive.dump: FAILED ... computed checksum did NOT match", databases and media unchanged (a sentinel row and file survive)');
    } finally {
      fs.rmSync(path.join(backups, copy), { recursive: true, force: true });
      pg.psql('DELETE FROM "DBS" WHERE "DB_ID" = 99;', 'hive');
      fs.rmSync(path.join(media, 'sentinel.txt'));
    }
  });
});

// ---------------------------------------------------------------- 3

describe('3. version check: the client must be at least the server', () => {
  test('a 13 client against the 15 server fails with exit 3 and leaves no set; a wrong declared version only warns', async () => {
    const shim = path.join(work, 'pg13-shim');
    fs.mkdirSync(shim);
    fs.chmodSync(shim, 0o755);
    fs.writeFileSync(path.join(shim, 'pg_dump'), [
      '#!/bin/sh',
      'if [ "$1" = --version ]; then echo "pg_dump (PostgreSQL) 13.4"; exit 0; fi',
      `exec '${path.join(pg.bin, 'pg_dump')}' "$@"`,
      '',
    ].join('\n'), { mode: 0o755 });
    const before = volumeFingerprint();
    await nextSecond();
    const old = backupPod('scheduled', pgEnv(), [shim]);
    expect(old.dump.code).toBe(3);
    expect(old.dump.stderr)
      .toContain(`error: the client is PostgreSQL 13 but the server is PostgreSQL ${serverMajor}: pg_dump cannot dump a newer server`);
    expect(old.dump.stdout).toContain(`server PostgreSQL ${serverMajor}, client pg_dump (PostgreSQL) 13.4`);
    expect(old.archive).toBeUndefined();
    expect(volumeFingerprint()).toEqual(before);
    expect(fs.existsSync(path.join(old.state, 'set'))).toBe(false);

    await nextSecond();
    const real = backupPod('scheduled');
    ok(real.dump);
    expect(real.dump.stderr).toBe('');
    await nextSecond();
    const declared = backupPod('scheduled', pgEnv({ SERVER_MAJOR: String(serverMajor - 1) }));
    ok(declared.dump);
    expect(declared.dump.stderr)
      .toContain(`warning: the server is PostgreSQL ${serverMajor} but the manifests declare ${serverMajor - 1}: update the declared version`);
    expect(sets().slice(-2)).toEqual([real.set, declared.set]);
    expect(leftovers()).toEqual([]);
    const refusal = old.dump.stderr.trim().split(':').slice(0, 3).join(':');
    say('version', `pg_dump shim reporting 13.4 vs server ${serverMajor}: exit 3 in ${old.dump.ms} ms, "${refusal}", backup volume unchanged; `
      + `real ${serverMajor} client: ${real.set}; SERVER_MAJOR=${serverMajor - 1}: ${declared.set} with the warning on stderr`);
    record('version check', `client 13 vs server ${serverMajor}: exit 3, no set; wrong declaration: warning only`);
  });
});

// ---------------------------------------------------------------- 4

describe('4. a failed backup leaves nothing and prunes nothing; retention keeps the newest set', () => {
  test('a wrong password for one database: non-zero exit, no set, no leftover, older sets untouched', async () => {
    const before = volumeFingerprint();
    const setsBefore = sets();
    expect(setsBefore.length).toBeGreaterThanOrEqual(4);
    await nextSecond();
    const b = backupPod('scheduled', pgEnv({ DB_PASSWORD_1: 'wrong-password' }));
    expect(b.dump.code).not.toBe(0);
    expect(b.dump.stderr).toContain('password authentication failed for user "hive"');
    expect(b.dump.stdout).toContain('  koku.dump: '); // it got that far
    expect(b.archive).toBeUndefined();
    expect(sets()).toEqual(setsBefore);
    expect(leftovers()).toEqual([]);
    expect(volumeFingerprint()).toEqual(before);
    expect(fs.existsSync(path.join(b.state, 'set'))).toBe(false);
    say('failure', `DB_PASSWORD_1 wrong: dump exit ${b.dump.code} after koku.dump ("password authentication failed for user "hive""), ` +
      `no set and no .partial left, the ${setsBefore.length} older sets byte-identical`);
  });

  test('prune (RETENTION_DAYS=1) deletes sets older than a day, never the newest, and old leftovers only', () => {
    const all = sets();
    const newest = all[all.length - 1];
    const middle = all[all.length - 2];
    const old = all.slice(0, -2);
    const touch = (p: string, when: string) => {
      const t = spawnSync('touch', ['-d', when, p], { encoding: 'utf8' });
      expect([p, t.status, t.stderr]).toEqual([p, 0, '']);
    };
    for (const s of old) touch(path.join(backups, s), '2 days ago');
    touch(path.join(backups, newest), '2 days ago'); // the newest is old too: kept anyway
    // a leftover of a crashed run (2 days), one being written right now, a dump of the old layout
    const stale = '.20240101T020000Z-scheduled.partial';
    const running = `.${newest.replace(/^\d{8}T\d{6}Z/, '29991231T235959Z')}.partial`;
    for (const d of [stale, running]) {
      fs.mkdirSync(path.join(backups, d));
      fs.writeFileSync(path.join(backups, d, 'koku.dump'), 'x');
      if (AS_ROOT) { fs.chownSync(path.join(backups, d), PG_UID, FS_GROUP); fs.chownSync(path.join(backups, d, 'koku.dump'), PG_UID, FS_GROUP); }
    }
    touch(path.join(backups, stale), '2 days ago');
    fs.writeFileSync(path.join(backups, 'koku-20240101T020000Z.dump'), 'legacy');
    touch(path.join(backups, 'koku-20240101T020000Z.dump'), '2 days ago');

    const r = ok(sh('prune', reroot(pruneScript(), newState()), { RETENTION_DAYS: '1' }, 'pg'));
    expect(sets()).toEqual([middle, newest]);
    expect(leftovers()).toEqual([running]);
    expect(fs.existsSync(path.join(backups, 'koku-20240101T020000Z.dump'))).toBe(false);
    for (const s of old) expect(r.stdout).toContain(path.join(backups, s));
    expect(r.stdout).toContain(`newest set ${newest} is always kept`);
    expect(r.stdout).toContain(`local backup sets:\n  ${middle}\n  ${newest}\n`);
    // what is left still restores
    const check = spawnSync('sha256sum', ['--check', '--quiet', 'SHA256SUMS'], { cwd: path.join(backups, newest), encoding: 'utf8' });
    expect(check.status).toBe(0);
    say('prune', `RETENTION_DAYS=1: deleted ${old.length} sets aged 2 days (${old.join(', ')}), the 2-day-old leftover and legacy dump; ` +
      `kept ${middle} (fresh) and ${newest} (newest, aged 2 days too) and the partial being written`);
    record('retention', `${old.length} old sets pruned; the newest kept although old; failed backup: no set, nothing pruned`);
  });
});

/**
 * Integration harness: a throwaway PostgreSQL cluster on loopback, a runner
 * that executes synthesized container commands exactly as written (exec form,
 * the container's own env), and a report printed at the end of the run.
 *
 * Nothing here is mocked: the server is Debian's PostgreSQL, the app is a real
 * Django project (see django-project.ts), the commands come from the manifests.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from 'child_process';
import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

/** A synthesized manifest object. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- synthesized YAML/JSON, read field by field in assertions
export type Manifest = Record<string, any>;

// ---------------------------------------------------------------- reporting

/** Prints one line of the integration report (unbuffered, also under jest). */
export function say(section: string, line: string): void {
  process.stdout.write(`[${section}] ${line}\n`);
}

/** Records a final number for the summary printed by globalTeardown. */
export function record(key: string, value: string | number): void {
  const file = process.env.ERP_IT_SUMMARY;
  if (!file) return;
  fs.appendFileSync(file, JSON.stringify({ key, value }) + '\n');
}

// ------------------------------------------------------------ prerequisites

/** Directory holding initdb/pg_ctl/postgres/psql/pg_dump: newest /usr/lib/postgresql/<v>/bin, or $ERP_IT_PG_BIN. */
export function pgBin(): string {
  const forced = process.env.ERP_IT_PG_BIN;
  const candidates = forced ? [forced] : (fs.existsSync('/usr/lib/postgresql')
    ? fs.readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)).map((v) => `/usr/lib/postgresql/${v}/bin`)
    : []);
  const bin = candidates.find((d) => fs.existsSync(path.join(d, 'initdb')) && fs.existsSync(path.join(d, 'pg_ctl')));
  if (!bin) {
    throw new Error('PostgreSQL server binaries not found (looked for initdb in ' + (candidates.join(', ') || '/usr/lib/postgresql/*/bin') +
      '). Run test/integration/setup.sh (apt-get install postgresql postgresql-contrib) first. This is a failure, not a skip.');
  }
  return bin;
}

/** A python3 that imports django and psycopg2: $ERP_IT_PYTHON, else Debian's /usr/bin/python3, else python3 on PATH. */
export function pythonWithDjango(): string {
  const candidates = process.env.ERP_IT_PYTHON ? [process.env.ERP_IT_PYTHON] : ['/usr/bin/python3', 'python3'];
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import django, psycopg2; print(django.get_version())'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  throw new Error(`no python3 with django and psycopg2 among ${candidates.join(', ')}. Run test/integration/setup.sh ` +
    '(apt-get install python3-django python3-psycopg2) first. This is a failure, not a skip.');
}

let shimDir: string | undefined;
/**
 * A directory to put first on PATH in which `python` is a symlink to the
 * python3 that has Django: the manifests say `python`, Debian has python3.
 */
export function pythonShimDir(): string {
  if (shimDir) return shimDir;
  const py = pythonWithDjango();
  const real = py.includes('/') ? py : execFileSync('sh', ['-c', `command -v ${py}`], { encoding: 'utf8' }).trim();
  shimDir = fs.mkdtempSync(path.join(os.tmpdir(), 'erp-it-bin-'));
  fs.symlinkSync(real, path.join(shimDir, 'python'));
  fs.symlinkSync(real, path.join(shimDir, 'python3'));
  return shimDir;
}

/** A free TCP port on 127.0.0.1 (nothing listens on it when this returns). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------ the cluster

/** Application role the manifests' DB_USER/DB_PASSWORD resolve to. */
export const APP_USER = 'erp';

/**
 * A throwaway PostgreSQL cluster: initdb into a temp dir, listening on
 * 127.0.0.1 and a random free port only, password (scram) auth over TCP and
 * trust over its private Unix socket (for the harness's own superuser psql),
 * pg_stat_statements preloaded. `destroy()` stops it and deletes everything.
 */
export class PgCluster {
  /**
   * Creates and initialises the cluster (does not start it). `includeConf`:
   * a generated server config to `include` instead of the harness's own
   * `shared_preload_libraries = 'pg_stat_statements'`.
   */
  public static async create(name: string, includeConf?: string): Promise<PgCluster> {
    const bin = pgBin();
    const root = fs.mkdtempSync(path.join(os.tmpdir(), `erp-it-pg-${name}-`));
    const port = await freePort();
    const c = new PgCluster(bin, root, port, randomBytes(12).toString('hex'), randomBytes(12).toString('hex'));
    c.init(includeConf);
    return c;
  }

  public readonly dataDir: string;
  public readonly socketDir: string;
  public readonly logFile: string;
  private readonly asRoot = process.getuid?.() === 0;
  private running = false;

  private constructor(
    public readonly bin: string,
    public readonly root: string,
    public readonly port: number,
    /** Password of the `postgres` superuser (TCP). */
    public readonly superPassword: string,
    /** Password of the application role `erp`. */
    public readonly appPassword: string,
  ) {
    this.dataDir = path.join(root, 'data');
    this.socketDir = path.join(root, 'sock');
    this.logFile = path.join(root, 'postgres.log');
  }

  /** Runs a server binary, as the `postgres` OS user when we are root (initdb refuses root). */
  private server(tool: string, args: string[]): string {
    const exe = path.join(this.bin, tool);
    const [cmd, argv] = this.asRoot ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args];
    const r = spawnSync(cmd, argv, { encoding: 'utf8', cwd: this.root });
    if (r.status !== 0) {
      const log = fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile, 'utf8').slice(-3000) : '';
      throw new Error(`PostgreSQL ${tool} failed (exit ${r.status}${r.error ? ', ' + r.error.message : ''}):\n${r.stdout}\n${r.stderr}\n${log}`);
    }
    return r.stdout;
  }

  private init(includeConf?: string): void {
    fs.mkdirSync(this.socketDir);
    const pwfile = path.join(this.root, 'pw');
    fs.writeFileSync(pwfile, this.superPassword + '\n', { mode: 0o600 });
    if (this.asRoot) {
      execFileSync('chown', ['-R', 'postgres:', this.root]);
      fs.chmodSync(this.root, 0o755);
    }
    this.server('initdb', ['-D', this.dataDir, '-U', 'postgres', '--pwfile', pwfile, '-E', 'UTF8', '--locale', 'C',
      '--auth-local', 'trust', '--auth-host', 'scram-sha-256', '--no-sync']);
    fs.rmSync(pwfile);
    fs.appendFileSync(path.join(this.dataDir, 'postgresql.conf'), [
      '',
      '# erp-k8s integration test cluster',
      "listen_addresses = '127.0.0.1'",
      `port = ${this.port}`,
      `unix_socket_directories = '${this.socketDir}'`,
      includeConf ? `include '${includeConf}'` : "shared_preload_libraries = 'pg_stat_statements'",
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      'max_connections = 50',
      '',
    ].join('\n'));
  }

  /** Starts the server and waits until it accepts connections. */
  public start(): void {
    this.server('pg_ctl', ['-D', this.dataDir, '-l', this.logFile, '-w', '-t', '30', 'start']);
    this.running = true;
  }

  /** Stops the server (immediate mode). */
  public stop(): void {
    if (!this.running) return;
    this.server('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop']);
    this.running = false;
  }

  /** Stops (if running) and deletes the cluster directory. Never throws. */
  public destroy(): void {
    try { this.stop(); } catch (e) { process.stderr.write(`[pg] stop failed: ${(e as Error).message}\n`); }
    fs.rmSync(this.root, { recursive: true, force: true });
  }

  /** Superuser psql over the private socket; returns unaligned, tuple-only output. Throws on any SQL error. */
  public psql(sql: string, db = 'postgres', extraArgs: string[] = []): string {
    const r = spawnSync(path.join(this.bin, 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-At', '-h', this.socketDir, '-p', String(this.port),
      '-U', 'postgres', '-d', db, ...extraArgs, '-f', '-'], { input: sql, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`psql (${db}) failed: ${r.stderr}\nSQL:\n${sql}`);
    return r.stdout.trim();
  }

  /** One value (first column of the first row). */
  public value(sql: string, db = 'postgres'): string {
    return this.psql(sql, db).split('\n')[0] ?? '';
  }

  /** Every table of `db` (but the catalogs'), each as `rows <schema.table>: <count> <md5 of its rows, sorted>`. */
  public rowDigests(db: string): string[] {
    const tables = this.psql("SELECT format('%I.%I', schemaname, tablename) FROM pg_tables "
      + "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1", db).split('\n').filter(Boolean);
    const digest = (t: string) => `SELECT count(*) || ' ' || md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) FROM ${t} x`;
    return tables.map((t) => `rows ${t}: ${this.value(digest(t), db)}`);
  }

  /** Creates the application role (password auth) if missing. */
  public createAppRole(): void {
    this.psql(`DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${APP_USER}') THEN
      CREATE ROLE ${APP_USER} LOGIN PASSWORD '${this.appPassword}'; END IF; END $$;`);
  }

  /** A database owned by the application role. */
  public createDatabase(name: string): void {
    this.psql(`CREATE DATABASE ${name} OWNER ${APP_USER}`);
  }

  /** libpq environment for the superuser over TCP (what a Job would get). */
  public superEnv(db = 'postgres'): Record<string, string> {
    return { PGHOST: '127.0.0.1', PGPORT: String(this.port), PGUSER: 'postgres', PGPASSWORD: this.superPassword, PGDATABASE: db };
  }
}

// ------------------------------------------------------ running containers

/** Secrets the manifests reference, by name then key (what `kubectl create secret` would hold). */
export type Secrets = Record<string, Record<string, string>>;

/**
 * The environment Kubernetes would give this container: `envFrom` secrets
 * first, then `env` (value or secretKeyRef) winning over them. A reference to
 * a secret or key that `secrets` does not hold throws, as the kubelet would
 * refuse to start the container. `fields` resolves fieldRefs (the downward
 * API), e.g. `{ 'metadata.namespace': 'erp' }`.
 */
export function containerEnv(container: Manifest, secrets: Secrets, fields: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const src of container.envFrom ?? []) {
    const name = src.secretRef?.name ?? src.configMapRef?.name;
    const s = secrets[name];
    if (!s) {
      if (src.secretRef?.optional || src.configMapRef?.optional) continue;
      throw new Error(`container ${container.name}: envFrom ${name} is not among the test secrets`);
    }
    Object.assign(env, s);
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = String(e.value);
    else if (e.valueFrom?.secretKeyRef) {
      const { name, key } = e.valueFrom.secretKeyRef;
      const v = secrets[name]?.[key];
      if (v === undefined) {
        throw new Error(`container ${container.name}: env ${e.name} refers to secret ${name} key ${key}, not among the test secrets`);
      }
      env[e.name] = v;
    } else if (e.valueFrom?.fieldRef) {
      const v = fields[e.valueFrom.fieldRef.fieldPath];
      if (v === undefined) {
        throw new Error(`container ${container.name}: env ${e.name} refers to field ${e.valueFrom.fieldRef.fieldPath}, not given to the test`);
      }
      env[e.name] = v;
    } else throw new Error(`container ${container.name}: env ${e.name} has an unsupported source ${JSON.stringify(e.valueFrom)}`);
  }
  return env;
}

/** The outcome of one command. */
export interface RunResult {
  readonly label: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly timedOut: boolean;
}

export interface RunOptions {
  readonly cwd: string;
  /** The container's environment (see containerEnv) plus any harness knobs. */
  readonly env: Record<string, string>;
  readonly timeoutMs?: number;
  readonly label?: string;
  /** Directories put on PATH after the python shim (e.g. the PostgreSQL bin dir, a kubectl shim). */
  readonly pathPrefix?: string[];
}

const children = new Set<ChildProcess>();

/**
 * Runs an exec-form command exactly as synthesized (argv[0] looked up on a
 * PATH that starts with the python shim). The environment is only what the
 * caller passes plus PATH/HOME/LANG: nothing leaks from the test process.
 */
export function run(command: string[], opts: RunOptions): Promise<RunResult> {
  const env = {
    PATH: [pythonShimDir(), ...(opts.pathPrefix ?? []), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
    HOME: opts.cwd,
    LANG: 'C.UTF-8',
    PYTHONDONTWRITEBYTECODE: '1', // the pods run with a read-only root filesystem
    PYTHONUNBUFFERED: '1',
    ...opts.env,
  };
  const label = opts.label ?? command[0];
  return new Promise((resolve) => {
    const startedAt = Date.now();
    const child = spawn(command[0], command.slice(1), { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout!.on('data', (d) => { stdout += d; });
    child.stderr!.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, opts.timeoutMs ?? 60_000);
    child.on('error', (err) => { stderr += `spawn error: ${err.message}\n`; });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ label, code, signal, stdout, stderr, startedAt, endedAt: Date.now(), timedOut });
    });
  });
}

/** Kills any command still running (by its own pid), e.g. after a failed assertion, and removes the python shim dir. */
export function killChildren(): void {
  for (const c of children) c.kill('SIGKILL');
  if (shimDir) fs.rmSync(shimDir, { recursive: true, force: true });
  shimDir = undefined;
}

/** A compact description of a result for failure messages. */
export function describe_(r: RunResult): string {
  const how = `${r.signal ? ' signal ' + r.signal : ''}${r.timedOut ? ' (TIMED OUT)' : ''}`;
  return `${r.label}: exit ${r.code}${how} after ${r.endedAt - r.startedAt} ms\n` +
    `--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`;
}

/** Throws with the full output unless the command exited 0. */
export function expectSuccess(r: RunResult): void {
  if (r.code !== 0) throw new Error(`expected exit 0\n${describe_(r)}`);
}

// ------------------------------------------------------ manifest helpers

/** Pod spec of a workload. */
export function podSpec(o: Manifest): Manifest {
  return o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template.spec : o.spec.template.spec;
}

/** A container (init or regular) by name. */
export function container(o: Manifest, name: string): Manifest {
  const s = podSpec(o);
  const c = [...(s.initContainers ?? []), ...s.containers].find((x: Manifest) => x.name === name);
  if (!c) throw new Error(`no container ${name} in ${o.kind}/${o.metadata?.name}`);
  return c;
}

/** The one object of a kind (and name). */
export function one(objs: Manifest[], kind: string, name?: string): Manifest {
  const found = objs.filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ' ' + name : ''}, found ${found.length}`);
  return found[0];
}

/** SHA-256 of a file, hex. */
export const sha256 = (f: string): string => createHash('sha256').update(fs.readFileSync(f)).digest('hex');

/** Every entry under `dir` (recursively) with its size, mtime and hash: "untouched" means equal. */
export function volumeFingerprint(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      const r = path.join(rel, name);
      const st = fs.lstatSync(path.join(dir, r));
      if (st.isDirectory()) {
        out.push(`d ${r} ${st.mtimeMs}`);
        walk(r);
      } else out.push(`f ${r} ${st.size} ${st.mtimeMs} ${sha256(path.join(dir, r))}`);
    }
  };
  walk('');
  return out;
}

/**
 * Every entry of a volume but its `lost+found`, recursively: for each, its
 * path and a JSON line of type, path, mode and, for files, size, mtime (s)
 * and content hash.
 */
export function treeEntries(dir: string): Array<{ rel: string; line: string }> {
  const out: Array<{ rel: string; line: string }> = [];
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (r === 'lost+found') continue;
      const st = fs.lstatSync(path.join(dir, r));
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isDirectory()) {
        out.push({ rel: r, line: JSON.stringify(['d', r, mode]) });
        walk(r);
      } else out.push({ rel: r, line: JSON.stringify(['f', r, mode, st.size, Math.floor(st.mtimeMs / 1000), sha256(path.join(dir, r))]) });
    }
  };
  walk('');
  return out;
}

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parseEnv } from 'util';
import { fail } from '../src/internal/validate';
import { checkSecretEntry, SECRET_EXAMPLE_FILE, SECRET_PLACEHOLDER } from '../src/internal/secret-entry';

export { checkSecretEntry, SECRET_EXAMPLE_FILE, SECRET_PLACEHOLDER };

/** Options for {@link loadSecretValues}. */
export interface LoadSecretValuesOptions {
  /**
   * A git-ignored YAML file holding a flat map of quoted strings, e.g.
   * `secrets.dev.yaml` (see `secrets.example.yaml`). A missing file is
   * skipped; a file tracked by git, or the example itself, is refused.
   * @default - no file
   */
  readonly file?: string;
  /**
   * Environment to take `<prefix><KEY>` variables from (pass `process.env`).
   * They win over the file's keys, as `--set` wins over `-f` in Helm.
   * @default - no variables
   */
  readonly env?: Record<string, string | undefined>;
  /** Prefix of the variables; stripped from the key. @default 'API_GATEWAY_' */
  readonly prefix?: string;
}

/**
 * Reads secret values for a chart's `secretValues` at synth time, from a
 * git-ignored file and/or prefixed environment variables. Only the app
 * (`deploy/main.ts`, environment files) calls this: constructs never read
 * files or the environment.
 *
 * @returns the values, or `undefined` when neither source has any (the chart
 *          then references an existing Secret instead of creating one)
 */
export function loadSecretValues(options: LoadSecretValuesOptions = {}): Record<string, string> | undefined {
  const prefix = options.prefix ?? 'API_GATEWAY_';
  const values: Record<string, string> = {};
  if (options.file !== undefined && fs.existsSync(options.file)) {
    Object.assign(values, readSecretFile(options.file));
  }
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (!name.startsWith(prefix) || value === undefined) continue;
    const key = name.slice(prefix.length);
    checkSecretEntry('environment', name, key, value);
    values[key] = value;
  }
  return Object.keys(values).length ? values : undefined;
}

/** The `yaml` module cdk8s reads and writes with (YAML 1.1), bundled with cdk8s and already loaded by it. */
export function cdk8sYaml(): typeof import('yaml') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- that very copy, resolved at run time
  return require(require.resolve('yaml', { paths: [path.dirname(require.resolve('cdk8s'))] }));
}

function readSecretFile(file: string): Record<string, string> {
  if (path.basename(file) === SECRET_EXAMPLE_FILE) {
    fail(file, 'file', file, 'is the committed example: copy it to a git-ignored secrets.<env>.yaml and fill in real values');
  }
  if (isTrackedByGit(file)) {
    fail(file, 'file', file, "is tracked by git: secret values must never be committed; 'git rm --cached' it (secrets.*.yaml is git-ignored)");
  }
  const yaml = cdk8sYaml();
  const lines = new yaml.LineCounter();
  // as cdk8s's Yaml.load reads (YAML 1.1), keeping repeated keys to name them
  const docs = yaml.parseAllDocuments(fs.readFileSync(file, 'utf8'), { version: '1.1', uniqueKeys: false, lineCounter: lines })
    .filter((d) => d.errors.length > 0 || d.contents !== null);
  for (const e of docs.flatMap((d) => d.errors)) {
    // the parser's own message quotes the line, which may hold a secret
    fail(`${file}:${lines.linePos(e.pos[0]).line}`, 'file', file,
      `is not valid YAML here (${e.code}); it must hold one mapping of KEY: "value" pairs`);
  }
  if (docs.length === 0) return {};
  const map = docs[0].contents;
  if (docs.length > 1 || !yaml.isMap(map)) {
    fail(file, 'file', file, 'must hold one YAML mapping of KEY: "value" pairs');
  }
  const seen = new Map<string, number>();
  for (const item of map.items) {
    const key = yaml.isScalar(item.key) ? String(item.key.value) : String(item.key);
    const line = yaml.isNode(item.key) && item.key.range ? lines.linePos(item.key.range[0]).line : 0;
    const first = seen.get(key);
    if (first !== undefined) fail(`${file}:${line}`, key, '<redacted>', repeatedKey(first, line));
    seen.set(key, line);
  }
  const doc = docs[0].toJSON() as Record<string, unknown>;
  for (const [key, value] of Object.entries(doc)) checkSecretEntry(file, key, key, value);
  return doc as Record<string, string>;
}

/** What a key set twice is told: the last would silently win. */
function repeatedKey(first: number, second: number): string {
  return `is set twice, on lines ${first} and ${second}: keep one (the last would silently win)`;
}

/** `[export] KEY=` at the start of a dotenv line; the rest is the value, as written. */
const DOTENV_ASSIGNMENT = /^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*=(.*)$/;

/**
 * Reads a dotenv file (`.env.<env>`) with Node's own parser, `util.parseEnv`:
 * `KEY=value` or `export KEY=value`, `#` comments (also after a value),
 * values in '...', "..." (where `\n` is a newline) or `...` backquotes, on
 * several lines when quoted. A scan of the lines first refuses what
 * `util.parseEnv` would silently misread: a line that is not `KEY=VALUE`, a
 * key set twice (it keeps the last), a quote never closed, text after a
 * closing quote, and an unquoted value with a `#` glued to it (`pa#ss` would
 * be read `pa`: quote it). Errors name the file, the line and the key, never
 * a value or a line's text.
 */
export function parseDotenv(text: string, file: string): Record<string, string> {
  const keys = dotenvKeys(text, file);
  const values = parseEnv(text);
  const out: Record<string, string> = {};
  for (const [key, line] of keys) {
    const value = values[key];
    if (value === undefined) {
      fail(`${file}:${line}`, key, '<redacted>', 'could not be read by util.parseEnv: write it KEY=VALUE on one line, or quote it');
    }
    out[key] = value;
  }
  return out;
}

/** The keys of a dotenv file and the line of each; refuses what {@link parseDotenv} describes. */
function dotenvKeys(text: string, file: string): Map<string, number> {
  const lines = text.split(/\r?\n/);
  const keys = new Map<string, number>();
  for (let i = 0; i < lines.length; i++) {
    if (/^\s*(#|$)/.test(lines[i])) continue;
    const at = `${file}:${i + 1}`;
    const m = DOTENV_ASSIGNMENT.exec(lines[i]);
    if (!m) fail(at, 'line', '<redacted>', 'must be KEY=VALUE (or export KEY=VALUE), a # comment or blank, KEY a C identifier');
    const key = m[1];
    const first = keys.get(key);
    if (first !== undefined) fail(at, key, '<redacted>', repeatedKey(first, i + 1));
    keys.set(key, i + 1);
    let rest = m[2].trimStart();
    const quote = rest[0];
    if (quote === '"' || quote === "'" || quote === '`') {
      let close = rest.indexOf(quote, 1);
      while (close < 0 && i + 1 < lines.length) { // a quoted value may span lines
        rest = lines[++i];
        close = rest.indexOf(quote);
      }
      if (close < 0) fail(at, key, '<redacted>', `opens a ${quote} quote that is never closed`);
      if (!/^[ \t]*(#.*)?$/.test(rest.slice(close + 1))) {
        fail(`${file}:${i + 1}`, key, '<redacted>', `has text after its closing ${quote}: only a # comment may follow `
          + '(a quote inside the value cannot be escaped; use another quote)');
      }
    } else if (/(^|[^ \t])#/.test(m[2])) {
      fail(at, key, '<redacted>', "has a '#' with no space before it, which starts a comment and would cut the value there: "
        + 'quote the value (KEY="...")');
    }
  }
  return keys;
}

/** True when git tracks (or has staged) the file; false outside a repository or without git. */
function isTrackedByGit(file: string): boolean {
  try {
    execFileSync('git', ['ls-files', '--error-unmatch', '--', path.basename(file)], { cwd: path.dirname(path.resolve(file)), stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Yaml } from 'cdk8s';
import { IConstruct } from 'constructs';
import { checkEnvName, fail } from './validate';

/**
 * Values that mark a placeholder (as in the committed `secrets.example.yaml`):
 * a secret containing one is refused, so an example value never reaches a
 * cluster.
 */
export const SECRET_PLACEHOLDER = /change[-_]?me/i;

/** The committed example file; never loaded. */
export const SECRET_EXAMPLE_FILE = 'secrets.example.yaml';

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
 * (`src/main.ts`, environment files) calls this: constructs never read
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

/**
 * Checks one secret entry: a variable name, a non-empty string, no
 * placeholder. Messages never show the value. Also used by the charts.
 */
export function checkSecretEntry(where: IConstruct | string, field: string, key: string, value: unknown): void {
  checkEnvName(where, field, key);
  if (typeof value !== 'string') fail(where, field, `<${typeof value}>`, 'must be a quoted string (YAML reads yes/no/on/off and numbers as other types)');
  if (value === '') fail(where, field, '<empty>', 'must not be empty');
  if (SECRET_PLACEHOLDER.test(value)) fail(where, field, '<redacted>', `is a placeholder from ${SECRET_EXAMPLE_FILE}; put the real value in your git-ignored secrets.<env>.yaml`);
}

function readSecretFile(file: string): Record<string, string> {
  if (path.basename(file) === SECRET_EXAMPLE_FILE) {
    fail(file, 'file', file, 'is the committed example: copy it to a git-ignored secrets.<env>.yaml and fill in real values');
  }
  if (isTrackedByGit(file)) {
    fail(file, 'file', file, "is tracked by git: secret values must never be committed; 'git rm --cached' it (secrets.*.yaml is git-ignored)");
  }
  const docs = Yaml.load(path.resolve(file));
  if (docs.length === 0) return {};
  const doc = docs[0];
  if (docs.length > 1 || typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    fail(file, 'file', file, 'must hold one YAML mapping of KEY: "value" pairs');
  }
  for (const [key, value] of Object.entries(doc)) checkSecretEntry(file, key, key, value);
  return doc as Record<string, string>;
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

import * as fs from 'fs';
import * as path from 'path';
import { buildEnvironment, ENVIRONMENTS, EnvironmentConfig, ErpEnvironment, SynthSecrets } from './environments';
import { checkPolicy, formatExemptions, formatViolations } from './policy';
import { formatSchemaErrors, validateManifests } from './schema-validator';
import { loadSecretValues } from './secret-values';
import { ManifestFile, Phase, PHASES, renderFiles, writeEnvironments } from './synthesizer';
import { fail } from './validate';

/** Options of {@link synthesizeApp}. */
export interface SynthesizeAppOptions {
  /** Output folder; each environment goes to `<outdir>/<env>/`. */
  readonly outdir: string;
  /** Environments to synthesize. @default - all */
  readonly only?: string[];
  /** Folder holding the git-ignored `.env.<env>` and `secrets.<env>.yaml`. @default process.cwd() */
  readonly secretsDir?: string;
  /** Process environment (API_GATEWAY_* variables). @default {} */
  readonly env?: Record<string, string | undefined>;
  /** Environment configs. @default ENVIRONMENTS */
  readonly environments?: Record<string, EnvironmentConfig>;
  /**
   * Write the namespace file (00-namespace). Off for a Helm chart: the
   * release's namespace must exist before `helm install -n <ns>`.
   * @default true
   */
  readonly withNamespace?: boolean;
  /** Reports warnings. @default console.warn */
  readonly warn?: (message: string) => void;
}

/** What a synthesis produced. */
export interface SynthesisResult {
  readonly files: string[];
  readonly objects: Record<string, number>;
  /** Policy warnings and exemptions, per environment. */
  readonly warnings: string[];
}

/** Thrown when one or more environments fail; lists every error of every environment. */
export class SynthesisError extends Error {
  constructor(public readonly errors: string[]) {
    super(errors.join('\n'));
    this.name = 'SynthesisError';
  }
}

/**
 * The gate every environment passes before anything is written: the
 * Kubernetes 1.28 / CRD schemas, then the policy rules.
 */
export function gate(config: EnvironmentConfig, files: ManifestFile[]): { errors: string[]; warnings: string[] } {
  const objects = files.flatMap((f) => f.objects);
  const schema = validateManifests(objects);
  const policy = checkPolicy(objects, { allowLatest: config.allowLatestImages, defaultNamespace: config.namespace });
  const errors: string[] = [];
  const warnings: string[] = [];
  if (schema.length) errors.push(`[${config.name}] ${schema.length} schema error(s):\n${formatSchemaErrors(schema)}`);
  const bad = policy.violations.filter((v) => v.severity === 'error');
  const warn = policy.violations.filter((v) => v.severity === 'warning');
  if (bad.length) errors.push(`[${config.name}] ${bad.length} policy violation(s):\n${formatViolations(bad)}`);
  if (warn.length) warnings.push(`[${config.name}] ${warn.length} policy warning(s):\n${formatViolations(warn)}`);
  if (policy.exemptions.length) warnings.push(`[${config.name}] ${policy.exemptions.length} policy exemption(s):\n${formatExemptions(policy.exemptions)}`);
  return { errors, warnings };
}

/** Parses a dotenv file (KEY=VALUE, # comments, optional quotes). */
export function parseDotenv(text: string, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) fail(`${file}:${i + 1}`, 'line', line.replace(/=.*/, '=<redacted>'), 'must be KEY=VALUE');
    out[m[1]] = m[2].replace(/^(['"])(.*)\1$/, '$2');
  });
  return out;
}

/** Selects environments by name, with an error listing the known ones. */
export function selectEnvironments(all: Record<string, EnvironmentConfig>, only?: string[]): EnvironmentConfig[] {
  if (!only || only.length === 0) return Object.values(all);
  return only.map((n) => all[n] ?? fail('ERP_ENV', 'environment', n, `is unknown; choose from ${Object.keys(all).join(', ')}`));
}

/** Builds one environment with the secrets found for it. */
export function buildWithSecrets(config: EnvironmentConfig, secretsDir: string, env: Record<string, string | undefined>): ErpEnvironment {
  const dotenv = path.join(secretsDir, `.env.${config.name}`);
  const secrets: SynthSecrets = {
    app: fs.existsSync(dotenv) ? parseDotenv(fs.readFileSync(dotenv, 'utf8'), dotenv) : undefined,
    gateway: loadSecretValues({ file: path.join(secretsDir, `secrets.${config.name}.yaml`), env }),
  };
  return buildEnvironment(config, secrets);
}

/**
 * Synthesizes the selected environments. Everything is built and checked
 * first; only then is anything written, and each `<outdir>/<env>/` is
 * replaced whole. A failure leaves the previous output untouched.
 */
export function synthesizeApp(options: SynthesizeAppOptions): SynthesisResult {
  const configs = selectEnvironments(options.environments ?? ENVIRONMENTS, options.only);
  const outputs: Record<string, ManifestFile[]> = {};
  const objects: Record<string, number> = {};
  const errors: string[] = [];
  const warnings: string[] = [];
  for (const config of configs) {
    try {
      const built = buildWithSecrets(config, options.secretsDir ?? process.cwd(), options.env ?? {});
      // renderFiles runs the construct validations (once for the whole app)
      const files = renderFiles(built.charts);
      // the gate sees the whole environment, namespace included, even when
      // the namespace file is not written
      const result = gate(config, files);
      errors.push(...result.errors);
      warnings.push(...result.warnings);
      const written = options.withNamespace === false ? files.filter((f) => f.name !== `${PHASES[Phase.NAMESPACE].file}.k8s.yaml`) : files;
      outputs[config.name] = written;
      objects[config.name] = written.reduce((n, f) => n + f.objects.length, 0);
    } catch (e) {
      errors.push(`[${config.name}] ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (errors.length) throw new SynthesisError(errors);
  for (const w of warnings) (options.warn ?? console.warn)(w);
  return { files: writeEnvironments(options.outdir, outputs), objects, warnings };
}

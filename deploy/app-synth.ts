import * as fs from 'fs';
import * as path from 'path';
import { buildEnvironment, ENVIRONMENTS, EnvironmentConfig, ErpEnvironment, SynthSecrets, takesGatewaySecretValues } from './environments';
import { guardAgainstBaseline } from './baseline';
import { checkPolicy, formatExemptions, formatViolations } from '../src/gates/policy';
import { Severity } from '../src/gates/policy-rules';
import { formatSchemaErrors, validateManifests } from '../src/gates/schema-validator';
import { loadSecretValues, parseDotenv } from './secret-values';
import { ManifestFile, Phase, phaseFile, RenderedFile, renderFiles, renderYaml, writeRenderedEnvironments } from './synth';
import { fail } from '../src/internal/validate';

/** Options of {@link renderApp}. */
export interface RenderAppOptions {
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
  /**
   * The previous output, laid out like the output folder (`<baseline>/<env>/*.yaml`):
   * a change to a field Kubernetes will not change in place is refused
   * (see `immutable-guard.ts`).
   * @default - no comparison
   */
  readonly baseline?: string;
  /**
   * Report immutable-field changes as warnings (still with the way out)
   * instead of refusing them: for people who will delete and re-create
   * those objects. `ERP_ALLOW_IMMUTABLE_CHANGES=1` in `npm run synth`.
   * @default false
   */
  readonly allowImmutableChanges?: boolean;
  /** Reports warnings. @default console.warn */
  readonly warn?: (message: string) => void;
}

/** Options of {@link synthesizeApp}. */
export interface SynthesizeAppOptions extends RenderAppOptions {
  /** Output folder; each environment goes to `<outdir>/<env>/`. */
  readonly outdir: string;
  /** @default - the output folder itself (what `<outdir>/<env>/` holds now) */
  readonly baseline?: string;
}

/** What {@link renderApp} produced: every environment's files, checked, not written. */
export interface RenderedApp {
  readonly outputs: Record<string, RenderedFile[]>;
  readonly objects: Record<string, number>;
  /** Policy warnings and exemptions (and allowed immutable changes), per environment. */
  readonly warnings: string[];
}

/** What a synthesis produced. */
export interface SynthesisResult {
  /** Every file of the selected environments (written, or already identical). */
  readonly files: string[];
  readonly objects: Record<string, number>;
  /** Policy warnings and exemptions, per environment. */
  readonly warnings: string[];
  /** Environments whose folder already held exactly this output (not rewritten). */
  readonly unchanged: string[];
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
  const bad = policy.violations.filter((v) => v.severity === Severity.ERROR);
  const warn = policy.violations.filter((v) => v.severity === Severity.WARNING);
  if (bad.length) errors.push(`[${config.name}] ${bad.length} policy violation(s):\n${formatViolations(bad)}`);
  if (warn.length) warnings.push(`[${config.name}] ${warn.length} policy warning(s):\n${formatViolations(warn)}`);
  if (policy.exemptions.length) {
    warnings.push(`[${config.name}] ${policy.exemptions.length} policy exemption(s):\n${formatExemptions(policy.exemptions)}`);
  }
  return { errors, warnings };
}

/** Selects environments by name, with an error listing the known ones. */
export function selectEnvironments(all: Record<string, EnvironmentConfig>, only?: string[]): EnvironmentConfig[] {
  if (!only || only.length === 0) return Object.values(all);
  return only.map((n) => all[n] ?? fail('ERP_ENV', 'environment', n, `is unknown; choose from ${Object.keys(all).join(', ')}`));
}

/**
 * Builds one environment with the secrets found for it: `.env.<env>` and
 * `secrets.<env>.yaml` in `secretsDir`, `API_GATEWAY_*` in `env`. A secrets
 * file the environment does not take is still checked, and reported to `warn`.
 */
export function buildWithSecrets(config: EnvironmentConfig, secretsDir: string, env: Record<string, string | undefined>,
  warn: (message: string) => void = console.warn): ErpEnvironment {
  const dotenv = path.join(secretsDir, `.env.${config.name}`);
  const gatewayFile = path.join(secretsDir, `secrets.${config.name}.yaml`);
  const secrets: SynthSecrets = {
    app: fs.existsSync(dotenv) ? parseDotenv(fs.readFileSync(dotenv, 'utf8'), dotenv) : undefined,
    gateway: loadSecretValues({ file: gatewayFile, env }),
  };
  if (!takesGatewaySecretValues(config) && fs.existsSync(gatewayFile)) {
    warn(`[${config.name}] ${gatewayFile} is not read: in production the API gateway references the existing Secret api-gateway-env `
      + '(create it with kubectl, see README "Secrets, then apply") and takes no values at synth time; delete the file');
  }
  return buildEnvironment(config, secrets);
}

/**
 * Builds, checks and renders the selected environments without writing
 * anything: schema and policy gates, then (with a baseline) the
 * immutable-field guard. Throws a {@link SynthesisError} listing every
 * error of every environment.
 */
export function renderApp(options: RenderAppOptions): RenderedApp {
  const configs = selectEnvironments(options.environments ?? ENVIRONMENTS, options.only);
  const outputs: Record<string, RenderedFile[]> = {};
  const objects: Record<string, number> = {};
  const errors: string[] = [];
  const warnings: string[] = [];
  let refused = 0;
  for (const config of configs) {
    try {
      const built = buildWithSecrets(config, options.secretsDir ?? process.cwd(), options.env ?? {}, (w) => warnings.push(w));
      // renderFiles runs the construct validations (once for the whole app)
      const files = renderFiles(built.charts);
      // the gate sees the whole environment, namespace included, even when
      // the namespace file is not written
      const result = gate(config, files);
      errors.push(...result.errors);
      warnings.push(...result.warnings);
      const written = options.withNamespace === false ? files.filter((f) => f.name !== phaseFile(Phase.NAMESPACE)) : files;
      const rendered = renderYaml(written);
      outputs[config.name] = rendered;
      objects[config.name] = written.reduce((n, f) => n + f.objects.length, 0);
      if (options.baseline !== undefined) {
        const guard = guardAgainstBaseline(config.name, path.join(options.baseline, config.name), written, rendered);
        warnings.push(...guard.warnings);
        if (options.allowImmutableChanges) {
          warnings.push(...guard.refusals.map((r) => `${r} (allowed by ERP_ALLOW_IMMUTABLE_CHANGES)`));
        } else {
          errors.push(...guard.refusals);
          refused += guard.refusals.length;
        }
      }
    } catch (e) {
      errors.push(`[${config.name}] ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (refused) {
    errors.push(`${refused} change(s) above would fail \`kubectl apply\` (compared with ${options.baseline}/<env>/). `
      + 'Once you have taken the way out, or if you will delete and re-create these objects, synthesize again with ERP_ALLOW_IMMUTABLE_CHANGES=1.');
  }
  if (errors.length) throw new SynthesisError(errors);
  return { outputs, objects, warnings };
}

/**
 * Synthesizes the selected environments. Everything is built and checked
 * first (schema, policy, and the immutable-field guard against what
 * `<outdir>/<env>/` holds now); only then is anything written, and each
 * `<outdir>/<env>/` is replaced whole (or left untouched when it already
 * holds exactly this output). Other environments' folders are kept. A
 * failure leaves the previous output untouched.
 */
export function synthesizeApp(options: SynthesizeAppOptions): SynthesisResult {
  const rendered = renderApp({ ...options, baseline: options.baseline ?? options.outdir });
  for (const w of rendered.warnings) (options.warn ?? console.warn)(w);
  const written = writeRenderedEnvironments(options.outdir, rendered.outputs);
  return { files: written.files, objects: rendered.objects, warnings: rendered.warnings, unchanged: written.unchanged };
}

// read back by the guard; exported here as before

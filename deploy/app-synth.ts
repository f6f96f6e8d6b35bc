import * as fs from 'fs';
import * as path from 'path';
import { buildEnvironment, ENVIRONMENTS, EnvironmentConfig, ErpEnvironment, SynthSecrets, takesGatewaySecretValues } from './environments';
import { findImmutableChanges, formatImmutableChange, GUARDED_KINDS, KubeObject } from './immutable-guard';
import { checkPolicy, formatExemptions, formatViolations } from '../src/gates/policy';
import { formatSchemaErrors, validateManifests } from '../src/gates/schema-validator';
import { cdk8sYaml, loadSecretValues, parseDotenv } from './secret-values';
import { holdsExactly, ManifestFile, Phase, phaseFile, RenderedFile, renderFiles, renderYaml, writeRenderedEnvironments } from './synth';
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
  const bad = policy.violations.filter((v) => v.severity === 'error');
  const warn = policy.violations.filter((v) => v.severity === 'warning');
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

const MANIFEST_FILE = /\.(ya?ml|json)$/;

/** Parses a YAML stream (YAML 1.1 as cdk8s writes it; JSON too), `kind: List` flattened. */
function parseManifests(text: string, file: string): KubeObject[] {
  const out: KubeObject[] = [];
  for (const doc of cdk8sYaml().parseAllDocuments(text, { version: '1.1' })) {
    if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0].message.split('\n')[0]}`);
    const value = doc.toJSON();
    if (value && typeof value === 'object' && value.kind === 'List' && Array.isArray(value.items)) out.push(...value.items);
    else if (value && typeof value === 'object') out.push(value);
  }
  return out;
}

/** Reads the objects of a manifest file (`*.yaml`, `*.yml`, `*.json`). */
export function readManifestFile(file: string): KubeObject[] {
  return parseManifests(fs.readFileSync(file, 'utf8'), file);
}

/** The manifest files of a folder, sorted. */
function manifestFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => MANIFEST_FILE.test(n)).sort()
    .map((n) => path.join(dir, n)).filter((f) => fs.statSync(f).isFile());
}

/** Reads the objects of every manifest file of an earlier output folder. */
export function readManifestFolder(dir: string): KubeObject[] {
  return manifestFiles(dir).flatMap(readManifestFile);
}

/** The documents of a YAML stream as {@link toYaml} joins them (`---` on a line of its own). */
function documents(text: string): string[] {
  return text.split(/(?<=\n)---\n/).filter((d) => d.trim() !== '');
}

const TOP_KIND = /^kind: ([A-Za-z][A-Za-z0-9]*)$/m;
const TOP_NAME = /^metadata:\n(?: {2}.*\n)*? {2}name: ([a-z0-9][-a-z0-9.]*)$/m;

/** Workloads whose pod template the guard does not look at (only a Job's). */
const TEMPLATE_NOT_GUARDED = new Set(['Deployment', 'DaemonSet', 'StatefulSet']);

/**
 * A workload's document without its `spec.template` (most of its text):
 * the lines under a `  template:` key of the top-level `spec:`, as block
 * YAML writes them (indented deeper, or blank inside a `|` block).
 */
function withoutPodTemplate(doc: string): string {
  if (!TEMPLATE_NOT_GUARDED.has(TOP_KIND.exec(doc)?.[1] ?? '')) return doc;
  const lines = doc.split('\n');
  const out: string[] = [];
  let top = '';
  for (let i = 0; i < lines.length; i++) {
    if (/^\S/.test(lines[i])) top = lines[i];
    if (top === 'spec:' && lines[i] === '  template:') {
      while (i + 1 < lines.length && (lines[i + 1] === '' || lines[i + 1].startsWith('   '))) i++;
      continue;
    }
    out.push(lines[i]);
  }
  return `${out.join('\n').replace(/\n*$/, '')}\n`;
}

/**
 * The objects of an earlier output folder that the guard must compare:
 * not, byte for byte, a document of the new output, of a kind it checks,
 * and named like an object of the new output; workloads without their pod
 * template. Parsing YAML is the slow part (the `yaml` module reads well
 * under 1 MB/s cold), so documents are sorted out by their text first; one
 * the patterns cannot read is parsed whole.
 */
function changedObjects(dir: string, rendered: readonly RenderedFile[], after: readonly KubeObject[]): KubeObject[] {
  const unchanged = new Set(rendered.flatMap((f) => documents(f.text)));
  const names = new Set(after.map((o) => `${o.kind}/${o.metadata?.name}`));
  const out: KubeObject[] = [];
  for (const file of manifestFiles(dir)) {
    const text = fs.readFileSync(file, 'utf8');
    const changed = documents(text).filter((d) => {
      if (unchanged.has(d)) return false;
      const kind = TOP_KIND.exec(d)?.[1];
      if (kind !== undefined && !GUARDED_KINDS.has(kind)) return false;
      const name = TOP_NAME.exec(d)?.[1];
      return kind === undefined || name === undefined || names.has(`${kind}/${name}`);
    });
    if (changed.length === 0) continue;
    try {
      out.push(...parseManifests(changed.map(withoutPodTemplate).join('---\n'), file));
    } catch {
      out.push(...parseManifests(text, file)); // not split where it should be: read it whole
    }
  }
  return out;
}

/**
 * The immutable-field guard of one environment: nothing to check when the
 * folder already holds exactly the new files (the usual re-synth) or does not
 * exist (a first synth); otherwise the objects that changed are read back and compared.
 */
function guardAgainstBaseline(env: string, dir: string, files: ManifestFile[], rendered: RenderedFile[]): { refusals: string[]; warnings: string[] } {
  if (!fs.existsSync(dir) || holdsExactly(dir, rendered)) return { refusals: [], warnings: [] };
  const after = files.flatMap((f) => f.objects);
  let before: KubeObject[];
  try {
    before = changedObjects(dir, rendered, after);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return { refusals: [], warnings: [`[${env}] the immutable-field guard could not read ${dir} (${why}); nothing was compared`] };
  }
  const changes = findImmutableChanges(before, after);
  return { refusals: changes.map((c) => formatImmutableChange(c, env)), warnings: [] };
}

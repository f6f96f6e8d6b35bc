import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { RenderedFile } from './synthesizer';

/*
 * An environment as a Helm chart: `<outdir>/<env>/Chart.yaml` and
 * `templates/<the files of dist/<env>/ but the namespace>`. No `crds/`: the
 * CRDs our objects use (ServiceMonitor, VerticalPodAutoscaler) belong to
 * their operators and are cluster prerequisites (README, "Cluster
 * prerequisites"); a chart that ships them would own (and on uninstall,
 * with some tools, delete) another team's definitions. No Namespace: Helm
 * needs the release's namespace, and the Secrets in it, before `helm install`.
 * No values.yaml: the chart is rendered, configuration lives in
 * src/environments/ (templates hold no `{{`, checked here).
 */

/** What the Chart.yaml of an environment says. */
export interface HelmChartOptions {
  /** Chart name. */
  readonly name: string;
  /** Chart version (SemVer 2). */
  readonly version: string;
  /** The app's version (e.g. the API image tag). @default - none */
  readonly appVersion?: string;
  /** One line about the chart. */
  readonly description: string;
}

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;
const CHART_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** JSON is YAML: a quoted scalar that YAML 1.1 and 1.2 read the same. */
const q = (s: string) => JSON.stringify(s);

/** Chart.yaml (apiVersion v2, type application). */
export function chartYaml(o: HelmChartOptions): string {
  if (!CHART_NAME.test(o.name) || o.name.length > 53) {
    throw new Error(`Helm chart 'name' (${JSON.stringify(o.name)}) must be lower-case letters, digits and '-', at most 53 characters`);
  }
  if (!SEMVER.test(o.version)) throw new Error(`Helm chart 'version' (${JSON.stringify(o.version)}) must be SemVer 2, e.g. 0.1.0`);
  return [
    'apiVersion: v2',
    `name: ${o.name}`,
    `description: ${q(o.description)}`,
    'type: application',
    `version: ${q(o.version)}`,
    ...(o.appVersion !== undefined ? [`appVersion: ${q(o.appVersion)}`] : []),
    '',
  ].join('\n');
}

/**
 * The files of an environment's chart, relative to the chart folder. Throws
 * when a template holds `{{`, which Helm would take for an action (a lone
 * `}}`, as in JSON, is plain text to Go templates).
 */
export function helmChartFiles(files: readonly RenderedFile[], options: HelmChartOptions): RenderedFile[] {
  for (const f of files) {
    const m = /\{\{/.exec(f.text);
    if (m) {
      const line = f.text.slice(0, m.index).split('\n').length;
      throw new Error(`${f.name}:${line} holds '${m[0]}', which Helm would render as a template; remove it from the value (the chart is rendered, not templated)`);
    }
  }
  return [{ name: 'Chart.yaml', text: chartYaml(options) }, ...files.map((f) => ({ name: path.join('templates', f.name), text: f.text }))];
}

/** Whether `dir` holds exactly these files (nested names allowed), byte for byte. */
function holdsExactly(dir: string, files: readonly RenderedFile[]): boolean {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else found.push(path.relative(dir, path.join(d, e.name)));
    }
  };
  try {
    walk(dir);
  } catch {
    return false;
  }
  if (found.length !== files.length) return false;
  return files.every((f) => {
    try {
      return fs.readFileSync(path.join(dir, f.name), 'utf8') === f.text;
    } catch {
      return false;
    }
  });
}

/**
 * Writes `<outdir>/<env>/` for every chart, all or nothing: every chart is
 * written to a hidden staging folder first, then swapped in by rename (a
 * failed swap puts back what was swapped). Other folders are kept; a folder
 * that already holds exactly the chart is not touched. Returns the files.
 */
export function writeHelmCharts(outdir: string, charts: Record<string, RenderedFile[]>): { files: string[]; unchanged: string[] } {
  fs.mkdirSync(outdir, { recursive: true });
  const files: string[] = [];
  const unchanged: string[] = [];
  const staged: Array<{ env: string; tmp: string }> = [];
  try {
    for (const [env, chart] of Object.entries(charts)) {
      files.push(...chart.map((f) => path.join(outdir, env, f.name)));
      if (holdsExactly(path.join(outdir, env), chart)) {
        unchanged.push(env);
        continue;
      }
      const tmp = path.join(outdir, `.${env}.staging-${process.pid}-${randomBytes(4).toString('hex')}`);
      staged.push({ env, tmp });
      for (const f of chart) {
        fs.mkdirSync(path.dirname(path.join(tmp, f.name)), { recursive: true });
        fs.writeFileSync(path.join(tmp, f.name), f.text);
      }
    }
  } catch (e) {
    for (const { tmp } of staged) fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  const swapped: Array<{ target: string; old?: string }> = [];
  try {
    for (const { env, tmp } of staged) {
      const target = path.join(outdir, env);
      const old = fs.existsSync(target) ? `${tmp}.old` : undefined;
      if (old) fs.renameSync(target, old);
      try {
        fs.renameSync(tmp, target);
      } catch (e) {
        if (old) fs.renameSync(old, target);
        throw e;
      }
      swapped.push({ target, old });
    }
  } catch (e) {
    for (const { target, old } of swapped.reverse()) {
      fs.rmSync(target, { recursive: true, force: true });
      if (old) fs.renameSync(old, target);
    }
    for (const { tmp } of staged) fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  for (const { old } of swapped) if (old) fs.rmSync(old, { recursive: true, force: true });
  return { files, unchanged };
}

import * as path from 'path';
import { RenderedFile, writeRenderedEnvironments } from './synth';

/*
 * An environment as a Helm chart: `<outdir>/<env>/Chart.yaml` and
 * `templates/<the files of dist/<env>/ but the namespace>`. No `crds/`: the
 * CRDs our objects use (ServiceMonitor, VerticalPodAutoscaler) belong to
 * their operators and are cluster prerequisites (README, "Cluster
 * prerequisites"); a chart that ships them would own (and on uninstall,
 * with some tools, delete) another team's definitions. No Namespace: Helm
 * needs the release's namespace, and the Secrets in it, before `helm install`.
 * No values.yaml: the chart is rendered, configuration lives in
 * deploy/environments/ (templates hold no `{{`, checked here).
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
      throw new Error(`${f.name}:${line} holds '${m[0]}', which Helm would render as a template; `
        + 'remove it from the value (the chart is rendered, not templated)');
    }
  }
  return [{ name: 'Chart.yaml', text: chartYaml(options) }, ...files.map((f) => ({ name: path.join('templates', f.name), text: f.text }))];
}

/**
 * Writes `<outdir>/<env>/` for every chart, all or nothing, keeping other
 * folders and leaving one that already holds exactly the chart untouched:
 * the same writer as the environments' (`writeRenderedEnvironments`).
 */
export function writeHelmCharts(outdir: string, charts: Record<string, RenderedFile[]>): { files: string[]; unchanged: string[] } {
  const { files, unchanged } = writeRenderedEnvironments(outdir, charts);
  return { files, unchanged };
}

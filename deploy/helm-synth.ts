import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { renderApp, RenderAppOptions, SynthesisError } from './app-synth';
import { ENVIRONMENTS, EnvironmentConfig } from './environments';
import { chartYaml, helmChartFiles, HelmChartOptions, writeHelmCharts } from './helm-chart';
import { RenderedFile } from './synth';

/* Each environment as a Helm chart: `npm run synth -- --format helm`, and `cdk8s synth --format helm` (see main.ts). */

/** The version in package.json (the chart version by default). */
export function packageVersion(): string {
  for (let dir = __dirname; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')).version;
  }
  throw new Error('package.json not found: pass --chart-version');
}

/** Chart.yaml of an environment: `erp-<env>`, the API image tag as appVersion. */
export function chartOptions(config: EnvironmentConfig, version: string): HelmChartOptions {
  const image = config.images.api;
  const colon = image.lastIndexOf(':');
  return {
    name: `erp-${config.name}`,
    version,
    appVersion: colon > image.lastIndexOf('/') ? image.slice(colon + 1) : undefined,
    description: `ERP backend, ${config.name} (namespace ${config.namespace}): API, Celery, PostgreSQL, API gateway. `
      + 'Rendered by erp-k8s; do not edit.',
  };
}

/**
 * `npm run synth -- --format helm`: each environment as a chart in
 * `<outdir>/<env>/`, through the same render, gates and immutable-field
 * guard as `dist/` (the guard compares with `<outdir>/<env>/templates/`),
 * written all or nothing.
 */
export function synthesizeHelmCharts(outdir: string, version: string, options: RenderAppOptions):
{ files: string[]; objects: Record<string, number>; unchanged: string[] } {
  const environments = options.environments ?? ENVIRONMENTS;
  // the guard reads <baseline>/<env>/*.yaml: point it at each chart's templates/
  let baseline = options.baseline;
  let links: string | undefined;
  if (baseline === undefined && fs.existsSync(outdir)) {
    links = fs.mkdtempSync(path.join(os.tmpdir(), 'erp-helm-baseline-'));
    for (const env of Object.keys(environments)) {
      const templates = path.resolve(outdir, env, 'templates');
      if (fs.existsSync(templates)) fs.symlinkSync(templates, path.join(links, env), 'dir');
    }
    baseline = links;
  }
  try {
    const rendered = renderApp({ ...options, baseline, withNamespace: false });
    for (const w of rendered.warnings) (options.warn ?? console.warn)(w);
    const errors: string[] = [];
    const charts: Record<string, RenderedFile[]> = {};
    for (const [env, files] of Object.entries(rendered.outputs)) {
      try {
        charts[env] = helmChartFiles(files, chartOptions(environments[env], version));
      } catch (e) {
        errors.push(`[${env}] ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (errors.length) throw new SynthesisError(errors);
    return { ...writeHelmCharts(outdir, charts), objects: rendered.objects };
  } finally {
    if (links) fs.rmSync(links, { recursive: true, force: true });
  }
}

/**
 * `cdk8s synth --format helm`: the CLI wrote Chart.yaml named after the
 * checkout folder and copied the imported CRDs into `crds/` before running
 * the app. Give the chart its environment's name and take the CRDs out.
 */
export function fixCliChart(templates: string, only: string[] | undefined, say: (s: string) => void): void {
  const chartDir = path.dirname(templates);
  const file = path.join(chartDir, 'Chart.yaml');
  const version = /^version: ["']?([^"'\n]+)["']?$/m.exec(fs.readFileSync(file, 'utf8'))?.[1] ?? packageVersion();
  const envs = only ?? Object.keys(ENVIRONMENTS);
  const name = envs.length === 1 && ENVIRONMENTS[envs[0]] ? chartOptions(ENVIRONMENTS[envs[0]], version) : undefined;
  if (name) fs.writeFileSync(file, chartYaml(name));
  else say(`synth: ${file} keeps the CLI's name: one chart should hold one environment (ERP_ENV=<env>); prefer \`npm run synth -- --format helm\``);
  fs.rmSync(path.join(chartDir, 'crds'), { recursive: true, force: true });
}

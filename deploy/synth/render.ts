import { Chart } from 'cdk8s';
import { ChartObjects, Manifest, PhasedChart, phaseFiles } from './phases';
import { serverForm } from '../../src/internal/server-form';
import { chartApiObjects, prepareApps } from '../../src/synth/prepare-app';
import { toYaml } from '../../src/synth/yaml';

export type { Manifest };

/** One output file. */
export interface ManifestFile {
  readonly name: string;
  readonly objects: Manifest[];
}

/** One output file, rendered. */
export interface RenderedFile {
  readonly name: string;
  readonly text: string;
}

/**
 * The charts' API objects and their manifests in the form the API server
 * stores (no dropped zero values, canonical quantities: re-applies change
 * nothing): the same objects, in the same order, as `chart.toJson()` on
 * each, but each app validated and its dependencies resolved once.
 */
function synthesize(charts: readonly Chart[]): Array<ChartObjects['objects']> {
  prepareApps(charts);
  return charts.map((chart) => chartApiObjects(chart).map((source) => ({ source, manifest: serverForm(source.toJson()) })));
}

/** The manifests of each chart, as {@link renderFiles} writes them (before sync waves). */
export function synthesizeCharts(charts: readonly Chart[]): Manifest[][] {
  return synthesize(charts).map((objects) => objects.map((o) => o.manifest));
}

/**
 * Turns charts into ordered files: objects grouped by phase, each object
 * annotated with the phase's Argo CD sync wave (hooks keep their own).
 */
export function renderFiles(charts: readonly PhasedChart[]): ManifestFile[] {
  return renderEnvironments({ charts }).charts;
}

/**
 * {@link renderFiles} for several environments (or tenants) at once, e.g.
 * hundreds of stacks in one App: each App is validated and its dependencies
 * resolved once, not once per environment, so the cost grows linearly.
 */
export function renderEnvironments(environments: Record<string, readonly PhasedChart[]>): Record<string, ManifestFile[]> {
  const synthesized = synthesize(Object.values(environments).flat().map((c) => c.chart));
  const out: Record<string, ManifestFile[]> = {};
  let k = 0;
  for (const [name, charts] of Object.entries(environments)) {
    out[name] = phaseFiles(charts.map(({ phase }) => ({ phase, objects: synthesized[k++] })));
  }
  return out;
}

/** Renders an environment's files to YAML (cdk8s' bytes, see src/synth/yaml.ts). */
export function renderYaml(files: readonly ManifestFile[]): RenderedFile[] {
  return files.map((f) => ({ name: f.name, text: toYaml(f.objects) }));
}

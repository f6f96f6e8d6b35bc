import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, App, Chart, Names, YamlOutputType } from 'cdk8s';
import { chartApiObjects, prepareApp, recordsConstructMetadata } from './prepare-app';
import { toYaml } from './yaml';

/**
 * Synthesizes a cdk8s `App` in time linear in its size: the same files,
 * byte for byte, as `app.synth()`, for apps of hundreds of charts.
 *
 * cdk8s' `App.synth()` renders each chart with `chart.toJson()`, and every
 * `toJson()` validates and resolves the dependencies of the WHOLE app again,
 * so an app of N charts costs O(N²): 500 ErpApi + CeleryPair stacks take
 * about 28 s that way. `ErpSynth` validates the app and resolves its
 * dependencies once, then renders each chart on its own, and writes YAML
 * with a faster emitter that produces the same bytes as cdk8s' `Yaml`
 * (falling back to it for anything unusual). Set the environment variable
 * `ERP_K8S_YAML=stock` to write with cdk8s' `Yaml.stringify` instead.
 *
 * Works for any cdk8s app, not only one made of this library's constructs.
 *
 * @example
 * const app = new App();
 * for (const tenant of tenants) {
 *   const chart = new Chart(app, tenant, { namespace: tenant });
 *   const api = new ErpApi(chart, 'Api', { image, database });
 *   new CeleryPair(chart, 'Celery', { api });
 * }
 * ErpSynth.synth(app); // instead of app.synth()
 */
export class ErpSynth {
  /**
   * Writes the app's manifests into `app.outdir`, as `app.synth()` does:
   * the same file names (per `app.yamlOutputType` and
   * `app.outputFileExtension`; by default `<chart>.k8s.yaml`, or
   * `0000-<chart>.k8s.yaml`, ... when a chart depends on another), the same
   * objects in the same order, the same YAML; `construct-metadata.json` too
   * when the app records construct metadata. Files of earlier runs are
   * neither removed nor checked, exactly as with `app.synth()`.
   *
   * @param app the app to synthesize.
   * @throws if a construct's validation fails (every error, each with its construct path).
   */
  public static synth(app: App): void {
    fs.mkdirSync(app.outdir, { recursive: true });
    const dependantCharts = prepareApp(app);
    const charts = app.charts;
    const ext = app.outputFileExtension;
    const save = (file: string, objects: unknown[]) => fs.writeFileSync(file, toYaml(objects), 'utf8');
    const json = (objects: ApiObject[]) => objects.map((o) => o.toJson());
    const chartName = indexedNamer(dependantCharts);
    switch (app.yamlOutputType) {
      case YamlOutputType.FILE_PER_APP:
        if (charts.length > 0) save(path.join(app.outdir, `app${ext}`), json(charts.flatMap(chartApiObjects)));
        break;
      case YamlOutputType.FILE_PER_CHART:
        for (const chart of charts) save(path.join(app.outdir, `${chartName(chart)}${ext}`), json(chartApiObjects(chart)));
        break;
      case YamlOutputType.FILE_PER_RESOURCE:
        for (const chart of charts) {
          // named after the rendered object
          for (const o of json(chartApiObjects(chart))) save(path.join(app.outdir, `${resourceFileName(o.kind, o.metadata.name)}${ext}`), [o]);
        }
        break;
      case YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE:
        for (const chart of charts) {
          const dir = path.join(app.outdir, chartName(chart));
          fs.mkdirSync(dir, { recursive: true });
          // named after the ApiObject, as cdk8s does (a name given as a token is written as 'objectObject')
          for (const o of chartApiObjects(chart)) save(path.join(dir, `${resourceFileName(o.kind, `${o.metadata.name}`)}${ext}`), [o.toJson()]);
        }
        break;
      default:
        break;
    }
    if (recordsConstructMetadata(app)) {
      const resources: Record<string, { path: string }> = {};
      for (const o of charts.flatMap(chartApiObjects)) resources[o.name] = { path: o.node.path };
      fs.writeFileSync(path.join(app.outdir, 'construct-metadata.json'), JSON.stringify({ version: '1.0.0', resources }));
    }
  }

  /**
   * The app's manifests as one YAML string, as `app.synthYaml()` returns
   * them (every chart's objects, documents separated by `---`).
   *
   * @param app the app to synthesize.
   * @throws if a construct's validation fails.
   */
  public static synthYaml(app: App): string {
    prepareApp(app);
    return toYaml(app.charts.flatMap(chartApiObjects).map((o) => o.toJson()));
  }

  private constructor() {}
}

/** cdk8s' chart file (or folder) names: `<chart>`, or `0000-<chart>`, ... when a chart depends on another. */
function indexedNamer(indexed: boolean): (chart: Chart) => string {
  let index = 0;
  return (chart) => (indexed ? `${(index++).toString().padStart(4, '0')}-` : '') + Names.toDnsLabel(chart);
}

/** cdk8s' file name of one object (YamlOutputType.FILE_PER_RESOURCE and FOLDER_PER_CHART_FILE_PER_RESOURCE). */
function resourceFileName(kind: string, name: string): string {
  return `${kind}.${name}`.replace(/[^0-9a-zA-Z-_.]/g, '');
}

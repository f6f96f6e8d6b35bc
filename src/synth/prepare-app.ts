import { ApiObject, App, Chart, DependencyGraph } from 'cdk8s';
import { IConstruct } from 'constructs';

/*
 * The one place that mirrors cdk8s' private synthesis code. cdk8s 2.x has no
 * public way to render one chart without redoing the whole app: every
 * `chart.toJson()` goes through the private `App._synthChart`, which
 * validates the WHOLE app and resolves its dependencies again, so rendering
 * every chart costs O(charts x constructs). {@link prepareApp} does that
 * app-wide work once; {@link chartApiObjects} then renders a chart with
 * public API only (`DependencyGraph`). test/synth/prepare-app.test.ts fails
 * when a cdk8s upgrade changes the private functions mirrored here
 * (`validate`, `resolveDependencies`, `chartToKube`, `App._synthChart`),
 * or the private field {@link recordsConstructMetadata} reads.
 */

/** Runs the construct validations cdk8s' App.synth would run (e.g. cdk8s-plus' own checks). */
function validateAll(constructs: readonly IConstruct[]): void {
  const errors: string[] = [];
  for (const c of constructs) {
    for (const e of c.node.validate()) errors.push(`[${c.node.path}] ${e}`);
  }
  if (errors.length) throw new Error(`construct validation failed:\n  ${errors.join('\n  ')}`);
}

/**
 * cdk8s 2.x `validate()` + `resolveDependencies()` (private in cdk8s
 * lib/app.js), once per app, with one `findAll()` per node. Returns whether
 * any chart depends on another (cdk8s then prefixes file names with an
 * index, `0000-<chart>`).
 */
export function prepareApp(app: IConstruct): boolean {
  const memo = new Map<IConstruct, IConstruct[]>();
  const findAll = (c: IConstruct): IConstruct[] => {
    let all = memo.get(c);
    if (!all) memo.set(c, (all = c.node.findAll()));
    return all;
  };
  const everything = findAll(app);
  validateAll(everything);
  let dependantCharts = false;
  // nested charts: the parent depends on the child
  for (const parent of everything) {
    if (!(parent instanceof Chart)) continue;
    for (const child of parent.node.children) {
      if (child instanceof Chart) {
        parent.node.addDependency(child);
        dependantCharts = true;
      }
    }
  }
  const dependencies = () => everything.flatMap((source) => source.node.dependencies.map((target) => ({ source, target })));
  // a construct dependency across charts makes the charts depend on each other
  for (const { source, target } of dependencies()) {
    const sourceChart = Chart.of(source);
    const targetChart = Chart.of(target);
    if (sourceChart !== targetChart) {
      sourceChart.node.addDependency(targetChart);
      dependantCharts = true;
    }
  }
  // ... and every API object under the source depend on every one under the
  // target (chart-to-chart dependencies included, as in cdk8s)
  for (const { source, target } of dependencies()) {
    const sourceChart = Chart.of(source);
    const targetChart = Chart.of(target);
    const targets = findAll(target).filter((c) => c instanceof ApiObject && Chart.of(c) === targetChart);
    const sources = findAll(source).filter((c) => c instanceof ApiObject && Chart.of(c) === sourceChart);
    for (const t of targets) for (const s of sources) if (t !== s) s.node.addDependency(t);
  }
  return dependantCharts;
}

/**
 * The chart's own API objects in dependency order (cdk8s' private
 * `chartToKube`, written with public API), without redoing the app-wide
 * work: call {@link prepareApp} on the chart's app first.
 */
export function chartApiObjects(chart: Chart): ApiObject[] {
  return new DependencyGraph(chart.node).topology()
    .filter((x): x is ApiObject => x instanceof ApiObject && Chart.of(x) === chart);
}

/**
 * Whether `app.synth()` would write construct-metadata.json: a private field
 * of cdk8s' App (its prop `recordConstructMetadata`, or
 * CDK8S_RECORD_CONSTRUCT_METADATA=true).
 */
export function recordsConstructMetadata(app: App): boolean {
  return (app as unknown as { recordConstructMetadata?: boolean }).recordConstructMetadata === true;
}

/** {@link prepareApp} on the app of each chart, once per app. */
export function prepareApps(charts: readonly Chart[]): void {
  const prepared = new Set<IConstruct>();
  for (const chart of charts) {
    const app = App.of(chart);
    if (prepared.has(app)) continue;
    prepareApp(app);
    prepared.add(app);
  }
}

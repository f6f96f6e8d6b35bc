import { ApiObject, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';

/** A synthesized manifest (any Kubernetes object, as JSON). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- read field by field by the gates and tests
export type Manifest = Record<string, any>;

/**
 * The order in which `kubectl apply -f dist/<env>/` must create things. Files
 * are named after it (`00-namespace.k8s.yaml`, ...), and Argo CD sync waves
 * follow it, so every delivery tool sees the same order.
 */
export enum Phase {
  NAMESPACE = 0,
  CONFIG = 1,
  INFRASTRUCTURE = 2,
  MIGRATIONS = 3,
  WORKLOADS = 4,
  OPERATIONS = 5,
}

/** File stem and Argo CD sync wave of each phase. */
export const PHASES: Record<Phase, { readonly file: string; readonly wave: number }> = {
  [Phase.NAMESPACE]: { file: '00-namespace', wave: -10 },
  [Phase.CONFIG]: { file: '10-config', wave: -5 },
  [Phase.INFRASTRUCTURE]: { file: '20-infrastructure', wave: -3 },
  [Phase.MIGRATIONS]: { file: '30-migrations', wave: -1 },
  [Phase.WORKLOADS]: { file: '40-workloads', wave: 0 },
  [Phase.OPERATIONS]: { file: '50-operations', wave: 5 },
};

/** The output file of a phase. */
export function phaseFile(phase: Phase): string {
  return `${PHASES[phase].file}.k8s.yaml`;
}

/** A chart of an environment and the phase of its objects. */
export interface PhasedChart {
  readonly chart: Chart;
  /** A fixed phase, or a function choosing one per API object (application charts). */
  readonly phase: Phase | ((o: ApiObject) => Phase);
}

// PersistentVolumeClaims go with their workloads: with a WaitForFirstConsumer storage class a claim stays
// Pending until a pod uses it, and Argo CD does not leave a wave whose claim is Pending.
const CONFIG_KINDS = new Set(['ServiceAccount', 'Role', 'RoleBinding', 'ConfigMap', 'Secret', 'NetworkPolicy']);

/** What runs a release's migrations: `ErpApi` and `ApiGatewayChart` expose it as `migrationJob`. */
export interface MigrationOwner {
  readonly migrationJob?: { readonly job: kplus.Job; readonly preMigrationBackupJob?: kplus.Job };
}

/** The migration Jobs of these constructs, and their pre-migration dump Jobs. */
export function migrationJobs(...owners: readonly MigrationOwner[]): ApiObject[] {
  return owners.flatMap(({ migrationJob: m }) => (m ? [m.preMigrationBackupJob, m.job] : []))
    .filter((job): job is kplus.Job => job !== undefined)
    .map((job) => ApiObject.of(job));
}

/**
 * Where an application chart's objects go: configuration kinds to
 * {@link Phase.CONFIG}, the given migration Jobs (see {@link migrationJobs})
 * to {@link Phase.MIGRATIONS}, everything else to {@link Phase.WORKLOADS}.
 */
export function applicationPhase(migrations: readonly ApiObject[]): (o: ApiObject) => Phase {
  const migrating = new Set(migrations);
  return (o) => (CONFIG_KINDS.has(o.kind) ? Phase.CONFIG : migrating.has(o) ? Phase.MIGRATIONS : Phase.WORKLOADS);
}

/** A chart's objects, synthesized, with the API objects they come from. */
export interface ChartObjects {
  readonly phase: PhasedChart['phase'];
  readonly objects: ReadonlyArray<{ readonly source: ApiObject; readonly manifest: Manifest }>;
}

/** The object with the phase's Argo CD sync wave (hooks keep their own). */
function withSyncWave(o: Manifest, phase: Phase): Manifest {
  const annotations = o.metadata.annotations ?? {};
  // Sync hooks run in waves among the resources (a hook without one would run in wave 0, after what waits for it)
  const hook = annotations['argocd.argoproj.io/hook'];
  if ((!hook || hook === 'Sync') && annotations['argocd.argoproj.io/sync-wave'] === undefined) {
    o.metadata.annotations = { ...annotations, 'argocd.argoproj.io/sync-wave': String(PHASES[phase].wave) };
  }
  return o;
}

/** Groups the objects of an environment's charts into its phase files, in phase order. */
export function phaseFiles(charts: readonly ChartObjects[]): Array<{ name: string; objects: Manifest[] }> {
  const byPhase = new Map<Phase, Manifest[]>();
  for (const { phase, objects } of charts) {
    for (const { source, manifest } of objects) {
      const p = typeof phase === 'function' ? phase(source) : phase;
      if (!byPhase.has(p)) byPhase.set(p, []);
      byPhase.get(p)!.push(withSyncWave(manifest, p));
    }
  }
  return [...byPhase.keys()].sort((a, b) => a - b).map((p) => ({ name: phaseFile(p), objects: byPhase.get(p)! }));
}

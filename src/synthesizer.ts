import * as fs from 'fs';
import * as path from 'path';
import { Chart, Yaml } from 'cdk8s';
import { IConstruct } from 'constructs';

/** A synthesized manifest. */
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

const CONFIG_KINDS = new Set(['ServiceAccount', 'Role', 'RoleBinding', 'ConfigMap', 'Secret', 'NetworkPolicy', 'PersistentVolumeClaim']);

/** Where an application chart's object goes: configuration, migrations or workloads. */
export function applicationPhase(o: Manifest): Phase {
  if (CONFIG_KINDS.has(o.kind)) return Phase.CONFIG;
  if (o.kind === 'Job' && o.metadata?.labels?.['app.kubernetes.io/component'] === 'migrations') return Phase.MIGRATIONS;
  return Phase.WORKLOADS;
}

/** A chart of an environment and the phase of its objects. */
export interface PhasedChart {
  readonly chart: Chart;
  /** A fixed phase, or a function choosing one per object (application charts). */
  readonly phase: Phase | ((o: Manifest) => Phase);
}

/** One output file. */
export interface ManifestFile {
  readonly name: string;
  readonly objects: Manifest[];
}

/** Runs the construct validations cdk8s' App.synth would run (e.g. cdk8s-plus' own checks). */
export function validateConstructs(root: IConstruct): void {
  const errors: string[] = [];
  for (const c of root.node.findAll()) {
    for (const e of c.node.validate()) errors.push(`[${c.node.path}] ${e}`);
  }
  if (errors.length) throw new Error(`construct validation failed:\n  ${errors.join('\n  ')}`);
}

/**
 * Turns charts into ordered files: objects grouped by phase, each object
 * annotated with the phase's Argo CD sync wave (hooks keep their own).
 */
export function renderFiles(charts: PhasedChart[]): ManifestFile[] {
  const byPhase = new Map<Phase, Manifest[]>();
  for (const { chart, phase } of charts) {
    for (const o of chart.toJson() as Manifest[]) {
      const p = typeof phase === 'function' ? phase(o) : phase;
      const annotations = o.metadata.annotations ?? {};
      if (!annotations['argocd.argoproj.io/hook'] && annotations['argocd.argoproj.io/sync-wave'] === undefined) {
        o.metadata.annotations = { ...annotations, 'argocd.argoproj.io/sync-wave': String(PHASES[p].wave) };
      }
      if (!byPhase.has(p)) byPhase.set(p, []);
      byPhase.get(p)!.push(o);
    }
  }
  return [...byPhase.keys()].sort((a, b) => a - b).map((p) => ({ name: `${PHASES[p].file}.k8s.yaml`, objects: byPhase.get(p)! }));
}

/**
 * Replaces `<outdir>/<env>/` for every environment, all or nothing: files are
 * written to hidden staging folders first, then swapped in by rename. Stale
 * files of an earlier run disappear with the old folder.
 */
export function writeEnvironments(outdir: string, outputs: Record<string, ManifestFile[]>): string[] {
  fs.mkdirSync(outdir, { recursive: true });
  const staged: Array<[string, string]> = [];
  const written: string[] = [];
  try {
    for (const [env, files] of Object.entries(outputs)) {
      const tmp = fs.mkdtempSync(path.join(outdir, `.${env}.staging-`));
      staged.push([env, tmp]);
      for (const f of files) {
        fs.writeFileSync(path.join(tmp, f.name), Yaml.stringify(...f.objects));
        written.push(path.join(outdir, env, f.name));
      }
    }
  } catch (e) {
    for (const [, tmp] of staged) fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  for (const [env, tmp] of staged) {
    const target = path.join(outdir, env);
    const old = `${tmp}.old`;
    if (fs.existsSync(target)) fs.renameSync(target, old);
    fs.renameSync(tmp, target);
    fs.rmSync(old, { recursive: true, force: true });
  }
  return written;
}

/**
 * The e2e suite's view of a cluster: `kubectl` (the one from
 * scripts/e2e-tools.js, first on PATH) against the cluster in KUBECONFIG,
 * polling helpers, and a report printed as it goes. Nothing is mocked.
 */
import { execFile, execFileSync, StdioOptions } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/** A Kubernetes object as kubectl prints it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed kubectl JSON: any shape the API returns
export type Obj = Record<string, any>;

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain-JS script (npm run e2e:tools), outside the TypeScript project
const tools = require('../../scripts/e2e-tools.js') as { toolsBin(): string };

/** What a failed `execFileSync` carries. */
interface ChildFailure {
  readonly stderr?: Buffer | string;
  readonly stdout?: Buffer | string;
  readonly message?: string;
}

/**
 * Puts the bundled kubectl and helm first on PATH (once). Every child process
 * gets `env: process.env` explicitly: under jest, `process.env` is the test
 * sandbox's copy, which child_process would not see otherwise.
 */
export function useBundledTools(): string {
  const bin = tools.toolsBin();
  if (!(process.env.PATH ?? '').split(path.delimiter).includes(bin)) process.env.PATH = `${bin}${path.delimiter}${process.env.PATH ?? ''}`;
  return bin;
}

/** One line of the e2e report (unbuffered, also under jest). */
export function say(section: string, line: string): void {
  process.stdout.write(`[${section}] ${line}\n`);
}

/** Runs kubectl synchronously; throws with stderr on failure. */
export function kubectl(args: string[], input?: string): string {
  try {
    const stdio: StdioOptions = ['pipe', 'pipe', 'pipe'];
    return execFileSync('kubectl', args, { encoding: 'utf8', input, env: process.env, maxBuffer: 64 * 1024 * 1024, stdio });
  } catch (e) {
    const { stderr, stdout, message } = e as ChildFailure;
    throw new Error(`kubectl ${args.join(' ')} failed: ${(stderr || stdout || message || '').toString().trim()}`, { cause: e });
  }
}

/** Runs kubectl asynchronously (several environments at once); resolves stdout, rejects with stderr. */
export function kubectlAsync(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('kubectl', args, { encoding: 'utf8', env: process.env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kubectl ${args.join(' ')} failed: ${(stderr || stdout || err.message).trim()}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** kubectl get ... -o json, items. */
export function list(ns: string, kind: string, selector?: string): Obj[] {
  const args = ['get', kind, '-n', ns, '-o', 'json', ...(selector ? ['-l', selector] : [])];
  return JSON.parse(kubectl(args)).items;
}

/** kubectl get one object -o json, or undefined when it does not exist. */
export function getObj(ns: string, kind: string, name: string): Obj | undefined {
  try {
    return JSON.parse(kubectl(['get', kind, name, '-n', ns, '-o', 'json']));
  } catch (e) {
    if (/NotFound|not found/.test(String(e))) return undefined;
    throw e;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `check` until it returns a value other than undefined, or throws
 * after `timeoutMs` with `describe()` (what is still missing) in the message.
 */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => T | undefined | Promise<T | undefined>,
  describe: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      let detail: string;
      try {
        detail = describe();
      } catch (e) {
        detail = String(e);
      }
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${what}${last ? ` (last error: ${last})` : ''}\n${detail}`);
    }
    await sleep(2000);
  }
}

/** Why a namespace's pods are not done: phase, waiting reasons, last events. */
export function diagnose(ns: string): string {
  const lines: string[] = [];
  for (const p of list(ns, 'pods')) {
    const statuses = [...(p.status.initContainerStatuses ?? []), ...(p.status.containerStatuses ?? [])];
    const st = statuses.map((c: Obj) => {
      const s = c.state ?? {};
      const terminated = s.terminated ? `terminated:${s.terminated.reason}(${s.terminated.exitCode})` : 'running';
      const why = s.waiting ? `waiting:${s.waiting.reason}` : terminated;
      return `${c.name}=${why}${c.ready ? '/ready' : ''} restarts=${c.restartCount}`;
    }).join(', ');
    lines.push(`  pod/${p.metadata.name} ${p.status.phase}: ${st}`);
  }
  try {
    const ev = kubectl(['get', 'events', '-n', ns, '--sort-by=.lastTimestamp', '-o',
      'custom-columns=TYPE:.type,REASON:.reason,OBJECT:.involvedObject.name,MESSAGE:.message']).trim().split('\n').slice(-25);
    lines.push('  events:', ...ev.map((l) => `    ${l}`));
  } catch (e) {
    lines.push(`  events: ${e}`);
  }
  return lines.join('\n');
}

/** Logs of a pod's container (all of it), for failure messages and assertions. */
export function logs(ns: string, pod: string, container?: string): string {
  try {
    return kubectl(['logs', '-n', ns, pod, ...(container ? ['-c', container] : [])]);
  } catch (e) {
    return String(e);
  }
}

/** Logs of every container of every pod of a Job. */
export function jobLogs(ns: string, job: string): string {
  return list(ns, 'pods', `job-name=${job}`).map((p) => {
    const names = [...(p.spec.initContainers ?? []), ...p.spec.containers].map((c: Obj) => c.name);
    return names.map((c: string) => `--- ${p.metadata.name}/${c}\n${logs(ns, p.metadata.name, c)}`).join('\n');
  }).join('\n');
}

/** Seconds from a pod's creation to its Ready condition (undefined when not Ready). */
export function secondsToReady(pod: Obj): number | undefined {
  const ready = (pod.status.conditions ?? []).find((c: Obj) => c.type === 'Ready' && c.status === 'True');
  if (!ready) return undefined;
  return Math.round((Date.parse(ready.lastTransitionTime) - Date.parse(pod.metadata.creationTimestamp)) / 1000);
}

/** Total container restarts of a pod (init containers included). */
export function restarts(pod: Obj): number {
  return [...(pod.status.initContainerStatuses ?? []), ...(pod.status.containerStatuses ?? [])]
    .reduce((n: number, c: Obj) => n + (c.restartCount ?? 0), 0);
}

/** Writes a file and returns its path (for `kubectl apply -f`). */
export function writeTemp(dir: string, name: string, text: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

/** Runs helm (the bundled one, see {@link useBundledTools}) asynchronously; resolves stdout + stderr, rejects with both. */
export function helm(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('helm', args, { encoding: 'utf8', env: process.env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const tail = (stdout || '').trim().split('\n').slice(-40).join('\n');
      if (err) reject(new Error(`helm ${args.join(' ')} failed: ${(stderr || '').trim()}\n${tail}`, { cause: err }));
      else resolve(`${stdout}${stderr}`);
    });
  });
}

/** The label on every namespace the e2e suite creates; it deletes only those. */
export const E2E_LABEL = 'erp-k8s.io/e2e';

/** Deletes a namespace left by an earlier run; refuses one this suite did not create. */
export async function freshNamespace(ns: string): Promise<void> {
  const existing = getObj('', 'namespace', ns);
  if (!existing) return;
  if (existing.metadata.labels?.[E2E_LABEL] !== 'true') {
    throw new Error(`namespace ${ns} exists and was not created by this suite (no label ${E2E_LABEL}=true): ` +
      'the e2e suite deletes its namespaces; run it on a test cluster, or delete the namespace yourself');
  }
  say(ns, 'deleting the namespace left by an earlier run');
  // Its pods would take their full grace period (the Celery worker: task time limit + 30 s). This is a test
  // namespace: remove the controllers first (else they re-create the pods), then the pods at once.
  await kubectlAsync(['delete', 'deployments,statefulsets,replicasets,jobs,cronjobs', '--all', '-n', ns, '--cascade=orphan', '--wait=false']);
  await kubectlAsync(['delete', 'pods', '--all', '-n', ns, '--grace-period=0', '--force', '--wait=false']);
  await kubectlAsync(['delete', 'namespace', ns, '--wait=true', '--timeout=10m']);
}

export async function createNamespace(ns: string, manifest?: string): Promise<void> {
  await freshNamespace(ns);
  if (manifest) await kubectlAsync(['apply', '-f', manifest]);
  else await kubectlAsync(['create', 'namespace', ns]);
  await kubectlAsync(['label', 'namespace', ns, `${E2E_LABEL}=true`, '--overwrite']);
}

/** `kubectl create secret generic` as the README tells users to. */
export async function createSecret(ns: string, name: string, literals: Record<string, string>): Promise<void> {
  await kubectlAsync(['create', 'secret', 'generic', name, '-n', ns, ...Object.entries(literals).map(([k, v]) => `--from-literal=${k}=${v}`)]);
}

/** A random secret value for the Secrets a user would create. */
export const secretValue = (): string => randomBytes(24).toString('hex');

import { Manifest } from './synth';

/** One difference between two environments. */
export interface DiffEntry {
  /** `+` only in the second, `-` only in the first, `~` changed. */
  readonly op: '+' | '-' | '~';
  /** `Kind/name`. */
  readonly object: string;
  /** Dotted path inside the object (for `~`). */
  readonly path?: string;
  readonly from?: unknown;
  readonly to?: unknown;
}

const ADDR = 'cdk8s.io/metadata.addr';

/** Drops what differs by construction (namespace, cdk8s address labels). */
function normalize(o: unknown): unknown {
  if (Array.isArray(o)) return o.map(normalize);
  if (o && typeof o === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o as Record<string, unknown>)) {
      if (k === ADDR || k === 'namespace' && typeof v === 'string') continue;
      out[k] = normalize(v);
    }
    return out;
  }
  return o;
}

const keyOf = (o: Manifest) => `${o.kind}/${o.metadata?.name}`;

function walk(a: unknown, b: unknown, path: string, out: Array<{ path: string; from: unknown; to: unknown }>): void {
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  const isObj = (x: unknown) => x !== null && typeof x === 'object' && !Array.isArray(x);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])].sort();
    for (const k of keys) walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k, out);
    return;
  }
  // lists of named items (containers, env, ports, volumes) are matched by name
  const names = (x: unknown[]) => x.map((i) => (i && typeof i === 'object' ? (i as { name?: unknown }).name : undefined));
  if (Array.isArray(a) && Array.isArray(b)) {
    const na = names(a);
    const nb = names(b);
    const named = [...na, ...nb].every((n) => typeof n === 'string') && new Set(na).size === na.length && new Set(nb).size === nb.length;
    if (named) {
      for (const n of [...new Set([...na, ...nb])]) walk(a[na.indexOf(n)], b[nb.indexOf(n)], `${path}[${n}]`, out);
      return;
    }
    if (a.length === b.length) {
      a.forEach((x, i) => walk(x, b[i], `${path}[${i}]`, out));
      return;
    }
  }
  out.push({ path, from: a, to: b });
}

/** Object-by-object differences between two environments' manifests. */
export function diffManifests(a: Manifest[], b: Manifest[]): DiffEntry[] {
  const A = new Map(a.map((o) => [keyOf(o), normalize(o)]));
  const B = new Map(b.map((o) => [keyOf(o), normalize(o)]));
  const entries: DiffEntry[] = [];
  for (const k of [...new Set([...A.keys(), ...B.keys()])].sort()) {
    if (!B.has(k)) entries.push({ op: '-', object: k });
    else if (!A.has(k)) entries.push({ op: '+', object: k });
    else {
      const changes: Array<{ path: string; from: unknown; to: unknown }> = [];
      walk(A.get(k), B.get(k), '', changes);
      for (const c of changes) entries.push({ op: '~', object: k, ...c });
    }
  }
  return entries;
}

const short = (v: unknown) => {
  const s = v === undefined ? '(none)' : JSON.stringify(v);
  return s.length > 80 ? s.slice(0, 77) + '...' : s;
};

/** Human-readable diff, grouped by object. */
export function formatDiff(nameA: string, nameB: string, entries: DiffEntry[]): string {
  const lines = [`--- ${nameA}`, `+++ ${nameB}`];
  let last = '';
  for (const e of entries) {
    if (e.op !== '~') {
      lines.push(`${e.op} ${e.object}   (only in ${e.op === '+' ? nameB : nameA})`);
      last = '';
      continue;
    }
    if (e.object !== last) lines.push(`~ ${e.object}`);
    last = e.object;
    lines.push(`    ${e.path}: ${short(e.from)} -> ${short(e.to)}`);
  }
  const changed = new Set(entries.filter((e) => e.op === '~').map((e) => e.object)).size;
  lines.push(`${entries.filter((e) => e.op === '+').length} added, ${entries.filter((e) => e.op === '-').length} removed, ${changed} changed`);
  return lines.join('\n');
}

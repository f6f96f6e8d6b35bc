import * as fs from 'fs';
import * as path from 'path';
import { findImmutableChanges, formatImmutableChange } from './immutable-guard';
import { GUARDED_KINDS } from './immutable/rules';
import { KubeObject } from './immutable/types';
import { cdk8sYaml } from './secret-values';
import { holdsExactly, ManifestFile, RenderedFile } from './synth';

/*
 * The previous output, read back for the immutable-field guard: only the
 * documents that changed, of the kinds the guard checks (reading YAML is
 * the slow part).
 */

const MANIFEST_FILE = /\.(ya?ml|json)$/;

/** Parses a YAML stream (YAML 1.1 as cdk8s writes it; JSON too), `kind: List` flattened. */
function parseManifests(text: string, file: string): KubeObject[] {
  const out: KubeObject[] = [];
  for (const doc of cdk8sYaml().parseAllDocuments(text, { version: '1.1' })) {
    if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0].message.split('\n')[0]}`);
    const value = doc.toJSON();
    if (value && typeof value === 'object' && value.kind === 'List' && Array.isArray(value.items)) out.push(...value.items);
    else if (value && typeof value === 'object') out.push(value);
  }
  return out;
}

/** Reads the objects of a manifest file (`*.yaml`, `*.yml`, `*.json`). */
export function readManifestFile(file: string): KubeObject[] {
  return parseManifests(fs.readFileSync(file, 'utf8'), file);
}

/** The manifest files of a folder, sorted. */
function manifestFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => MANIFEST_FILE.test(n)).sort()
    .map((n) => path.join(dir, n)).filter((f) => fs.statSync(f).isFile());
}

/** Reads the objects of every manifest file of an earlier output folder. */
export function readManifestFolder(dir: string): KubeObject[] {
  return manifestFiles(dir).flatMap(readManifestFile);
}

/** The documents of a YAML stream as {@link toYaml} joins them (`---` on a line of its own). */
function documents(text: string): string[] {
  return text.split(/(?<=\n)---\n/).filter((d) => d.trim() !== '');
}

const TOP_KIND = /^kind: ([A-Za-z][A-Za-z0-9]*)$/m;
const TOP_NAME = /^metadata:\n(?: {2}.*\n)*? {2}name: ([a-z0-9][-a-z0-9.]*)$/m;

/** Workloads whose pod template the guard does not look at (only a Job's). */
const TEMPLATE_NOT_GUARDED = new Set(['Deployment', 'DaemonSet', 'StatefulSet']);

/**
 * A workload's document without its `spec.template` (most of its text):
 * the lines under a `  template:` key of the top-level `spec:`, as block
 * YAML writes them (indented deeper, or blank inside a `|` block).
 */
function withoutPodTemplate(doc: string): string {
  if (!TEMPLATE_NOT_GUARDED.has(TOP_KIND.exec(doc)?.[1] ?? '')) return doc;
  const lines = doc.split('\n');
  const out: string[] = [];
  let top = '';
  for (let i = 0; i < lines.length; i++) {
    if (/^\S/.test(lines[i])) top = lines[i];
    if (top === 'spec:' && lines[i] === '  template:') {
      while (i + 1 < lines.length && (lines[i + 1] === '' || lines[i + 1].startsWith('   '))) i++;
      continue;
    }
    out.push(lines[i]);
  }
  return `${out.join('\n').replace(/\n*$/, '')}\n`;
}

/**
 * The objects of an earlier output folder that the guard must compare:
 * not, byte for byte, a document of the new output, of a kind it checks,
 * and named like an object of the new output; workloads without their pod
 * template. Parsing YAML is the slow part (the `yaml` module reads well
 * under 1 MB/s cold), so documents are sorted out by their text first; one
 * the patterns cannot read is parsed whole.
 */
function changedObjects(dir: string, rendered: readonly RenderedFile[], after: readonly KubeObject[]): KubeObject[] {
  const unchanged = new Set(rendered.flatMap((f) => documents(f.text)));
  const names = new Set(after.map((o) => `${o.kind}/${o.metadata?.name}`));
  const out: KubeObject[] = [];
  for (const file of manifestFiles(dir)) {
    const text = fs.readFileSync(file, 'utf8');
    const changed = documents(text).filter((d) => {
      if (unchanged.has(d)) return false;
      const kind = TOP_KIND.exec(d)?.[1];
      if (kind !== undefined && !GUARDED_KINDS.has(kind)) return false;
      const name = TOP_NAME.exec(d)?.[1];
      return kind === undefined || name === undefined || names.has(`${kind}/${name}`);
    });
    if (changed.length === 0) continue;
    try {
      out.push(...parseManifests(changed.map(withoutPodTemplate).join('---\n'), file));
    } catch {
      out.push(...parseManifests(text, file)); // not split where it should be: read it whole
    }
  }
  return out;
}

/**
 * The immutable-field guard of one environment: nothing to check when the
 * folder already holds exactly the new files (the usual re-synth) or does not
 * exist (a first synth); otherwise the objects that changed are read back and compared.
 */
export function guardAgainstBaseline(env: string, dir: string, files: ManifestFile[], rendered: RenderedFile[]):
{ refusals: string[]; warnings: string[] } {
  if (!fs.existsSync(dir) || holdsExactly(dir, rendered)) return { refusals: [], warnings: [] };
  const after = files.flatMap((f) => f.objects);
  let before: KubeObject[];
  try {
    before = changedObjects(dir, rendered, after);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return { refusals: [], warnings: [`[${env}] the immutable-field guard could not read ${dir} (${why}); nothing was compared`] };
  }
  const changes = findImmutableChanges(before, after);
  return { refusals: changes.map((c) => formatImmutableChange(c, env)), warnings: [] };
}

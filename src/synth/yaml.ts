import * as fs from 'fs';
import * as path from 'path';
import { Yaml } from 'cdk8s';
import { Document, ScalarTag } from 'yaml';

/*
 * YAML output: byte for byte what cdk8s' `Yaml.stringify(...docs)` writes
 * (`yaml` 2.x with `{ keepUndefined: true, lineWidth: 0, version: '1.1' }`).
 *
 * Two emitters, one switch: ERP_K8S_YAML=stock | fast (default fast).
 * - stock: cdk8s' public `Yaml.stringify`, which builds a full `yaml`
 *   Document (node tree, alias tracking, visitor passes) per object.
 * - fast: writes the same bytes directly for what manifests are made of
 *   (plain objects, arrays, strings, safe integers, booleans, null),
 *   following `yaml` 2.x's stringifier rule for rule: plain, quoted or `|`
 *   block scalars, key and sequence indentation, `{}`/`[]`. Anything outside
 *   that subset (undefined, floats, control characters, a shared object that
 *   `yaml` would turn into an anchor, over-long keys, ...) makes that one
 *   document fall back to stock, and so does a `yaml` (a pinned direct
 *   dependency) of another version than the one cdk8s bundles.
 * test/synth/yaml.test.ts compares both, byte for byte, on every
 * environment and on a corpus of tricky scalars; scripts/bench-yaml.js
 * measures what the fast path saves.
 */

/** Which emitter {@link toYaml} uses: ERP_K8S_YAML=stock forces cdk8s' own; anything else, the fast one. */
export function yamlEmitter(env: NodeJS.ProcessEnv = process.env): 'fast' | 'stock' {
  return env.ERP_K8S_YAML === 'stock' ? 'stock' : 'fast';
}

/** Thrown inside the emitter when a document needs the reference stringifier. */
const FALLBACK = Symbol('fallback');

// eslint-disable-next-line no-control-regex -- control characters are what it finds (yaml double-quotes them)
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u{D800}-\u{DFFF}]/u;
const PLAIN_UNSAFE = /^[\n\t ,[\]{}#&*!|>'"%@`]|^[?-]$|^[?-][ \t]|[\n:][ \t]|[ \t]\n|[\n\t ]#|[\n\t :]$/;
const DOCUMENT_MARKER = /^(%|---|\.\.\.)/m;
const BLOCK_TRAILING_SPACE = /\n[\t ]+$/;
const BLOCK_END_NEWLINES = /(^|(?<!\n))\n+(?!\n|$)/g;

let nonStringTests: Array<{ test(s: string): boolean }> | null | undefined;

/** The version in a package's package.json, resolved from `from`; undefined if unreadable. */
function packageVersion(name: string, from?: string): string | undefined {
  try {
    const file = require.resolve(`${name}/package.json`, from ? { paths: [from] } : undefined);
    return JSON.parse(fs.readFileSync(file, 'utf8')).version;
  } catch {
    return undefined;
  }
}

/**
 * The tests by which YAML 1.1 reads a plain scalar as something other than a
 * string (`true`, `yes`, `~`, `0o12`, `1:20`, `2024-01-01`, ...), from the
 * typed `Schema` of this package's pinned `yaml` (`tags`, `compat`), or null
 * (no fast path) unless that `yaml` is the very version cdk8s bundles and
 * writes with: the fast path follows that version's stringifier.
 */
function scalarTests(): Array<{ test(s: string): boolean }> | null {
  if (nonStringTests !== undefined) return nonStringTests;
  const ours = packageVersion('yaml');
  const cdk8s = packageVersion('yaml', path.dirname(require.resolve('cdk8s')));
  nonStringTests = null;
  if (ours === undefined || ours !== cdk8s || !ours.startsWith('2.')) return nonStringTests;
  const schema = new Document(null, { keepUndefined: true, version: '1.1' }).schema;
  nonStringTests = [...schema.tags, ...(schema.compat ?? [])]
    .filter((t): t is ScalarTag => !!t.default && t.tag !== 'tag:yaml.org,2002:str' && 'test' in t && t.test instanceof RegExp)
    .map((t) => t.test!);
  return nonStringTests;
}

/** Single-line scalars already rendered (keys and values repeat a lot); bounded. */
const scalarCache = new Map<string, string>();

function quoted(value: string): string {
  // single-line only; `yaml` prefers '...' when that avoids escaping a "
  return value.includes('"') && !value.includes("'") ? `'${value}'` : JSON.stringify(value);
}

/** A string scalar; `indent` is the context indentation (`ctx.indent` in `yaml`). */
function scalar(value: string, indent: string, key: boolean): string {
  const cached = scalarCache.get(value);
  if (cached !== undefined) return cached;
  // double-quoted with escapes; '<<' is written as a YAML 1.1 merge key
  if (CONTROL.test(value) || value === '<<') throw FALLBACK;
  if (value.includes('\n')) {
    if (key) throw FALLBACK;
    return blockScalar(value, indent);
  }
  let out: string;
  if (PLAIN_UNSAFE.test(value)) out = quoted(value);
  else if (DOCUMENT_MARKER.test(value)) throw FALLBACK;
  else if (nonStringTests!.some((t) => t.test(value))) out = quoted(value);
  else out = value;
  if (value.length <= 256) {
    if (scalarCache.size >= 20000) scalarCache.clear();
    scalarCache.set(value, out);
  }
  return out;
}

/** A multi-line string as a `|` literal block (yaml's blockString, literal branch). */
function blockScalar(text: string, indent: string): string {
  if (BLOCK_TRAILING_SPACE.test(text) || !indent) throw FALLBACK; // yaml quotes these
  let value = text;
  let endStart = value.length;
  for (; endStart > 0; --endStart) {
    const ch = value[endStart - 1];
    if (ch !== '\n' && ch !== '\t' && ch !== ' ') break;
  }
  let end = value.substring(endStart);
  const endNlPos = end.indexOf('\n');
  const chomp = endNlPos === -1 ? '-' : value === end || endNlPos !== end.length - 1 ? '+' : '';
  if (end) {
    value = value.slice(0, -end.length);
    if (end[end.length - 1] === '\n') end = end.slice(0, -1);
    end = end.replace(BLOCK_END_NEWLINES, `$&${indent}`);
  }
  let startWithSpace = false;
  let startEnd = 0;
  let startNlPos = -1;
  for (; startEnd < value.length; ++startEnd) {
    const ch = value[startEnd];
    if (ch === ' ') startWithSpace = true;
    else if (ch === '\n') startNlPos = startEnd;
    else break;
  }
  let start = value.substring(0, startNlPos < startEnd ? startNlPos + 1 : startEnd);
  if (start) {
    value = value.substring(start.length);
    start = start.replace(/\n+/g, `$&${indent}`);
  }
  const header = (startWithSpace ? '2' : '') + chomp;
  return `|${header}\n${indent}${start}${value.replace(/\n+/g, `$&${indent}`)}${end}`;
}

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** One node at context indentation `indent`; `seen` holds the document's objects (a repeat would be an alias). */
function node(value: unknown, indent: string, seen: Set<object>): string {
  switch (typeof value) {
    case 'string': return scalar(value, indent, false);
    case 'boolean': return value ? 'true' : 'false';
    case 'number':
      if (Number.isSafeInteger(value) && !Object.is(value, -0)) return String(value);
      throw FALLBACK;
    case 'object':
      if (value === null) return 'null';
      if (seen.has(value)) throw FALLBACK;
      seen.add(value);
      if (Array.isArray(value)) return sequence(value, indent, seen);
      if (isPlainObject(value)) return mapping(value, indent, seen);
      throw FALLBACK;
    default:
      throw FALLBACK;
  }
}

function sequence(items: readonly unknown[], indent: string, seen: Set<object>): string {
  if (items.length === 0) return '[]';
  const itemIndent = `${indent}  `;
  let out = '';
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (item === undefined) throw FALLBACK;
    out += `${i === 0 ? '' : `\n${indent}`}- ${node(item, itemIndent, seen)}`;
  }
  return out;
}

function mapping(object: Record<string, unknown>, indent: string, seen: Set<object>): string {
  const keys = Object.keys(object);
  if (keys.length === 0) return '{}';
  const inner = `${indent}  `;
  let out = '';
  for (let i = 0; i < keys.length; i++) {
    const value = object[keys[i]];
    if (value === undefined) throw FALLBACK;
    const key = scalar(keys[i], inner, true);
    if (key.length > 1024) throw FALLBACK; // yaml writes an explicit `? key`
    const rendered = node(value, inner, seen);
    let ws = ' ';
    if (typeof value === 'object' && value !== null) {
      // a non-empty collection starts on the next line; {} and [] stay inline
      if (rendered !== '{}' && rendered !== '[]') ws = `\n${inner}`;
    } else if (rendered === '' || rendered[0] === '\n') {
      ws = '';
    }
    out += `${i === 0 ? '' : `\n${indent}`}${key}:${ws}${rendered}`;
  }
  return out;
}

/** One document, as `Yaml.stringify(doc)` writes it, on the fast path when it can be. */
function fastDocumentYaml(doc: unknown): string {
  if (doc === undefined) return '\n';
  if (typeof doc === 'object' && doc !== null && !Array.isArray(doc) && isPlainObject(doc)) {
    try {
      return `${mapping(doc, '', new Set([doc]))}\n`;
    } catch (e) {
      if (e !== FALLBACK) throw e;
    }
  }
  return Yaml.stringify(doc);
}

/**
 * Byte for byte what cdk8s' `Yaml.stringify(...docs)` returns (documents
 * joined by `---`), by the emitter {@link yamlEmitter} chooses.
 */
export function toYaml(docs: readonly unknown[]): string {
  if (yamlEmitter() === 'stock' || !scalarTests()) return Yaml.stringify(...docs);
  return docs.map(fastDocumentYaml).join('---\n');
}

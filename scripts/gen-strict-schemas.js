#!/usr/bin/env node
/*
 * Generates imports/validation/strict-schemas.json, the schemas that
 * src/schema-validator.ts checks synthesized objects against, offline:
 *
 *   { sourceSha256, roots: { "<apiVersion>/<kind>": schema }, definitions: { name: schema } }
 *
 * from the Kubernetes v1.28.0 definitions (imports/k8s-schema/) and every
 * served version of the CRDs in imports/crds/*.yaml, made strict:
 *
 * - `additionalProperties: false` on every object schema that lists
 *   `properties` (unless `x-kubernetes-preserve-unknown-fields: true` or an
 *   explicit `additionalProperties`), so misspelled fields are errors;
 * - int-or-string (`format: int-or-string`, `x-kubernetes-int-or-string`, and
 *   `oneOf`/`anyOf` of bare types such as IntOrString and Quantity) becomes a
 *   type union, e.g. `type: [integer, string]`;
 * - formats become plain keywords: int32 -> minimum/maximum, byte -> base64
 *   pattern, date-time -> RFC 3339 pattern; int64 and double are dropped;
 * - the `metadata` of custom resources is the core ObjectMeta;
 * - descriptions, defaults and `x-kubernetes-*` annotations are dropped (CEL
 *   `x-kubernetes-validations` cannot be evaluated offline); definitions no
 *   root reaches are pruned.
 *
 * Reading and tightening the 1 MB definitions and ~1 MB of CRD YAML takes
 * ~0.3 s; the result (~490 KiB of JSON, one key per line) parses in ~5 ms, which
 * is why it is generated once and committed. The script also compiles every
 * root with ajv (strict mode) to prove the output is well-formed JSON Schema,
 * and refuses keywords the small interpreter in src/schema-validator.ts does
 * not implement.
 *
 * Usage: node scripts/gen-strict-schemas.js           (write the file)
 *        node scripts/gen-strict-schemas.js --check   (exit 1 if it is stale)
 */
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');

const ROOT = path.resolve(__dirname, '..');
const DEFINITIONS = 'imports/k8s-schema/v1.28.0_definitions.json';
const CRD_DIR = 'imports/crds';
const OUTPUT = 'imports/validation/strict-schemas.json';
const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

/** Kinds that never appear in manifests. */
const SKIPPED_KINDS = /^(DeleteOptions|WatchEvent|Status|APIGroup|APIVersions|.*List)$/;

/** Keywords src/schema-validator.ts implements; anything else fails generation. */
const SUPPORTED = new Set([
  '$ref', 'type', 'nullable', 'enum', 'properties', 'required', 'additionalProperties', 'items',
  'pattern', 'minLength', 'maxLength', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum',
  'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties', 'anyOf', 'oneOf', 'allOf', 'not',
]);

const DATE_TIME = '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$';
const BASE64 = '^[A-Za-z0-9+/\\r\\n]*={0,2}\\s*$';
const INT32 = { minimum: -2147483648, maximum: 2147483647 };

/** The input files, relative to the repository root, in a stable order. */
function inputFiles() {
  const crds = fs.readdirSync(path.join(ROOT, CRD_DIR)).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => `${CRD_DIR}/${f}`);
  return [DEFINITIONS, ...crds, 'scripts/gen-strict-schemas.js'];
}

/** sha256 over the inputs (name and content), this script included. */
function sourceHash() {
  const h = crypto.createHash('sha256');
  for (const f of inputFiles()) h.update(f).update('\0').update(fs.readFileSync(path.join(ROOT, f))).update('\0');
  return h.digest('hex');
}

/** `string` for `{type: string}`, else undefined. */
function bareType(s) {
  return s && typeof s === 'object' && Object.keys(s).length === 1 && typeof s.type === 'string' ? s.type : undefined;
}

/** A strict copy of a (sub)schema; see the header comment. */
function tighten(schema) {
  if (Array.isArray(schema)) return schema.map(tighten);
  if (!schema || typeof schema !== 'object') return schema;
  const out = {};
  for (const [key, value] of Object.entries(schema)) {
    if (['description', 'default', 'example', 'format', 'title'].includes(key) || key.startsWith('x-kubernetes-')) continue;
    if (key === 'properties') {
      out.properties = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, tighten(v)]));
    } else if (key === '$ref') {
      out.$ref = value.replace(/^#\/definitions\//, '');
    } else {
      out[key] = ['enum', 'required', 'type'].includes(key) ? value : tighten(value);
    }
  }
  if ((schema['x-kubernetes-int-or-string'] === true || schema.format === 'int-or-string') && !out.anyOf && !out.oneOf) {
    out.type = ['integer', 'string'];
  }
  for (const union of ['anyOf', 'oneOf']) {
    const alts = out[union];
    if (Array.isArray(alts) && alts.length > 0 && out.type === undefined && alts.every(bareType)) {
      out.type = [...new Set(alts.map(bareType))];
      delete out[union];
    }
  }
  if (schema.format === 'int32' && out.type === 'integer') Object.assign(out, { ...INT32, ...out });
  if (schema.format === 'byte' && out.type === 'string') out.pattern = out.pattern ?? BASE64;
  if (schema.format === 'date-time' && out.type === 'string') out.pattern = out.pattern ?? DATE_TIME;
  if (out.nullable !== true) delete out.nullable;
  if (out.properties && out.additionalProperties === undefined && schema['x-kubernetes-preserve-unknown-fields'] !== true) {
    if (schema['x-kubernetes-embedded-resource'] === true) {
      out.properties = { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { $ref: OBJECT_META }, ...out.properties };
    }
    out.additionalProperties = false;
  }
  if (out.$ref !== undefined && Object.keys(out).length > 1) throw new Error(`$ref with siblings: ${JSON.stringify(out)}`);
  return out;
}

/** `<apiVersion>/<kind>`, e.g. `apps/v1/Deployment`, `v1/Service`. */
function keyOf(group, version, kind) {
  return `${group ? `${group}/` : ''}${version}/${kind}`;
}

/** Walks every subschema. */
function walk(schema, visit) {
  if (!schema || typeof schema !== 'object') return;
  visit(schema);
  for (const s of Object.values(schema.properties ?? {})) walk(s, visit);
  for (const k of ['items', 'additionalProperties', 'not']) if (typeof schema[k] === 'object') walk(schema[k], visit);
  for (const k of ['anyOf', 'oneOf', 'allOf']) for (const s of schema[k] ?? []) walk(s, visit);
}

/** The strict schema document. */
function buildDocument() {
  const YAML = require('yaml');
  const raw = JSON.parse(fs.readFileSync(path.join(ROOT, DEFINITIONS), 'utf8')).definitions;
  const roots = {};
  for (const [name, def] of Object.entries(raw)) {
    for (const gvk of def['x-kubernetes-group-version-kind'] ?? []) {
      if (!SKIPPED_KINDS.test(gvk.kind)) roots[keyOf(gvk.group, gvk.version, gvk.kind)] = { $ref: name };
    }
  }
  for (const file of inputFiles().filter((f) => f.startsWith(CRD_DIR))) {
    for (const doc of YAML.parseAllDocuments(fs.readFileSync(path.join(ROOT, file), 'utf8'))) {
      const crd = doc.toJSON();
      if (!crd || crd.kind !== 'CustomResourceDefinition') continue;
      for (const version of crd.spec.versions) {
        if (version.served === false) continue;
        const schema = tighten(version.schema.openAPIV3Schema);
        schema.properties = { ...schema.properties, metadata: { $ref: OBJECT_META } };
        roots[keyOf(crd.spec.group, version.name, crd.spec.names.kind)] = schema;
      }
    }
  }
  // Tighten and keep only the definitions some root reaches.
  const definitions = {};
  const pending = [];
  const visit = (s) => {
    for (const [k, v] of Object.entries(s)) if (!SUPPORTED.has(k)) throw new Error(`unsupported keyword ${k}: ${JSON.stringify(v).slice(0, 80)}`);
    if (s.$ref !== undefined && !(s.$ref in definitions)) pending.push(s.$ref);
  };
  for (const root of Object.values(roots)) walk(root, visit);
  while (pending.length > 0) {
    const name = pending.pop();
    if (name in definitions) continue;
    if (!(name in raw)) throw new Error(`unresolved $ref ${name}`);
    definitions[name] = tighten(raw[name]);
    walk(definitions[name], visit);
  }
  const sorted = Object.fromEntries(Object.keys(definitions).sort().map((k) => [k, definitions[k]]));
  return { sourceSha256: sourceHash(), roots, definitions: sorted };
}

/** Compiles every root with ajv in strict mode: the output must be valid JSON Schema. */
function checkWithAjv(doc) {
  const Ajv = require('ajv').default;
  const ajv = new Ajv({ strict: true, strictTypes: false, strictRequired: false, allErrors: true });
  ajv.addSchema(toAjvSchema(doc), 'strict');
  for (const key of Object.keys(doc.roots)) ajv.getSchema(ajvRootRef(key));
}

/**
 * The document as one JSON Schema for ajv (the tests compare against it):
 * `$ref`s become JSON pointers, roots are the definitions `gvk:<key>`.
 */
function toAjvSchema(doc) {
  const fix = (s) => {
    if (Array.isArray(s)) return s.map(fix);
    if (!s || typeof s !== 'object') return s;
    return Object.fromEntries(Object.entries(s).map(([k, v]) => [k,
      k === '$ref' ? `#/definitions/${v}` : k === 'properties' ? Object.fromEntries(Object.entries(v).map(([p, ps]) => [p, fix(ps)])) : fix(v)]));
  };
  const definitions = {};
  for (const [name, s] of Object.entries(doc.definitions)) definitions[name] = fix(s);
  for (const [key, s] of Object.entries(doc.roots)) definitions[`gvk:${key}`] = fix(s);
  return { definitions };
}

/** The ajv reference of a root in the schema added as `strict`. */
function ajvRootRef(key) {
  return `strict#/definitions/gvk:${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

function main() {
  const out = path.join(ROOT, OUTPUT);
  if (process.argv.includes('--check')) {
    const current = fs.existsSync(out) ? JSON.parse(fs.readFileSync(out, 'utf8')).sourceSha256 : undefined;
    if (current !== sourceHash()) {
      console.error(`${OUTPUT} is stale: run node scripts/gen-strict-schemas.js`);
      process.exit(1);
    }
    return;
  }
  const started = process.hrtime.bigint();
  const doc = buildDocument();
  checkWithAjv(doc);
  const text = `${JSON.stringify(doc, null, 1)}\n`; // one key per line: reviewable diffs, same parse time
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, text);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const counts = `${Object.keys(doc.roots).length} kinds, ${Object.keys(doc.definitions).length} definitions`;
  console.log(`wrote ${OUTPUT}: ${counts}, ${(text.length / 1024).toFixed(0)} KiB, in ${ms.toFixed(0)} ms`);
}

module.exports = { sourceHash, buildDocument, toAjvSchema, ajvRootRef, tighten, OUTPUT };

if (require.main === module) main();

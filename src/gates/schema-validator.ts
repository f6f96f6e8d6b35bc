import * as fs from 'fs';
import * as path from 'path';
import { ErrorCode } from '../internal/error-code';

/**
 * Offline validation of synthesized Kubernetes objects against the
 * Kubernetes v1.28.0 schema and the CRD schemas in `imports/crds/`, made
 * strict (unknown fields are errors).
 *
 * The schemas are precompiled by `scripts/gen-strict-schemas.js` into
 * `imports/validation/strict-schemas.json` (committed; ~490 KiB, parsed once
 * per process in a few milliseconds). This module interprets that JSON Schema
 * subset directly: no ajv at run time, no code generation, nothing compiled
 * per kind, so a whole synth validates in milliseconds.
 */

/** One schema violation in one object. */
export interface SchemaError {
  /** `apiVersion` of the object (empty if it had none). */
  readonly apiVersion: string;
  /** `kind` of the object (empty if it had none). */
  readonly kind: string;
  /** `metadata.name` of the object (empty if it had none). */
  readonly name: string;
  /** `metadata.namespace` of the object. @default - not namespaced or not set */
  readonly namespace?: string;
  /** JSON pointer inside the object, e.g. `/spec/template/spec/containers/0/nme`; `''` is the object itself. */
  readonly path: string;
  /** What is wrong, e.g. `unknown field 'nme'`, `must be integer`, `missing required field 'name'`. */
  readonly message: string;
}

class ManifestSchemaErrorImpl extends Error {
  public readonly code = ErrorCode.SCHEMA;
  constructor(public readonly errors: SchemaError[]) {
    super(formatSchemaErrors(errors));
    this.name = 'ManifestSchemaError';
  }
}

/**
 * Thrown by {@link assertValidManifests}: a plain `Error` with `code`
 * {@link ErrorCode.SCHEMA} whose `errors` list every violation.
 * `err instanceof ManifestSchemaError` keeps working in TypeScript and
 * JavaScript.
 *
 * @deprecated test `err.code === ErrorCode.SCHEMA`, or call
 * `ManifestSchema.validate` for the errors without an exception
 */
export const ManifestSchemaError: new (errors: SchemaError[]) => ManifestSchemaError = ManifestSchemaErrorImpl;
/** @deprecated see the value `ManifestSchemaError` */
export type ManifestSchemaError = Error & { readonly code: ErrorCode; readonly errors: SchemaError[] };

/** The subset of JSON Schema used by the strict schemas (see scripts/gen-strict-schemas.js). */
interface Schema {
  readonly $ref?: string;
  readonly type?: string | readonly string[];
  readonly nullable?: boolean;
  readonly enum?: readonly unknown[];
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | Schema;
  readonly items?: Schema;
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly uniqueItems?: boolean;
  readonly minProperties?: number;
  readonly maxProperties?: number;
  readonly anyOf?: readonly Schema[];
  readonly oneOf?: readonly Schema[];
  readonly allOf?: readonly Schema[];
  readonly not?: Schema;
}

interface StrictSchemas {
  readonly sourceSha256: string;
  readonly roots: Readonly<Record<string, Schema>>;
  readonly definitions: Readonly<Record<string, Schema>>;
}

/** Where the generated schemas live, relative to the repository root. */
export const STRICT_SCHEMAS_FILE = 'imports/validation/strict-schemas.json';

let loaded: StrictSchemas | undefined;

/** The strict schemas, read once per process (from src/gates/ under ts-jest, or lib/src/gates/ after tsc). */
function schemas(): StrictSchemas {
  if (loaded) return loaded;
  // src/gates/ under ts-jest, lib/src/gates/ after tsc: the package root is two or three levels up
  const candidates = [path.resolve(__dirname, '..', '..', STRICT_SCHEMAS_FILE), path.resolve(__dirname, '..', '..', '..', STRICT_SCHEMAS_FILE)];
  const file = candidates.find((f) => fs.existsSync(f));
  if (!file) {
    throw new Error(`schema-validator: ${STRICT_SCHEMAS_FILE} not found (looked in ${candidates.join(', ')}); `
      + "run 'node scripts/gen-strict-schemas.js'");
  }
  loaded = JSON.parse(fs.readFileSync(file, 'utf8')) as StrictSchemas;
  return loaded;
}

/** True if objects of this apiVersion and kind have a schema (core v1.28 or a CRD in imports/crds). */
export function hasSchema(apiVersion: string, kind: string): boolean {
  return Object.prototype.hasOwnProperty.call(schemas().roots, `${apiVersion}/${kind}`);
}

/**
 * Validates synthesized objects (e.g. `Testing.synth(chart)` or
 * `chart.toJson()`) against their schema and returns every violation; an
 * empty list means all are valid. An object whose apiVersion/kind has no
 * schema is itself an error.
 * @deprecated use `ManifestSchema.validate`
 */
export function validateManifests(objects: readonly unknown[]): SchemaError[] {
  const { roots } = schemas();
  const errors: SchemaError[] = [];
  objects.forEach((object, index) => {
    const o = isObject(object) ? object : {};
    const meta = isObject(o.metadata) ? o.metadata : {};
    const apiVersion = typeof o.apiVersion === 'string' ? o.apiVersion : '';
    const kind = typeof o.kind === 'string' ? o.kind : '';
    const name = typeof meta.name === 'string' ? meta.name : '';
    const namespace = typeof meta.namespace === 'string' ? meta.namespace : undefined;
    const report = (p: string, message: string): void => {
      errors.push({ apiVersion, kind, name, ...(namespace !== undefined ? { namespace } : {}), path: p, message });
    };
    if (!isObject(object) || !apiVersion || !kind) {
      report('', `object #${index} has no apiVersion/kind`);
      return;
    }
    const root = Object.prototype.hasOwnProperty.call(roots, `${apiVersion}/${kind}`) ? roots[`${apiVersion}/${kind}`] : undefined;
    if (!root) {
      report('', `no schema for apiVersion ${apiVersion} kind ${kind}`);
      return;
    }
    check(root, object, '', report);
  });
  return errors;
}

/**
 * Throws a {@link ManifestSchemaError} listing every violation, if there is any.
 * @deprecated use `ManifestSchema.enforce`
 */
export function assertValidManifests(objects: readonly unknown[]): void {
  const errors = validateManifests(objects);
  if (errors.length > 0) throw new ManifestSchemaError(errors);
}

/**
 * Renders violations one per line: `Deployment erp/api: /spec/replicas: must be integer`.
 * @deprecated use `ManifestSchema.formatErrors`
 */
export function formatSchemaErrors(errors: readonly SchemaError[]): string {
  const lines = errors.map((e) => {
    const id = `${e.kind || '<no kind>'} ${e.namespace ? `${e.namespace}/` : ''}${e.name || '<unnamed>'}`;
    return `  ${id}: ${e.path || '/'}: ${e.message}`;
  });
  const head = `${errors.length} schema error${errors.length === 1 ? '' : 's'}`;
  return lines.length > 0 ? `${head}:\n${lines.join('\n')}` : head;
}

type Report = (path: string, message: string) => void;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function hasType(v: unknown, type: string): boolean {
  switch (type) {
    case 'object': return isObject(v);
    case 'array': return Array.isArray(v);
    case 'string': return typeof v === 'string';
    case 'integer': return typeof v === 'number' && Number.isInteger(v);
    case 'number': return typeof v === 'number' && Number.isFinite(v);
    case 'boolean': return typeof v === 'boolean';
    case 'null': return v === null;
    default: return false;
  }
}

const regexps = new Map<string, RegExp>();
function regexp(pattern: string): RegExp {
  let re = regexps.get(pattern);
  if (!re) {
    re = new RegExp(pattern, 'u');
    regexps.set(pattern, re);
  }
  return re;
}

/** RFC 6901 escaping of one path segment. */
function seg(key: string | number): string {
  if (typeof key === 'number' || (!key.includes('~') && !key.includes('/'))) return `/${key}`;
  return `/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

function show(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

/** True if `value` is valid against `schema` (no report). */
function valid(schema: Schema, value: unknown): boolean {
  let ok = true;
  check(schema, value, '', () => { ok = false; });
  return ok;
}

/** Checks `value` against `schema`, reporting each violation at its path. */
function check(schema: Schema, value: unknown, at: string, report: Report): void {
  if (schema.$ref !== undefined) {
    const target = schemas().definitions[schema.$ref];
    if (!target) throw new Error(`schema-validator: unresolved $ref ${schema.$ref}`);
    check(target, value, at, report);
    return;
  }
  if (value === null && schema.nullable) return;
  // The API server itself writes `creationTimestamp: null` into embedded object metadata (e.g. StatefulSet
  // claim templates; the OpenAPI omits `nullable`); we write it back the same way so re-applies change nothing.
  if (value === null && at.endsWith('/metadata/creationTimestamp')) return;
  if (schema.type !== undefined) {
    const types = typeof schema.type === 'string' ? [schema.type] : schema.type;
    if (!types.some((t) => hasType(value, t))) {
      report(at, `must be ${types.join(' or ')} (got ${show(value)})`);
      return;
    }
  }
  if (schema.enum && !schema.enum.some((e) => e === value || JSON.stringify(e) === JSON.stringify(value))) {
    report(at, `must be one of ${schema.enum.map(show).join(', ')} (got ${show(value)})`);
  }
  if (typeof value === 'string') checkString(schema, value, at, report);
  else if (typeof value === 'number') checkNumber(schema, value, at, report);
  else if (Array.isArray(value)) checkArray(schema, value, at, report);
  else if (isObject(value)) checkObject(schema, value, at, report);
  if (schema.allOf) for (const s of schema.allOf) check(s, value, at, report);
  if (schema.anyOf && !schema.anyOf.some((s) => valid(s, value))) {
    report(at, `must match at least one of ${schema.anyOf.length} allowed forms (anyOf)`);
  }
  if (schema.oneOf && schema.oneOf.filter((s) => valid(s, value)).length !== 1) {
    report(at, `must match exactly one of ${schema.oneOf.length} allowed forms (oneOf)`);
  }
  if (schema.not && valid(schema.not, value)) report(at, 'matches a form that is not allowed (not)');
}

function checkString(schema: Schema, value: string, at: string, report: Report): void {
  if (schema.pattern !== undefined && !regexp(schema.pattern).test(value)) {
    report(at, `must match pattern ${schema.pattern} (got ${show(value)})`);
  }
  if (schema.minLength === undefined && schema.maxLength === undefined) return;
  const length = [...value].length; // code points, as JSON Schema counts
  if (schema.minLength !== undefined && length < schema.minLength) report(at, `must be at least ${schema.minLength} characters long`);
  if (schema.maxLength !== undefined && length > schema.maxLength) report(at, `must be at most ${schema.maxLength} characters long`);
}

function checkNumber(schema: Schema, value: number, at: string, report: Report): void {
  if (schema.minimum !== undefined && value < schema.minimum) report(at, `must be >= ${schema.minimum} (got ${value})`);
  if (schema.maximum !== undefined && value > schema.maximum) report(at, `must be <= ${schema.maximum} (got ${value})`);
  if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) report(at, `must be > ${schema.exclusiveMinimum} (got ${value})`);
  if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum) report(at, `must be < ${schema.exclusiveMaximum} (got ${value})`);
}

function checkArray(schema: Schema, value: readonly unknown[], at: string, report: Report): void {
  if (schema.minItems !== undefined && value.length < schema.minItems) report(at, `must have at least ${schema.minItems} items`);
  if (schema.maxItems !== undefined && value.length > schema.maxItems) report(at, `must have at most ${schema.maxItems} items`);
  if (schema.uniqueItems && new Set(value.map((v) => JSON.stringify(v))).size !== value.length) report(at, 'must not contain duplicate items');
  if (schema.items) {
    const items = schema.items;
    value.forEach((v, i) => check(items, v, at + seg(i), report));
  }
}

function checkObject(schema: Schema, value: Readonly<Record<string, unknown>>, at: string, report: Report): void {
  const keys = Object.keys(value).filter((k) => value[k] !== undefined);
  for (const r of schema.required ?? []) {
    if (value[r] === undefined) report(at, `missing required field '${r}'`);
  }
  if (schema.minProperties !== undefined && keys.length < schema.minProperties) report(at, `must have at least ${schema.minProperties} fields`);
  if (schema.maxProperties !== undefined && keys.length > schema.maxProperties) report(at, `must have at most ${schema.maxProperties} fields`);
  const properties = schema.properties ?? {};
  for (const key of keys) {
    const sub = Object.prototype.hasOwnProperty.call(properties, key) ? properties[key] : undefined;
    if (sub) {
      check(sub, value[key], at + seg(key), report);
    } else if (schema.additionalProperties === false) {
      report(at + seg(key), `unknown field '${key}'`);
    } else if (typeof schema.additionalProperties === 'object') {
      check(schema.additionalProperties, value[key], at + seg(key), report);
    }
  }
}

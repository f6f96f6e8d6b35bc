/**
 * Emit only what the API server keeps. A value it drops or rewrites is a
 * perpetual diff: every `kubectl apply` patches it back ("configured"),
 * `kubectl diff` is never clean and Argo CD shows the app OutOfSync forever.
 *
 * The Kubernetes API omits zero values of `omitempty` fields that are not
 * pointers (an empty list, `false`, `0`, `""`) and stores quantities in
 * canonical form (`1000m` is `1`, `1024Mi` is `1Gi`). cdk8s-plus writes some
 * of them explicitly (`hostNetwork: false`, `minReadySeconds: 0`,
 * `externalIPs: []`...); this puts every built-in object in the form the
 * server returns. Custom resources are left alone: the API server keeps
 * what their schema allows, empty lists included.
 */

/** Manifest object. */
type Obj = Record<string, unknown>;

/** API groups whose objects are Go types with `omitempty` semantics. */
const BUILT_IN_GROUPS = new Set(['', 'apps', 'batch', 'networking.k8s.io', 'policy', 'rbac.authorization.k8s.io', 'autoscaling', 'storage.k8s.io']);

/**
 * Non-pointer `omitempty` scalars we (or cdk8s-plus) may write with their
 * zero value, by key: the server drops them. (Pointer fields such as
 * `privileged`, `automountServiceAccountToken`, `enableServiceLinks`,
 * `setHostnameAsFQDN`, `suspend` or `partition` keep `false`/`0`.)
 */
const DROPPED_ZERO: Record<string, boolean | number | string> = {
  hostNetwork: false,
  hostPID: false,
  hostIPC: false,
  minReadySeconds: 0,
  initialDelaySeconds: 0,
  readOnly: false,
  apiGroup: '',
};

/** Keys whose values are Kubernetes quantities (or maps of them). */
const QUANTITY_MAPS = new Set(['requests', 'limits']);
const QUANTITY_KEYS = new Set(['sizeLimit', 'storage']);

const DECIMAL_EXP: Record<string, number> = { 'm': -1, '': 0, 'k': 1, 'M': 2, 'G': 3, 'T': 4, 'P': 5, 'E': 6 };
const BINARY_EXP: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL_SUFFIX = ['m', '', 'k', 'M', 'G', 'T', 'P', 'E'];
const BINARY_SUFFIX = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

/** A decimal string (`1.5`) times 10^scale as an exact BigInt, or undefined when it has more fraction digits than that. */
function scaled(number: string, scale: number): bigint | undefined {
  const [int, frac = ''] = number.split('.');
  if (/[1-9]/.test(frac.slice(scale))) return undefined;
  return BigInt((int || '0') + frac.slice(0, scale).padEnd(scale, '0'));
}

/** The largest power `n` (up to `max`) of `base` that divides `value`. */
function largestPower(value: bigint, base: bigint, max: number): number {
  let n = 0;
  while (n < max && value % (base ** BigInt(n + 1)) === 0n) n++;
  return n;
}

/**
 * The canonical form the API server stores a quantity in: `1000m` -> `1`,
 * `0.5` -> `500m`, `2000` -> `2k`, `2048Mi` -> `2Gi`, `1536Mi` stays.
 * Binary-suffixed values stay binary; anything not recognised is returned
 * unchanged.
 */
export function canonicalQuantity(q: string): string {
  const m = /^(\d+(?:\.\d+)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(q);
  if (!m) return q;
  const [, number, suffix = ''] = m;
  if (suffix in BINARY_EXP) {
    const s = scaled(number, 18);
    if (s === undefined) return q;
    const total = s * 1024n ** BigInt(BINARY_EXP[suffix]);
    if (total % 10n ** 18n !== 0n) return q;
    const bytes = total / 10n ** 18n;
    if (bytes === 0n) return '0';
    const n = largestPower(bytes, 1024n, BINARY_SUFFIX.length - 1);
    return `${bytes / 1024n ** BigInt(n)}${BINARY_SUFFIX[n]}`;
  }
  const milli = scaled(number, 3 * (DECIMAL_EXP[suffix] + 1));
  if (milli === undefined) return q;
  if (milli === 0n) return '0';
  const n = largestPower(milli, 1000n, DECIMAL_SUFFIX.length - 1);
  return `${milli / 1000n ** BigInt(n)}${DECIMAL_SUFFIX[n]}`;
}

function normalize(value: unknown, key: string | undefined, quantities: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => normalize(v, undefined, false));
  if (value !== null && typeof value === 'object') {
    const out: Obj = {};
    for (const [k, v] of Object.entries(value as Obj)) {
      if (Array.isArray(v) && v.length === 0) continue;
      if (k in DROPPED_ZERO && v === DROPPED_ZERO[k]) continue;
      if (typeof v === 'string' && (QUANTITY_KEYS.has(k) || (quantities && key !== undefined))) {
        out[k] = canonicalQuantity(v);
        continue;
      }
      // an atomic struct whose default the server fills in: server-side apply would otherwise
      // see a different value and conflict with the client-side apply that created the object
      if (k === 'fieldRef' && v && typeof v === 'object' && (v as Obj).apiVersion === undefined) {
        out[k] = { apiVersion: 'v1', ...(v as Obj) };
        continue;
      }
      out[k] = normalize(v, k, QUANTITY_MAPS.has(k));
    }
    return out;
  }
  return value;
}

/**
 * A StatefulSet's volume claim templates as the server stores them: it fills
 * in `apiVersion`, `kind`, `metadata.creationTimestamp: null`, `volumeMode` and `status.phase`, and the list has
 * no merge key, so without them every `kubectl apply` replaces the list.
 */
function claimTemplatesAsStored(sts: Obj): Obj {
  const spec = (sts.spec ?? {}) as Obj;
  const templates = spec.volumeClaimTemplates;
  if (!Array.isArray(templates)) return sts;
  const stored = (templates as Obj[]).map((t) => ({
    apiVersion: 'v1', kind: 'PersistentVolumeClaim', ...t,
    // the server keeps an explicit null here (ObjectMeta.creationTimestamp is not omitempty)
    metadata: { creationTimestamp: null, ...(t.metadata as Obj | undefined) },
    spec: { volumeMode: 'Filesystem', ...(t.spec as Obj | undefined) },
    status: { phase: 'Pending', ...(t.status as Obj | undefined) },
  }));
  return { ...sts, spec: { ...spec, volumeClaimTemplates: stored } };
}

/**
 * The object as the API server would return it, for built-in kinds; custom
 * resources unchanged. (Typed as it is given: the form changes, not the shape.)
 */
export function serverForm<T extends object>(o: T): T {
  const obj = o as Obj;
  const group = typeof obj.apiVersion === 'string' && obj.apiVersion.includes('/') ? obj.apiVersion.split('/')[0] : '';
  if (!BUILT_IN_GROUPS.has(group)) return o;
  const normal = normalize(obj, undefined, false) as Obj;
  return (obj.kind === 'StatefulSet' ? claimTemplatesAsStored(normal) : normal) as T;
}

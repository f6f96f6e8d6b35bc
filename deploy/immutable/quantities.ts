/* Kubernetes quantities (`20Gi`, `500m`), compared by exact value. */

const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([numkMGTPE]?)|[eE]([+-]?\d+))$/;
const DECIMAL_SUFFIX: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIX: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

/** A quantity as an exact fraction, or undefined when it is not one. */
function quantity(v: unknown): { num: bigint; den: bigint } | undefined {
  const s = typeof v === 'number' && Number.isFinite(v) ? String(v) : v;
  if (typeof s !== 'string') return undefined;
  const m = QUANTITY.exec(s.trim());
  if (!m) return undefined;
  const [, sign, number, binary, decimal, exponent] = m;
  const [whole, fraction = ''] = number.split('.');
  const pow10 = -fraction.length + (exponent !== undefined ? Number(exponent) : binary ? 0 : DECIMAL_SUFFIX[decimal ?? '']);
  if (Math.abs(pow10) > 1000) return undefined;
  let num = BigInt(`${whole || '0'}${fraction}`) * (sign === '-' ? -1n : 1n) * 2n ** BigInt(binary ? BINARY_SUFFIX[binary] : 0);
  let den = 1n;
  if (pow10 >= 0) num *= 10n ** BigInt(pow10);
  else den = 10n ** BigInt(-pow10);
  return { num, den };
}

/**
 * Compares two Kubernetes quantities by value (`20Gi` = `21474836480`,
 * `500m` < `1`): -1, 0 or 1; undefined when either is not a quantity.
 */
export function compareQuantities(a: unknown, b: unknown): -1 | 0 | 1 | undefined {
  const x = quantity(a);
  const y = quantity(b);
  if (!x || !y) return undefined;
  const l = x.num * y.den;
  const r = y.num * x.den;
  return l < r ? -1 : l > r ? 1 : 0;
}

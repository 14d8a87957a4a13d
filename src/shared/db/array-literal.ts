/**
 * PostgreSQL array literals built directly, for parameters of a few hundred elements that are
 * written on hot paths (feed snapshots): node-postgres's generic conversion inspects and escapes
 * every element, which showed as a few per cent of a busy server's CPU.
 */

/** `{1,2,3}` for an int[] parameter; every element must be an integer. */
export function intArrayLiteral(values: readonly number[]): string {
  for (const v of values) if (!Number.isInteger(v)) throw new TypeError(`not an integer: ${String(v)}`);
  return `{${values.join(',')}}`;
}

/** `{"a","b\"c"}` for a text[] parameter: every element quoted, `"` and `\` escaped (NULLs are not supported). */
export function textArrayLiteral(values: readonly string[]): string {
  const quoted = new Map<string, string>();
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    let q = quoted.get(v);
    if (q === undefined) quoted.set(v, (q = `"${v.replace(/["\\]/g, '\\$&')}"`));
    parts[i] = q;
  }
  return `{${parts.join(',')}}`;
}

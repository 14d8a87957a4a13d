/** `--name value` flags for the training and evaluation CLIs (node:util parseArgs, all strings). */
import { parseArgs } from 'node:util';

export function flags<K extends string, B extends string = never>(
  names: readonly K[],
  switches: readonly B[] = [],
): Partial<Record<K, string>> & Partial<Record<B, boolean>> {
  const options = {
    ...Object.fromEntries(names.map((n) => [n, { type: 'string' as const }])),
    ...Object.fromEntries(switches.map((n) => [n, { type: 'boolean' as const }])),
  };
  return parseArgs({ options, allowPositionals: false }).values as Partial<Record<K, string>> & Partial<Record<B, boolean>>;
}

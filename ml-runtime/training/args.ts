/** `--name value` flags for the training and evaluation CLIs (node:util parseArgs, all strings). */
import { parseArgs } from 'node:util';

export function flags<K extends string>(names: readonly K[]): Partial<Record<K, string>> {
  const options = Object.fromEntries(names.map((n) => [n, { type: 'string' as const }]));
  return parseArgs({ options, allowPositionals: false }).values as Partial<Record<K, string>>;
}

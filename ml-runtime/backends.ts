/**
 * Chooses the TensorFlow.js backend inside a worker: tfjs-node-gpu, then tfjs-node, then WASM,
 * then plain JS. The native packages download libtensorflow on install, so they are not
 * dependencies of the project; they are used when a deployment has installed them.
 *
 * The choice is verified with `tf.getBackend()` and returned with the reasons the better ones were
 * skipped, so that the pool can report it: a silent fall-back to a 50× slower backend would look
 * like a mysterious latency regression.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendName } from './protocol';

interface Candidate {
  name: BackendName;
  pkg: string;
  /** Name the package registers with tfjs-core. */
  registersAs: string;
}

export const BACKEND_ORDER: readonly Candidate[] = [
  { name: 'tensorflow-gpu', pkg: '@tensorflow/tfjs-node-gpu', registersAs: 'tensorflow' },
  { name: 'tensorflow', pkg: '@tensorflow/tfjs-node', registersAs: 'tensorflow' },
  { name: 'wasm', pkg: '@tensorflow/tfjs-backend-wasm', registersAs: 'wasm' },
  { name: 'cpu', pkg: '@tensorflow/tfjs-backend-cpu', registersAs: 'cpu' },
];

const ALIASES: Record<string, BackendName> = {
  'tensorflow-gpu': 'tensorflow-gpu',
  'node-gpu': 'tensorflow-gpu',
  gpu: 'tensorflow-gpu',
  tensorflow: 'tensorflow',
  node: 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

/** Parses `ML_BACKEND`-style names; throws on anything unknown rather than ignoring it. */
export function parseBackendName(value: string): BackendName {
  const name = ALIASES[value.trim().toLowerCase()];
  if (!name) throw new Error(`unknown TensorFlow.js backend "${value}" (expected one of ${Object.keys(ALIASES).join(', ')})`);
  return name;
}

export interface BackendChoice {
  /** `tf.getBackend()` once initialised: `tensorflow`, `wasm` or `cpu`. */
  backend: string;
  /** Human-readable account of the choice, e.g. "wasm (tfjs-node-gpu: not installed; …)". */
  reason: string;
}

async function tryCandidate(c: Candidate, wasmThreads: number): Promise<string | undefined> {
  try {
    // Guarded dynamic require: the native packages are optional and usually absent.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(c.pkg) as { setThreadsCount?: (n: number) => void };
    if (c.name === 'wasm') mod.setThreadsCount?.(wasmThreads);
  } catch (err) {
    const code = (err as { code?: string }).code;
    return code === 'MODULE_NOT_FOUND' ? 'not installed' : `failed to load: ${(err as Error).message}`;
  }
  if (!tf.findBackendFactory(c.registersAs)) {
    return 'installed, but registered with another copy of @tensorflow/tfjs-core';
  }
  try {
    if (!(await tf.setBackend(c.registersAs))) return 'failed to initialise';
  } catch (err) {
    return `failed to initialise: ${(err as Error).message}`;
  }
  return tf.getBackend() === c.registersAs ? undefined : `tf.getBackend() is ${tf.getBackend()}`;
}

/**
 * Initialises the forced backend, or the best one present. Throws when a forced backend is
 * unavailable (never substitutes another) or when none works.
 */
export async function selectBackend(forced?: BackendName, wasmThreads = 1): Promise<BackendChoice> {
  const candidates = forced ? BACKEND_ORDER.filter((c) => c.name === forced) : BACKEND_ORDER;
  const skipped: string[] = [];
  for (const c of candidates) {
    const problem = await tryCandidate(c, wasmThreads);
    if (problem === undefined) {
      const why = forced ? 'forced by configuration' : skipped.length ? skipped.join('; ') : 'best available';
      return { backend: tf.getBackend(), reason: `${c.name} via ${c.pkg} (${why})` };
    }
    skipped.push(`${c.pkg}: ${problem}`);
  }
  throw new Error(
    forced ? `backend ${forced} is unavailable: ${skipped.join('; ')}` : `no TensorFlow.js backend works: ${skipped.join('; ')}`,
  );
}

/**
 * Worker-thread entry point: selects a backend, loads the models named in `workerData`, then
 * answers messages one at a time: `infer` batches, and `load`/`activate` of models replaced at run
 * time. Messages are described in PROTOCOL.md.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend } from './backends';
import { loadWeights } from './moderation/weights';
import { ModerationModel } from './moderation/model';
import { transferables, type PackedModeration } from './moderation/packed';
import { serveRecommender } from './serve-recommender';
import { loadEncoder } from './encoder/weights';
import { TextEncoder } from './encoder/model';
import type { ModelIO, ModelName, PoolToWorker, WorkerInit, WorkerToPool } from './protocol';

interface Served {
  version: string;
  numItems?: number;
  run(inputs: unknown[]): unknown[];
  /** Results as typed arrays to transfer instead of objects to clone (moderation). */
  runPacked?(inputs: unknown[]): PackedModeration;
  dispose(): void;
}

const init = workerData as WorkerInit;
const port = parentPort!;
const served = new Map<ModelName, Served>();
const staged = new Map<number, { model: ModelName; loaded: Served }>();

function post(msg: WorkerToPool): void {
  port.postMessage(msg);
}

/** One loader per model name. */
const loaders: { [M in ModelName]: (dir: string) => Served } = {
  moderation: (dir) => {
    const model = new ModerationModel(loadWeights(dir));
    // The first call compiles kernels and grows buffers; pay for it before reporting ready.
    model.run(['warm-up text for the moderation model']);
    return {
      version: model.modelVersion,
      run: (texts) => model.run(texts as string[]),
      runPacked: (texts) => model.runPacked(texts as string[]),
      dispose: () => model.dispose(),
    };
  },
  recommender: (dir) => {
    const model = serveRecommender(dir);
    return { ...model, run: (requests) => model.run(requests as ModelIO['recommender']['input'][]) };
  },
  encoder: (dir) => {
    const model = new TextEncoder(loadEncoder(dir));
    model.embed(['warm-up text for the text encoder']);
    return { version: model.modelVersion, run: (texts) => model.embed(texts as string[]), dispose: () => undefined };
  },
};

/**
 * Models a worker can serve without: the recommender is trained from the database at run time and
 * its directory may be gone when a replacement worker starts; feeds fall back without it (and
 * without the encoder, to tags), while unscored content would stay unpublished, so a moderation
 * model that fails stops the pool.
 */
const optional: ReadonlySet<ModelName> = new Set(['recommender', 'encoder']);

/** Messages that arrive while the worker starts (a `load` sent to a replacement) wait for it. */
let backlog: PoolToWorker[] | undefined = [];

async function start(): Promise<void> {
  const choice = await selectBackend(init.backend);
  const models: Partial<Record<ModelName, string>> = {};
  const modelErrors: Partial<Record<ModelName, string>> = {};
  for (const [name, dir] of Object.entries(init.modelDirs) as Array<[ModelName, string]>) {
    try {
      const loaded = loaders[name](dir);
      served.set(name, loaded);
      models[name] = loaded.version;
    } catch (err) {
      if (!optional.has(name)) throw err;
      modelErrors[name] = (err as Error).message;
    }
  }
  const waiting = backlog ?? [];
  backlog = undefined;
  post({
    type: 'ready',
    workerId: init.workerId,
    backend: choice.backend,
    backendReason: choice.reason,
    models,
    ...(Object.keys(modelErrors).length ? { modelErrors } : {}),
  });
  for (const msg of waiting) handle(msg);
}

function handle(msg: PoolToWorker): void {
  switch (msg.type) {
    case 'infer': {
      const started = performance.now();
      try {
        const model = served.get(msg.model);
        if (!model) throw new Error(`model ${msg.model} is not loaded in this worker`);
        if (model.runPacked) {
          const packed = model.runPacked(msg.inputs);
          port.postMessage({ type: 'result', batchId: msg.batchId, outputs: [], packed, inferMs: performance.now() - started } satisfies WorkerToPool, transferables(packed));
          return;
        }
        const outputs = model.run(msg.inputs) as ModelIO[ModelName]['output'][];
        post({ type: 'result', batchId: msg.batchId, outputs, inferMs: performance.now() - started });
      } catch (err) {
        post({ type: 'failed', batchId: msg.batchId, message: (err as Error).message });
      }
      return;
    }
    case 'load': {
      const started = performance.now();
      try {
        const loaded = loaders[msg.model](msg.dir);
        staged.set(msg.loadId, { model: msg.model, loaded });
        const { version, numItems } = loaded;
        post({ type: 'loaded', loadId: msg.loadId, model: msg.model, version, numItems, loadMs: performance.now() - started });
      } catch (err) {
        post({ type: 'load-failed', loadId: msg.loadId, model: msg.model, message: (err as Error).message });
      }
      return;
    }
    case 'activate': {
      const next = staged.get(msg.loadId);
      if (!next) return;
      staged.delete(msg.loadId);
      // Batches run synchronously, so no batch is using the previous model at this point.
      served.get(next.model)?.dispose();
      served.set(next.model, next.loaded);
      return;
    }
    case 'discard':
      staged.get(msg.loadId)?.loaded.dispose();
      staged.delete(msg.loadId);
      return;
    case 'shutdown':
      for (const model of [...served.values(), ...[...staged.values()].map((s) => s.loaded)]) model.dispose();
      port.close();
      return;
  }
}

port.on('message', (msg: PoolToWorker) => (backlog ? backlog.push(msg) : handle(msg)));

start().catch((err: Error) => {
  post({ type: 'init-failed', workerId: init.workerId, message: err.message });
});

/**
 * Worker-thread entry point: selects a backend, loads the models named in `workerData`, then
 * answers `infer` messages one batch at a time. Messages are described in PROTOCOL.md.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend } from './backends';
import { loadWeights } from './moderation/weights';
import { ModerationModel } from './moderation/model';
import type { ModelIO, ModelName, PoolToWorker, WorkerInit, WorkerToPool } from './protocol';

type Runner = (inputs: unknown[]) => unknown[];

const init = workerData as WorkerInit;
const port = parentPort!;
const runners = new Map<ModelName, Runner>();
const disposers: Array<() => void> = [];

function post(msg: WorkerToPool): void {
  port.postMessage(msg);
}

/** One loader per model name; a recommender would add its own here. */
const loaders: { [M in ModelName]: (dir: string) => { version: string; run: (inputs: ModelIO[M]['input'][]) => ModelIO[M]['output'][] } } = {
  moderation: (dir) => {
    const model = new ModerationModel(loadWeights(dir));
    disposers.push(() => model.dispose());
    // The first call compiles kernels and grows buffers; pay for it before reporting ready.
    model.run(['warm-up text for the moderation model']);
    return { version: model.modelVersion, run: (texts) => model.run(texts) };
  },
};

async function start(): Promise<void> {
  const choice = await selectBackend(init.backend);
  const models: Partial<Record<ModelName, string>> = {};
  for (const [name, dir] of Object.entries(init.modelDirs) as Array<[ModelName, string]>) {
    const loaded = loaders[name](dir);
    runners.set(name, loaded.run as Runner);
    models[name] = loaded.version;
  }
  post({ type: 'ready', workerId: init.workerId, backend: choice.backend, backendReason: choice.reason, models });
}

port.on('message', (msg: PoolToWorker) => {
  switch (msg.type) {
    case 'infer': {
      const started = performance.now();
      try {
        const run = runners.get(msg.model);
        if (!run) throw new Error(`model ${msg.model} is not loaded in this worker`);
        const outputs = run(msg.inputs) as ModelIO[ModelName]['output'][];
        post({ type: 'result', batchId: msg.batchId, outputs, inferMs: performance.now() - started });
      } catch (err) {
        post({ type: 'failed', batchId: msg.batchId, message: (err as Error).message });
      }
      break;
    }
    case 'shutdown':
      for (const dispose of disposers) dispose();
      port.close();
      break;
  }
});

start().catch((err: Error) => {
  post({ type: 'init-failed', workerId: init.workerId, message: err.message });
});

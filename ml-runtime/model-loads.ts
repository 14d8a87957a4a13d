/**
 * Run-time (re)loading of a model in every worker, in two phases so that serving never pauses
 * and never mixes models within a batch: each worker loads the new model beside the one it
 * serves (`load` → `loaded`), and only once all have it does the pool switch every worker over at
 * the same instant (`activate`, posted to all workers in one turn of the event loop; a batch sent
 * after it is served by the new model everywhere, one sent before by the old).
 */
import { ModelLoadFailedError } from './errors';
import type { ModelName, PoolToWorker } from './protocol';

/** What the load coordinator needs of a worker slot. */
export interface LoadTarget {
  worker: { postMessage(msg: PoolToWorker): void };
}

export interface Loaded {
  version: string;
  numItems: number;
}

interface PendingLoad<S extends LoadTarget> {
  id: number;
  model: ModelName;
  dir: string;
  /** Slots that have not answered yet. */
  waiting: Set<S>;
  version?: string;
  numItems?: number;
  resolve(loaded: Loaded): void;
  reject(err: Error): void;
}

export class ModelLoads<S extends LoadTarget> {
  private pending?: PendingLoad<S>;
  private nextId = 1;
  /** Loads run one after another: a second `loadRecommender` replaces what the first installed. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    /** Called once every worker holds the model, before `activate` is posted. */
    private readonly onAllLoaded: (model: ModelName, dir: string, loaded: Loaded) => void,
  ) {}

  /** Loads `dir` into every slot (the slots current when this load's turn comes) and activates it. */
  load(model: ModelName, dir: string, slots: () => S[], check: () => Error | undefined): Promise<Loaded> {
    const run = () =>
      new Promise<Loaded>((resolve, reject) => {
        const refused = check();
        if (refused) return reject(refused);
        const targets = slots();
        this.pending = { id: this.nextId++, model, dir, waiting: new Set(targets), resolve, reject };
        for (const slot of targets) this.postLoad(slot);
      });
    const result = this.chain.then(run, run);
    this.chain = result.catch(() => undefined);
    return result;
  }

  onLoaded(slot: S, loadId: number, version: string, numItems: number | undefined, all: S[]): void {
    const p = this.pending;
    if (!p || p.id !== loadId || !p.waiting.delete(slot)) return;
    if (p.version !== undefined && p.version !== version) {
      // Two workers read different files from one directory: it was rewritten during the load.
      return this.fail(new ModelLoadFailedError(`${p.dir} changed while loading (${p.version} vs ${version})`), all);
    }
    p.version = version;
    p.numItems = numItems ?? 0;
    if (p.waiting.size > 0) return;
    this.pending = undefined;
    const loaded = { version, numItems: p.numItems };
    this.onAllLoaded(p.model, p.dir, loaded);
    for (const s of all) s.worker.postMessage({ type: 'activate', loadId: p.id, model: p.model });
    p.resolve(loaded);
  }

  onLoadFailed(loadId: number, message: string, all: S[]): void {
    if (this.pending?.id === loadId) this.fail(new ModelLoadFailedError(`${this.pending.dir}: ${message}`), all);
  }

  /** A worker died: its replacement must hold the pending model too before it is activated. */
  onReplaced(dead: S, replacement: S): void {
    const p = this.pending;
    if (!p) return;
    p.waiting.delete(dead);
    p.waiting.add(replacement);
    this.postLoad(replacement);
  }

  /** The pool stops: the pending load (if any) fails with `err`; queued ones fail on `check`. */
  abort(err: Error): void {
    const p = this.pending;
    this.pending = undefined;
    p?.reject(err);
  }

  private fail(err: Error, all: S[]): void {
    const p = this.pending!;
    this.pending = undefined;
    for (const s of all) s.worker.postMessage({ type: 'discard', loadId: p.id, model: p.model });
    p.reject(err);
  }

  private postLoad(slot: S): void {
    const p = this.pending!;
    slot.worker.postMessage({ type: 'load', loadId: p.id, model: p.model, dir: p.dir });
  }
}

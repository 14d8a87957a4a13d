import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { InferenceClient } from '../../../ml-runtime';
import type { Logger } from '../../shared/logger';

/**
 * The trained collaborative model the pool serves, and the map between its item indices and post
 * ids. `npm run train:recommender` writes a model directory and then points `current.json` at it;
 * servers notice and load it into the pool, so training never restarts a server.
 */
export interface CurrentModel {
  dir: string;
  trainedAt: string;
}

export function currentModelFile(root: string): string {
  return path.join(root, 'current.json');
}

export class RecommenderStore {
  private loaded: { dir: string; version: string; postIds: number[]; indexOf: Map<number, number> } | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly root: string,
    private readonly inference: InferenceClient,
    private readonly log: Logger,
  ) {}

  get version(): string | null {
    return this.loaded?.version ?? null;
  }

  start(reloadMs: number): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), reloadMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Loads the model `current.json` names, when it is not the one already loaded. */
  async refresh(): Promise<void> {
    const file = currentModelFile(this.root);
    if (!existsSync(file)) return;
    try {
      const current = JSON.parse(readFileSync(file, 'utf8')) as CurrentModel;
      if (current.dir === this.loaded?.dir) return;
      const { version } = await this.inference.loadRecommender(current.dir);
      const postIds = JSON.parse(readFileSync(path.join(current.dir, 'post-ids.json'), 'utf8')) as number[];
      this.loaded = { dir: current.dir, version, postIds, indexOf: new Map(postIds.map((id, i) => [id, i])) };
      this.log.info({ dir: current.dir, version, items: postIds.length }, 'recommender loaded');
    } catch (err) {
      this.log.warn({ err }, 'recommender model could not be loaded; feeds rank without it');
    }
  }

  /**
   * Collaborative scores for a member from their items (post ids), folded in at request time, so a
   * bookmark made a second ago already counts. Posts newer than the model get none: the content
   * sources rank those.
   */
  async recommend(userPostIds: number[], k: number): Promise<Array<{ postId: number; score: number }>> {
    const model = this.loaded;
    if (!model) return [];
    const items = userPostIds.flatMap((id) => model.indexOf.get(id) ?? []);
    if (!items.length) return [];
    const [result] = await this.inference.recommend([{ items, k }], { deadlineMs: 1_000 });
    // A newer model may have answered (it took over while the call was queued): its indices mean
    // other posts, so the answer is dropped rather than mapped through the wrong table.
    if (result.modelVersion !== model.version) return [];
    return result.items.map((i, n) => ({ postId: model.postIds[i], score: result.scores[n] }));
  }
}

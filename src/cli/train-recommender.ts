import 'reflect-metadata';
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { selectBackend } from '../../ml-runtime/backends';
import { Recommender } from '../../ml-runtime/recommender/recommender';
import { currentModelFile } from '../modules/feed/recommender-store';
import { loadInteractionGraph } from '../modules/feed/interactions';
import { openCliContext, runCli } from './cli-context';

/** How many trained models to keep beside the current one (a server may still be loading the previous). */
const KEEP = 2;

/**
 * Trains the collaborative recommender from the database (DATABASE_URL or the embedded one) and
 * points the servers at it; they load it into their inference pools within their reload interval.
 */
async function main(): Promise<number> {
  const app = await openCliContext();
  try {
    const started = Date.now();
    const graph = await loadInteractionGraph(app.db.manager);
    if (!graph.postIds.length) {
      console.error('No interactions yet: nothing to train on.');
      return 1;
    }
    // The same backend choice as the pool's workers (ML_BACKEND forces one), said out loud.
    const backend = await selectBackend(app.config.inference.pool.backend);
    process.stderr.write(`backend: ${backend.backend} (${backend.reason})\n`);
    const model = await Recommender.train(graph.lists, { log: (line) => process.stderr.write(line + '\n') });
    const root = app.config.recommender.dir;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const dir = path.join(root, 'models', stamp);
    mkdirSync(dir, { recursive: true });
    model.save(dir);
    writeFileSync(path.join(dir, 'post-ids.json'), JSON.stringify(graph.postIds));
    const tmp = currentModelFile(root) + '.tmp';
    writeFileSync(tmp, JSON.stringify({ dir, trainedAt: new Date().toISOString() }) + '\n');
    renameSync(tmp, currentModelFile(root)); // atomic: a server never reads half a pointer
    const models = readdirSync(path.join(root, 'models')).sort();
    for (const old of models.slice(0, Math.max(0, models.length - KEEP - 1))) rmSync(path.join(root, 'models', old), { recursive: true, force: true });
    model.dispose();
    console.log(JSON.stringify({
      ok: true, users: graph.lists.length, items: graph.postIds.length, interactions: graph.edges,
      rank: model.rank, backend: backend.backend, trainSeconds: Number(model.trainSeconds.toFixed(2)), totalSeconds: (Date.now() - started) / 1000, dir,
    }));
    return 0;
  } finally {
    await app.dispose();
  }
}

runCli(main);

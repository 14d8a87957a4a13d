/**
 * The content feed source on real text: `npm run bench:content [-- --posts N --bookmarks N
 * --rounds N]`. Loads N held-out Stack Overflow titles as published
 * posts (read by path from ../shared/datasets, never copied), embeds them through the inference
 * pool (the real worker, one thread), gives a member bookmarks, then times the source's steady
 * state (window and vectors cached, as between publications) and related posts. Prints one JSON line.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config';
import { createAppContext, type AppContext } from '../src/context/app-context';
import { invalidateRecentWindow, postEmbeddings, relatedByContent, similarContent } from '../src/modules/feed/content-candidates';
import { memberState } from '../src/modules/feed/member-state';
import { createLogger } from '../src/shared/logger';
import { loadTaggedTitles } from '../ml-runtime/encoder/data';
import { defaultDataRoot } from '../ml-runtime/paths';
import { freshDatabase } from './support/fresh-database';

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const r2 = (x: number) => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { posts: { type: 'string', default: '1000' }, bookmarks: { type: 'string', default: '60' }, rounds: { type: 'string', default: '300' } } });
  const [posts, bookmarks, rounds] = [values.posts, values.bookmarks, values.rounds].map(Number);
  const db = await freshDatabase();
  let app: AppContext | undefined;
  try {
    const config = loadConfig({ ...db.env, NODE_ENV: 'test', TOKEN_SECRET: randomBytes(32).toString('hex'), SEED_DEMO: 'false', LOG_LEVEL: 'warn', ML_WORKERS: '1', MODERATION_DISPATCHER: 'false' });
    app = await createAppContext(config, createLogger(config.logLevel));
    const titles = loadTaggedTitles(defaultDataRoot(), 20241122).test.slice(0, posts);
    await app.db.query(`INSERT INTO users (handle, display_name, role) VALUES ('author', 'Author', 'MEMBER'), ('reader', 'Reader', 'MEMBER')`);
    await app.db.query(
      `INSERT INTO posts (kind, author_id, title, body, status, created_at, first_published_at)
       SELECT 'QUESTION', 1, t, '', 'PUBLISHED', now() - g * interval '1 minute', now() - g * interval '1 minute'
         FROM unnest($1::text[]) WITH ORDINALITY AS x(t, g)`,
      [titles.map((t) => t.text)],
    );
    // The reader bookmarked python questions: a profile with one clear interest.
    const python = titles.map((t, i) => (t.tags.includes('python') ? i + 1 : 0)).filter(Boolean).slice(0, bookmarks);
    await app.db.query(`INSERT INTO bookmarks (user_id, post_id) SELECT 2, unnest($1::int[])`, [python]);
    // Inserted by SQL, not published through the API: the window cached at start-up is stale.
    invalidateRecentWindow(app.db);
    await app.inference!.ready();
    const emb = postEmbeddings(app.db.manager)!;
    const ids: Array<{ id: number }> = await app.db.query(`SELECT id FROM posts ORDER BY id`);
    let t = performance.now();
    await emb.warm(app.db.manager, ids.map((r) => r.id));
    const embedMs = performance.now() - t;
    const stored = (await app.db.query(`SELECT count(*)::int AS n FROM post_embeddings`))[0].n as number;

    const state = await memberState(app.db.manager, 2);
    const times: number[] = [];
    let found: Awaited<ReturnType<typeof similarContent>> = [];
    for (let i = 0; i < rounds; i++) {
      t = performance.now();
      found = await similarContent(app.db.manager, state);
      times.push(performance.now() - t);
    }
    const relatedTimes: number[] = [];
    for (let i = 0; i < rounds; i++) {
      t = performance.now();
      await relatedByContent(app.db.manager, python[i % python.length], 10);
      relatedTimes.push(performance.now() - t);
    }
    const byId = new Map(titles.map((x, i) => [i + 1, x]));
    const top20 = found.slice(0, 20).map((c) => byId.get(c.postId)!);
    console.log(JSON.stringify({
      bench: 'content-source', posts, bookmarks: python.length, backend: app.inference!.backend(),
      embed: { posts: stored, ms: Math.round(embedMs), msPerPost: r2(embedMs / stored) },
      similarContent: { candidates: found.length, p50Ms: r2(pct(times, 50)), p99Ms: r2(pct(times, 99)), top20TaggedPython: top20.filter((x) => x.tags.includes('python')).length },
      slowestMs: [...times].sort((a, b) => b - a).slice(0, 5).map(r2),
      relatedByContent: { p50Ms: r2(pct(relatedTimes, 50)), p99Ms: r2(pct(relatedTimes, 99)) },
      pythonShareOfWindow: r2(titles.filter((x) => x.tags.includes('python')).length / titles.length),
    }));
  } finally {
    await app?.dispose();
    await db.cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { DemoPoster } from '../../src/modules/demo/demo-poster';
import { startModeratedServer, waitFor, type TestServer } from '../support/harness';

/** A seeded generator (mulberry32), so the mix of demo actions is the same on every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('demo mode configuration', () => {
  const base = { DATA_DIR: mkdtempSync(path.join(tmpdir(), 'colloquy-demo-config-')), TOKEN_SECRET: 'x'.repeat(32) };

  it('is on by default only for the embedded database outside production', () => {
    expect(loadConfig(base).demo.enabled).toBe(true);
    expect(loadConfig({ ...base, DATABASE_URL: 'postgres://db/colloquy' }).demo.enabled).toBe(false);
    expect(loadConfig({ ...base, NODE_ENV: 'production' }).demo.enabled).toBe(false);
    expect(loadConfig({ ...base, NODE_ENV: 'test' }).demo.enabled).toBe(false);
  });

  it('follows DEMO_MODE when it is set', () => {
    expect(loadConfig({ ...base, DEMO_MODE: 'false' }).demo.enabled).toBe(false);
    expect(loadConfig({ ...base, DATABASE_URL: 'postgres://db/colloquy', DEMO_MODE: 'true' }).demo.enabled).toBe(true);
    expect(loadConfig({ ...base, DEMO_INTERVAL_MS: '250' }).demo.intervalMs).toBe(250);
  });
});

describe('the demo poster', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startModeratedServer();
  });
  afterAll(() => t.close());

  it('posts ordinary content, spam and rudeness as demo accounts, all through automatic moderation', async () => {
    const poster = new DemoPoster(t.app, 60_000, seeded(7));
    await poster.start();
    for (let i = 0; i < 40; i++) await poster.step();
    await poster.stop();

    await waitFor(async () => (await t.app.db.query(`SELECT count(*)::int AS n FROM posts WHERE status = 'PENDING'`))[0].n === 0, 20_000, 'every demo post to be decided');
    const byAuthor: Array<{ handle: string; n: number }> = await t.app.db.query(
      `SELECT u.handle, count(*)::int AS n FROM posts p JOIN users u ON u.id = p.author_id GROUP BY u.handle`,
    );
    const handles = byAuthor.map((r) => r.handle).sort();
    expect(handles).toEqual(expect.arrayContaining(['best-deals-4u', 'grumpy_coder']));
    expect(handles.some((h) => ['sam-dev', 'priya', 'omar.k'].includes(h))).toBe(true);

    const actions: Array<{ type: string; action: string }> = await t.app.db.query(`SELECT DISTINCT type, action FROM moderation_events`);
    const automated = actions.filter((a) => a.type === 'AUTOMATED').map((a) => a.action);
    expect(automated).toContain('ALLOW');
    expect(automated.some((a) => a === 'HOLD' || a === 'HIDE')).toBe(true);
    const [{ n }] = await t.app.db.query(`SELECT count(*)::int AS n FROM posts p LEFT JOIN moderation_events e ON e.subject_id = p.id AND e.type = 'AUTOMATED' WHERE e.id IS NULL`);
    expect(n).toBe(0);
  }, 60_000);
});

import { existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import { createPost, signUp, startModeratedServer, waitFor, type TestServer } from '../support/harness';

/** Debian's package; nothing here downloads a browser. `.ci/run` installs it where it is missing. */
const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const OUTPUT = path.resolve(__dirname, '../../test-output');

/** Held by the model for review (toxicity about 0.8: above the review band, below hiding). */
const RUDE = 'Shut up. Nobody asked for your garbage opinion.';

let t: TestServer;
let author: Awaited<ReturnType<typeof signUp>>;
let mod: Awaited<ReturnType<typeof signUp>>;
let base: string;

beforeAll(async () => {
  t = await startModeratedServer();
  author = await signUp(t, 'author');
  mod = await signUp(t, 'mod', 'MODERATOR');
  base = t.url.replace(/\/graphql$/, '');
});
afterAll(() => t.close());

const statusOf = async (id: string) =>
  (await t.gql(`query($id: ID!) { post(id: $id) { status } }`, { id }, mod.token)).data?.post?.status as string | undefined;
const settled = (id: string) => waitFor(async () => ((await statusOf(id)) !== 'PENDING' ? statusOf(id) : undefined), 15_000, 'a verdict');

/**
 * A TCP proxy in front of the server that can cut every connection through it and refuse new
 * ones for a while: a dropped network, as the browser sees it.
 */
async function startProxy(targetPort: number) {
  const sockets = new Set<net.Socket>();
  let refusing = false;
  const server = net.createServer((client) => {
    if (refusing) return void client.destroy();
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined).on('close', () => {
        sockets.delete(client);
        sockets.delete(upstream);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut(refuse: boolean) {
      refusing = refuse;
      for (const s of sockets) s.destroy();
    },
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

describe('the console route', () => {
  it('serves the page and its assets with their content types and a policy that allows only this server', async () => {
    const page = await fetch(`${base}/console`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain(`connect-src 'self' ws://${new URL(base).host} wss://${new URL(base).host}`);
    expect(csp).not.toMatch(/https?:\/\/|unsafe-inline|unsafe-eval/);
    const html = await page.text();
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//); // no CDN: every asset comes from this server
    for (const [asset, type] of [['console.js', 'text/javascript; charset=utf-8'], ['console.css', 'text/css; charset=utf-8']]) {
      const res = await fetch(`${base}/console/${asset}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('answers 404 for unknown assets and for paths that try to leave the bundle', async () => {
    for (const p of ['/console/missing.js', '/console/..%2Fpackage.json', '/console/sub/console.js', '/console/console.ts']) {
      expect((await fetch(`${base}${p}`)).status).toBe(404);
    }
    expect((await fetch(`${base}/console`, { method: 'POST' })).status).toBe(405);
  });
});

if (!HAVE_CHROMIUM) {
  console.warn(`console-browser: ${CHROMIUM} is absent, so the moderation console's browser tests are skipped. Install Debian's chromium package (apt-get install chromium; .ci/run does it) to run them.`);
}

(HAVE_CHROMIUM ? describe : describe.skip)('the moderation console in headless Chromium', () => {
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    // Script errors and policy violations (a blocked request logs a console error) fail the suite.
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
    });
    page.on('request', (req) => {
      if (!req.url().startsWith(base) && !req.url().startsWith('data:')) problems.push(`request outside the server: ${req.url()}`);
    });
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('turns members away and logs in a moderator through the form, with every control labelled', async () => {
    await page.goto(`${base}/console`);
    await page.getByLabel('Handle or e-mail').fill('author');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'not a moderator' }).waitFor();
    await page.getByLabel('Handle or e-mail').fill('mod');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 15_000 });
    await expect(page.locator('#who').textContent()).resolves.toContain('@mod');
    const controls = page.locator('input:visible, select:visible');
    expect(await controls.count()).toBeGreaterThan(0);
    const unlabelled = await controls.evaluateAll((els) =>
      els.filter((el) => !(el as unknown as { labels: unknown[] }).labels.length && !el.getAttribute('aria-label')).map((el) => el.id),
    );
    expect(unlabelled).toEqual([]);
  }, 30_000);

  it('shows the verdict of a post created through the API as it arrives, with its scores and highlighted spans', async () => {
    const parent = await createPost(t, mod.token, { kind: 'DISCUSSION', title: 'Which editor do you use?', body: 'Tell us what you like about it.', tags: ['tools'] });
    expect(await settled(parent)).toBe('PUBLISHED');
    const id = await createPost(t, author.token, { kind: 'COMMENT', body: RUDE, parentId: parent });

    const verdict = page.locator(`#stream li[data-subject-id="${id}"][data-action="HOLD"]`);
    await verdict.waitFor({ timeout: 15_000 });
    await expect(verdict.locator('.badge').textContent()).resolves.toBe('Held');
    await expect(verdict.locator('[role="meter"]').count()).resolves.toBe(3);
    expect(await verdict.locator('mark').count()).toBeGreaterThan(0);
    expect(RUDE).toContain(await verdict.locator('mark').first().textContent());
    expect(await statusOf(id)).toBe('PENDING_REVIEW');
  }, 30_000);

  it('hides a held post from the review queue with the keyboard and records it for the API', async () => {
    const item = page.locator('#queue-list li[data-subject-id]').first();
    await item.waitFor({ timeout: 10_000 });
    const id = (await item.getAttribute('data-subject-id'))!;
    expect(await statusOf(id)).toBe('PENDING_REVIEW');

    await page.locator('#queue-list').focus();
    await page.keyboard.press('?');
    await page.locator('#help[open]').getByText('Keyboard shortcuts').waitFor();
    await page.keyboard.press('Escape');
    await page.locator('#help:not([open])').waitFor({ state: 'attached' });
    await page.locator('#queue-list').focus();
    await page.keyboard.press('j');
    await expect(page.locator('#queue-list [aria-selected="true"]').getAttribute('data-subject-id')).resolves.toBe(id);
    await page.locator('#detail .history li').first().waitFor();
    await page.keyboard.press('h');
    const reason = page.getByLabel('Reason');
    await expect(page.evaluate('document.activeElement.id')).resolves.toBe('reason');
    await reason.fill('Rude reply to a newcomer');
    await page.keyboard.press('Enter');

    await page.locator('#detail .detail-meta .status-hidden').waitFor({ timeout: 10_000 });
    await page.locator(`#stream li[data-subject-id="${id}"][data-action="HIDE"] .who`).filter({ hasText: '@mod' }).waitFor({ timeout: 10_000 });
    await page.locator('#detail .history li', { hasText: 'Rude reply to a newcomer' }).waitFor({ timeout: 10_000 });
    expect(await page.locator(`#queue-list li[data-subject-id="${id}"]`).count()).toBe(0);

    expect(await statusOf(id)).toBe('HIDDEN');
    const history = await t.gql(`query($id: ID!) { moderationHistory(subjectId: $id) { type action reason newStatus actor { handle } } }`, { id }, mod.token);
    expect(history.data.moderationHistory.at(-1)).toEqual({ type: 'HUMAN', action: 'HIDE', reason: 'Rude reply to a newcomer', newStatus: 'HIDDEN', actor: { handle: 'mod' } });
  }, 30_000);

  it('catches up after a pause without missing or repeating a verdict', async () => {
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('#connection[data-state="paused"]').waitFor();
    const id = await createPost(t, author.token, { kind: 'QUESTION', title: 'How do I read a file line by line in Rust?', body: 'Is BufReader the usual way?', tags: ['rust'] });
    expect(await settled(id)).toBe('PUBLISHED');
    await new Promise((r) => setTimeout(r, 300));
    expect(await page.locator(`#stream li[data-subject-id="${id}"]`).count()).toBe(0);

    await page.getByRole('button', { name: 'Resume' }).click();
    await page.locator(`#stream li[data-subject-id="${id}"][data-action="ALLOW"]`).waitFor({ timeout: 10_000 });
    await page.locator('#connection[data-state="live"]').waitFor();
    const sequences = await page.locator('#stream li').evaluateAll((els) => els.map((el) => el.getAttribute('data-sequence')));
    expect(new Set(sequences).size).toBe(sequences.length);
    const [{ count }] = await t.app.db.query(`SELECT count(*)::int AS count FROM moderation_events`);
    expect(sequences).toHaveLength(count);

  }, 30_000);

  it('reconnects after the network drops and replays what it missed, once each', async () => {
    const proxy = await startProxy(t.server.port);
    const context = await browser.newContext();
    try {
      const other = await context.newPage();
      await other.goto(`http://127.0.0.1:${proxy.port}/console`);
      await other.getByLabel('Handle or e-mail').fill('mod');
      await other.getByLabel('Password').fill('correct horse battery');
      await other.getByRole('button', { name: 'Sign in' }).click();
      await other.locator('#connection[data-state="live"]').waitFor({ timeout: 15_000 });
      // The cursor is the last sequence received, so the page needs one verdict before the cut.
      const before = await createPost(t, author.token, { kind: 'QUESTION', title: 'How do probes restart a pod?', body: 'Which probe restarts it?', tags: ['kubernetes'] });
      await other.locator(`#stream li[data-subject-id="${before}"]`).waitFor({ timeout: 15_000 });

      proxy.cut(true);
      await other.locator('#connection[data-state="reconnecting"]').waitFor({ timeout: 10_000 });
      const id = await createPost(t, author.token, { kind: 'QUESTION', title: 'What does a readiness probe check?', body: 'And how is it different from liveness?', tags: ['kubernetes'] });
      expect(await settled(id)).toBe('PUBLISHED');
      proxy.cut(false);

      await other.locator(`#stream li[data-subject-id="${id}"][data-action="ALLOW"]`).waitFor({ timeout: 20_000 });
      await other.locator('#connection[data-state="live"]').waitFor();
      const sequences = await other.locator('#stream li').evaluateAll((els) => els.map((el) => el.getAttribute('data-sequence')));
      expect(new Set(sequences).size).toBe(sequences.length);
    } finally {
      await context.close();
      await proxy.close();
    }
  }, 45_000);

  it('leaves a screenshot of the console with a held post selected in test-output/console.png', async () => {
    const question = await t.gql(`query { posts(first: 1, filter: { kind: QUESTION }) { nodes { id } } }`);
    expect(question.data.posts.nodes).toHaveLength(1);
    const id = await createPost(t, author.token, { kind: 'ANSWER', body: 'What a stupid answer. You clearly have no clue what you are talking about, loser.', parentId: question.data.posts.nodes[0].id });
    await page.locator(`#queue-list li[data-subject-id="${id}"]`).waitFor({ timeout: 15_000 });
    await page.locator('#queue-list').focus();
    await page.keyboard.press('j');
    await page.locator('#detail .history li').first().waitFor();
    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: path.join(OUTPUT, 'console.png') });
    expect(problems).toEqual([]);
  }, 30_000);
});

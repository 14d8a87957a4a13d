import { ApiError, type FeedState, VerdictFeed, gql } from './api';
import { VerdictChart } from './chart';
import { byId } from './dom';
import { ACTIONS, ReviewQueue } from './queue';
import { VerdictList } from './stream';
import type { Bands, Label, Viewer } from './types';

const LOG_IN = `mutation LogIn($input: LogInInput!) { logIn(input: $input) { token user { handle role } } }`;
const VIEWER = `query Viewer { viewer { handle role } }`;
const POLICY = `query Policy { moderationPolicy { label review hide } }`;

interface Session {
  token: string;
  viewer: Viewer;
}

let feed: VerdictFeed | null = null;
let readyTimer: number | undefined;
const policy = new Map<Label, Bands>();

const announce = (message: string) => {
  const el = byId('announcer');
  el.textContent = '';
  // A new text node after a tick is announced even when the message repeats.
  setTimeout(() => (el.textContent = message), 50);
};

function showLogin(message = ''): void {
  byId('app-view').hidden = true;
  byId('session').hidden = true;
  byId('login-view').hidden = false;
  byId('login-error').textContent = message;
  byId<HTMLInputElement>('handle').focus();
}

async function logIn(handle: string, password: string): Promise<void> {
  const data = await gql<{ logIn: Session & { user: Viewer } }>(LOG_IN, { input: { handle, password } });
  if (data.logIn.user.role === 'MEMBER') throw new ApiError('This account is not a moderator; use a moderator or admin account', 'FORBIDDEN');
  sessionStorage.setItem('colloquy.token', data.logIn.token);
  await start({ token: data.logIn.token, viewer: data.logIn.user });
}

async function logOut(message = ''): Promise<void> {
  sessionStorage.removeItem('colloquy.token');
  sessionStorage.removeItem('colloquy.cursor');
  clearInterval(readyTimer);
  await feed?.stop();
  feed = null;
  // Drop every piece of the previous session's state.
  location.hash = message ? 'signed-out' : '';
  location.reload();
}

const STATE_TEXT: Record<FeedState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  paused: 'Paused',
  stopped: 'Stopped',
};

async function pollReadiness(): Promise<void> {
  const el = byId('model-status');
  try {
    const res = await fetch('/readyz');
    const r = (await res.json()) as { status: string; inference: 'disabled' | { ready: boolean; backend: string | null; workers: number; queueLength?: number; error?: string } };
    if (r.inference === 'disabled') el.textContent = 'Model off: content is published unscored';
    else {
      const inf = r.inference;
      el.textContent = inf.error
        ? `Model failed: ${inf.error}`
        : `Model ${inf.ready ? 'ready' : 'starting'} · backend ${inf.backend ?? '…'} · ${inf.workers} worker${inf.workers === 1 ? '' : 's'} · queue ${inf.queueLength ?? 0}`;
    }
    el.dataset.state = res.ok ? 'ok' : 'down';
  } catch {
    el.textContent = 'Server unreachable';
    el.dataset.state = 'down';
  }
}

async function start(s: Session): Promise<void> {
  byId('login-view').hidden = true;
  byId('app-view').hidden = false;
  byId('session').hidden = false;
  byId('who').textContent = `@${s.viewer.handle} (${s.viewer.role.toLowerCase()})`;

  const bands = await gql<{ moderationPolicy: Bands[] }>(POLICY, {}, s.token);
  for (const b of bands.moderationPolicy) policy.set(b.label, b);

  const queue = new ReviewQueue(
    { list: byId<HTMLUListElement>('queue-list'), count: byId('queue-count'), detail: byId('detail'), announce },
    () => s.token,
    () => policy,
  );
  const list = new VerdictList(byId<HTMLOListElement>('stream'), byId('stream-count'), () => policy, (id) => void queue.open(id).catch((e: Error) => announce(e.message)));
  const chart = new VerdictChart(byId('chart'), byId('chart-legend'));

  feed = new VerdictFeed(s.token, {
    event(e) {
      if (!list.add(e)) return;
      chart.add(e);
      if (e.action !== 'ALLOW') queue.reloadSoon();
    },
    state(state, detail) {
      const el = byId('connection');
      // Back after a drop: the replay covers the stream, but before the first verdict there is no
      // cursor to resume from, so the queue is read again to be current either way.
      if (state === 'live' && el.dataset.state === 'reconnecting') queue.reloadSoon();
      el.textContent = STATE_TEXT[state] + (detail ? ` (${detail})` : '');
      el.dataset.state = state;
      const pause = byId<HTMLButtonElement>('pause');
      pause.setAttribute('aria-pressed', String(state === 'paused'));
      pause.textContent = state === 'paused' ? 'Resume' : 'Pause';
    },
    denied: (message) => void logOut(message),
  });
  feed.start();

  const filters = () => ({ label: byId<HTMLSelectElement>('filter-label').value as Label | '', action: byId<HTMLSelectElement>('filter-action').value });
  byId('filter-label').addEventListener('change', () => list.setFilters(filters()));
  byId('filter-action').addEventListener('change', () => list.setFilters(filters()));
  const togglePause = () => feed?.setPaused(byId('pause').getAttribute('aria-pressed') !== 'true');
  byId('pause').addEventListener('click', togglePause);
  byId('refresh').addEventListener('click', () => void queue.reload().then(() => announce('Queue refreshed')));

  document.addEventListener('keydown', (ev) => {
    const target = ev.target as HTMLElement;
    if (ev.ctrlKey || ev.metaKey || ev.altKey || target.closest('input, select, textarea, dialog')) return;
    const action = ACTIONS.find((a) => a.key && a.key === ev.key);
    if (ev.key === 'j' || (ev.key === 'ArrowDown' && target.id === 'queue-list')) queue.move(1);
    else if (ev.key === 'k' || (ev.key === 'ArrowUp' && target.id === 'queue-list')) queue.move(-1);
    else if (action) queue.arm(action.action);
    else if (ev.key === 'p') togglePause();
    else if (ev.key === '?') byId<HTMLDialogElement>('help').showModal();
    else if (ev.key === 'Escape') queue.disarm();
    else return;
    ev.preventDefault();
  });

  await queue.reload();
  void pollReadiness();
  readyTimer = window.setInterval(() => void pollReadiness(), 5_000);
  byId('queue-list').focus();
}

function boot(): void {
  byId('login-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const button = byId<HTMLButtonElement>('login-submit');
    button.disabled = true;
    byId('login-error').textContent = '';
    logIn(byId<HTMLInputElement>('handle').value, byId<HTMLInputElement>('password').value)
      .catch((err: Error) => showLogin(err.message))
      .finally(() => (button.disabled = false));
  });
  byId('logout').addEventListener('click', () => void logOut());
  byId('help-open').addEventListener('click', () => byId<HTMLDialogElement>('help').showModal());
  byId('help-close').addEventListener('click', () => byId<HTMLDialogElement>('help').close());
  void pollReadiness();

  const token = sessionStorage.getItem('colloquy.token');
  if (!token) return showLogin(location.hash === '#signed-out' ? 'Your session ended; sign in again.' : '');
  gql<{ viewer: Viewer | null }>(VIEWER, {}, token)
    .then((d) => (d.viewer && d.viewer.role !== 'MEMBER' ? start({ token, viewer: d.viewer }) : showLogin()))
    .catch(() => showLogin('Your session ended; sign in again.'));
}

boot();

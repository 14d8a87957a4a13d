import { randomBytes } from 'node:crypto';
import type { AppContext } from '../../context/app-context';
import { services, type Services } from '../../context/services';
import { DomainError } from '../../shared/errors';
import { inTransaction } from '../../shared/db/unit-of-work';
import type { Viewer } from '../users/user.service';
import { type DemoText, type Random, ordinaryQuestion, ordinaryReply, pick, rude, spam } from './demo-content';

type Persona = 'regular' | 'spammer' | 'rude';

const ACCOUNTS: Array<{ handle: string; displayName: string; persona: Persona }> = [
  { handle: 'sam-dev', displayName: 'Sam Okafor', persona: 'regular' },
  { handle: 'priya', displayName: 'Priya N.', persona: 'regular' },
  { handle: 'omar.k', displayName: 'Omar K.', persona: 'regular' },
  { handle: 'best-deals-4u', displayName: 'Best Deals', persona: 'spammer' },
  { handle: 'grumpy_coder', displayName: 'grumpy', persona: 'rude' },
];

const REPORT_REASONS = { spammer: 'SPAM', rude: 'TOXIC' } as const;

/**
 * Demo mode: accounts that keep posting through the same services as the API (so every post goes
 * through automatic moderation), at a gentle, jittered rate, and members who report what slipped
 * through, so the review queue and the verdict stream are alive when the console first opens.
 */
export class DemoPoster {
  private timer: NodeJS.Timeout | undefined;
  private startup: Promise<void> | undefined;
  private current: Promise<void> | undefined;
  private running = false;
  private stopped = false;
  private people = new Map<Persona, Viewer[]>();

  constructor(
    private readonly app: AppContext,
    private readonly intervalMs: number,
    private readonly random: Random = Math.random,
  ) {}

  async start(): Promise<void> {
    this.startup = this.ensureAccounts();
    await this.startup;
    if (this.stopped) return;
    this.running = true;
    this.schedule();
  }

  /** Safe at any time, even while start() is still creating the accounts. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.running = false;
    clearTimeout(this.timer);
    await this.startup?.catch(() => undefined);
    await this.current;
  }

  private schedule(): void {
    if (!this.running) return;
    const delay = this.intervalMs * (0.5 + this.random());
    this.timer = setTimeout(() => {
      this.current = this.step()
        .catch((err) => this.app.log.warn({ err }, 'demo step failed'))
        .finally(() => this.schedule());
    }, delay);
    this.timer.unref();
  }

  private withServices<T>(fn: (s: Services) => Promise<T>): Promise<T> {
    const opts = { automaticModeration: this.app.inference !== null, recommender: this.app.recommender };
    return inTransaction(this.app.db, (uow) => fn(services(uow, this.app.pubSub.pubSub, opts)), (err) => this.app.log.warn({ err }, 'demo after-commit hook failed'));
  }

  private async ensureAccounts(): Promise<void> {
    await this.withServices(async (s) => {
      for (const a of ACCOUNTS) {
        const user = await s.users.byHandle(a.handle).catch(async (err) => {
          if (!(err instanceof DomainError) || err.code !== 'NOT_FOUND') throw err;
          // Nobody logs in as a demo poster, so the password is random and never shown.
          return s.users.create({ handle: a.handle, displayName: a.displayName, password: randomBytes(24).toString('base64url') });
        });
        const list = this.people.get(a.persona) ?? [];
        list.push({ id: user.id, role: user.role, handle: user.handle });
        this.people.set(a.persona, list);
      }
    });
  }

  private someone(persona: Persona): Viewer {
    return pick(this.people.get(persona)!, this.random);
  }

  /** One demo action: mostly ordinary posts, then spam, rudeness, and reports of what got through. */
  async step(): Promise<void> {
    const r = this.random();
    if (r < 0.55) return this.post(this.someone('regular'), this.random() < 0.4 ? ordinaryQuestion(this.random) : ordinaryReply(this.random));
    if (r < 0.72) return this.post(this.someone('spammer'), spam(this.random));
    if (r < 0.88) return this.post(this.someone('rude'), rude(this.random));
    return this.report(this.random() < 0.5 ? 'spammer' : 'rude');
  }

  private async post(author: Viewer, text: DemoText): Promise<void> {
    await this.withServices(async (s) => {
      let parentId: number | null = null;
      if (text.kind === 'ANSWER' || text.kind === 'COMMENT') {
        const recent = await s.posts.list({ kind: 'QUESTION' }, 'NEW', { first: 20 }, author);
        if (!recent.nodes.length) return s.posts.create(ordinaryQuestion(this.random), author);
        parentId = pick(recent.nodes, this.random).id;
      }
      return s.posts.create({ kind: text.kind, title: text.title ?? null, body: text.body, tags: text.tags ?? [], parentId }, author);
    });
  }

  private async report(persona: 'spammer' | 'rude'): Promise<void> {
    const reporter = this.someone('regular');
    await this.withServices(async (s) => {
      const author = this.someone(persona);
      const published = await s.posts.list({ authorId: author.id }, 'NEW', { first: 5 }, reporter);
      if (!published.nodes.length) return;
      const target = pick(published.nodes, this.random);
      await s.moderation.report(target.id, REPORT_REASONS[persona], 'Reported from demo mode', reporter).catch((err) => {
        // Each member reports a post once; a second pick of the same post is simply skipped.
        if (!(err instanceof DomainError) || err.code !== 'BAD_USER_INPUT') throw err;
      });
    });
  }
}

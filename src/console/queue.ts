import { budget, gql } from './api';
import { actionBadge, h, labelName, postText, scoreBars, statusBadge, time, topScore } from './dom';
import { type Bands, type HumanAction, type Label, type ModerationEvent, type PostSummary, STATUS_NAMES, type Subject } from './types';

/** A row of the queue list: what it shows, no more. */
type QueueRow = Pick<Subject, 'subjectId' | 'status' | 'priority' | 'reportCount' | 'escalated' | 'appealState'> & {
  scores: Array<{ label: Label; score: number }> | null;
  post: Pick<PostSummary, 'kind' | 'title' | 'body'> | null;
};

/**
 * Every field is charged against the member's hourly cost budget, so the list asks for what a
 * row shows (about 14 points a row) and the full subject is read only for the selected post.
 */
const QUEUE = `query Queue { moderationQueue(first: 20) { nodes {
  subjectId status priority reportCount escalated appealState scores { label score } post { kind title body } }
  pageInfo { hasNextPage } } }`;
const DETAIL = `query Detail($id: ID!) {
  post(id: $id) { moderation { subjectId status priority reportCount escalated appealState updatedAt modelVersion
    scores { label score spans { start end weight } } post { id kind title body author { handle } } } }
  moderationHistory(subjectId: $id) { sequence type action reason createdAt previousStatus newStatus modelVersion actor { handle } } }`;
const MODERATE = `mutation Moderate($id: ID!, $action: ModerationAction!, $reason: String!) { moderate(subjectId: $id, action: $action, reason: $reason) { sequence newStatus } }`;
/**
 * How long stream events wait between list refreshes (a moderator's own action refreshes at once):
 * short while the cost budget is comfortable, longer as it runs low, so an open console never
 * spends a member's whole hour.
 */
function reloadGapMs(): number {
  const left = Number.isFinite(budget.limit) && budget.limit > 0 ? budget.remaining / budget.limit : 1;
  return left >= 0.5 ? 5_000 : left >= 0.2 ? 30_000 : 120_000;
}

export const ACTIONS: Array<{ action: HumanAction; key: string; label: string; reason: string }> = [
  { action: 'APPROVE', key: 'a', label: 'Approve', reason: 'Fine for this community' },
  { action: 'HIDE', key: 'h', label: 'Hide', reason: 'Breaks the community guidelines' },
  { action: 'REMOVE', key: 'r', label: 'Remove', reason: 'Spam or abuse' },
  { action: 'ESCALATE', key: 'e', label: 'Escalate', reason: 'Needs an admin to decide' },
  { action: 'RESTORE', key: '', label: 'Restore', reason: 'Restored after review' },
];

export interface QueueElements {
  list: HTMLUListElement;
  count: HTMLElement;
  detail: HTMLElement;
  announce(message: string): void;
}

/**
 * The review queue (highest priority first) and the selected subject: its text with the spans
 * that drove its scores, the action form, and its history. An action is armed first (button or
 * shortcut) and confirmed with a reason, so a stray key press never moderates anything.
 */
export class ReviewQueue {
  private subjects: QueueRow[] = [];
  private more = false;
  private selectedId: string | null = null;
  private selected: Subject | null = null;
  private armed: HumanAction | null = null;
  private reloading: Promise<void> | null = null;
  private again = false;
  private lastReload = 0;
  private reloadTimer: number | undefined;

  constructor(
    private readonly el: QueueElements,
    private readonly token: () => string,
    private readonly policy: () => Map<Label, Bands>,
  ) {}

  /** Coalesces reloads: at most one in flight and one queued behind it. */
  reload(): Promise<void> {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = undefined;
    if (this.reloading) {
      this.again = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.again = false;
        this.lastReload = Date.now();
        const data = await gql<{ moderationQueue: { nodes: QueueRow[]; pageInfo: { hasNextPage: boolean } } }>(QUEUE, {}, this.token());
        this.subjects = data.moderationQueue.nodes;
        this.more = data.moderationQueue.pageInfo.hasNextPage;
        this.renderList();
      } while (this.again);
    })().finally(() => (this.reloading = null));
    return this.reloading;
  }

  /** A stream event may have changed the queue: reload soon, but not more often than the budget allows. */
  reloadSoon(): void {
    if (this.reloadTimer !== undefined) return;
    const wait = Math.max(300, this.lastReload + reloadGapMs() - Date.now());
    this.reloadTimer = window.setTimeout(() => void this.reload().catch((err: Error) => this.el.announce(err.message)), wait);
  }

  /** j/k: the next or previous subject in the queue. */
  move(step: number): void {
    if (!this.subjects.length) return;
    const at = this.subjects.findIndex((s) => s.subjectId === this.selectedId);
    const next = at < 0 ? 0 : Math.max(0, Math.min(this.subjects.length - 1, at + step));
    void this.open(this.subjects[next].subjectId);
  }

  /** Shows any post (from the queue or the stream) with its scores, spans and history. */
  async open(subjectId: string): Promise<void> {
    this.selectedId = subjectId;
    this.disarm();
    this.renderList();
    this.el.list.querySelector('[aria-selected="true"]')?.scrollIntoView({ block: 'nearest' });
    const data = await gql<{ post: { moderation: Subject | null } | null; moderationHistory: ModerationEvent[] }>(DETAIL, { id: subjectId }, this.token());
    if (this.selectedId !== subjectId) return; // another selection overtook this one
    const subject = data.post?.moderation;
    if (!subject) return this.el.announce('That post has no moderation state yet');
    this.selected = subject;
    this.renderDetail(subject, data.moderationHistory);
  }

  arm(action: HumanAction): void {
    if (!this.selected) return this.el.announce('Select a subject first (j / k)');
    const reason = this.el.detail.querySelector<HTMLInputElement>('#reason');
    const confirm = this.el.detail.querySelector<HTMLButtonElement>('#confirm');
    if (!reason || !confirm) return;
    const spec = ACTIONS.find((a) => a.action === action)!;
    if (!reason.value.trim() || ACTIONS.some((a) => a.reason === reason.value)) reason.value = spec.reason;
    this.armed = action;
    confirm.hidden = false;
    confirm.textContent = `Confirm: ${spec.label.toLowerCase()}`;
    this.el.detail.querySelector('#cancel')!.removeAttribute('hidden');
    this.el.detail.querySelector('#armed-hint')!.textContent = `Press Enter to ${spec.label.toLowerCase()} with this reason, Escape to cancel.`;
    reason.focus();
    reason.select();
  }

  disarm(): void {
    this.armed = null;
    const confirm = this.el.detail.querySelector<HTMLButtonElement>('#confirm');
    if (confirm) confirm.hidden = true;
    this.el.detail.querySelector('#cancel')?.setAttribute('hidden', '');
    const hint = this.el.detail.querySelector('#armed-hint');
    if (hint) hint.textContent = '';
  }

  private async submit(): Promise<void> {
    const subject = this.selected;
    const action = this.armed;
    const reason = this.el.detail.querySelector<HTMLInputElement>('#reason')?.value.trim() ?? '';
    if (!subject || !action) return;
    if (!reason) return this.el.announce('A reason is required');
    this.disarm();
    try {
      const data = await gql<{ moderate: { newStatus: Subject['status'] } }>(MODERATE, { id: subject.subjectId, action, reason }, this.token());
      const title = subject.post?.title ?? 'the post';
      this.el.announce(`${ACTIONS.find((a) => a.action === action)!.label}: ${title} is now ${data.moderate.newStatus.toLowerCase().replace('_', ' ')}`);
      // The post stays shown with its new status and history; j moves on to what is left.
      await Promise.all([this.reload(), this.open(subject.subjectId)]);
    } catch (err) {
      this.el.announce(`Could not ${action.toLowerCase()}: ${(err as Error).message}`);
    }
  }

  private renderList(): void {
    this.el.count.textContent = `${this.subjects.length}${this.more ? '+' : ''} waiting`;
    const items = this.subjects.map((s, i) => {
      const top = topScore(s.scores);
      const li = h(
        'li',
        { role: 'option', id: `subject-${i}`, class: 'queue-item', 'data-subject-id': s.subjectId, 'aria-selected': String(s.subjectId === this.selectedId) },
        h('span', { class: 'priority', title: 'Priority' }, s.priority.toFixed(2)),
        h('span', { class: 'queue-main' },
          h('span', { class: 'queue-title' }, s.post?.title ?? (s.post ? s.post.body.slice(0, 80) : 'Deleted post')),
          h('span', { class: 'queue-meta' },
            statusBadge(s.status),
            top ? ` ${labelName(top.label)} ${top.score.toFixed(2)}` : '',
            s.reportCount ? ` · ${s.reportCount} report${s.reportCount > 1 ? 's' : ''}` : '',
            s.appealState === 'OPEN' ? ' · appealed' : '',
            s.escalated ? ' · escalated' : '',
          ),
        ),
      );
      li.addEventListener('click', () => void this.open(s.subjectId).catch((err: Error) => this.el.announce(err.message)));
      return li;
    });
    this.el.list.replaceChildren(...(items.length ? items : [h('li', { class: 'empty', role: 'option', 'aria-disabled': 'true', 'aria-selected': 'false' }, 'Nothing waits for a person. New holds and reports appear here.')]));
    const at = this.subjects.findIndex((s) => s.subjectId === this.selectedId);
    if (at >= 0) this.el.list.setAttribute('aria-activedescendant', `subject-${at}`);
    else this.el.list.removeAttribute('aria-activedescendant');
  }

  private renderDetail(s: Subject, history: ModerationEvent[]): void {
    const reason = h('input', { id: 'reason', name: 'reason', type: 'text', autocomplete: 'off', maxlength: '500', placeholder: 'Why? Shown to the author', required: true });
    const form = h('form', { id: 'act-form', class: 'act-form', 'aria-label': 'Moderate this post' });
    const buttons = ACTIONS.filter((a) => a.action !== 'RESTORE' || s.status === 'HIDDEN' || s.status === 'REMOVED').map((a) => {
      const b = h('button', { type: 'button', class: `act act-${a.action.toLowerCase()}`, 'data-action': a.action, 'aria-keyshortcuts': a.key || undefined }, a.label, a.key ? h('kbd', {}, a.key) : null);
      b.addEventListener('click', () => this.arm(a.action));
      return b;
    });
    const confirm = h('button', { type: 'submit', id: 'confirm', class: 'primary', hidden: true }, 'Confirm');
    const cancel = h('button', { type: 'button', id: 'cancel', hidden: true }, 'Cancel');
    cancel.addEventListener('click', () => this.disarm());
    form.append(
      h('div', { class: 'reason-row' }, h('label', { for: 'reason' }, 'Reason'), reason, confirm, cancel),
      h('div', { class: 'act-buttons', role: 'group', 'aria-label': 'Actions' }, ...buttons),
      h('p', { id: 'armed-hint', class: 'hint', 'aria-live': 'polite' }),
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.submit();
    });
    reason.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        this.disarm();
        reason.blur();
      }
    });

    const post = s.post;
    const text = post ? postText(post, s.scores) : null;
    this.el.detail.replaceChildren(
      h('h3', { id: 'detail-title' }, text?.title ?? 'Deleted post'),
      h('p', { class: 'detail-meta' },
        statusBadge(s.status),
        post?.author ? ` by @${post.author.handle}` : '',
        ` · priority ${s.priority.toFixed(2)}`,
        s.reportCount ? ` · ${s.reportCount} open report${s.reportCount > 1 ? 's' : ''}` : '',
        s.escalated ? ' · escalated' : '',
        s.appealState !== 'NONE' ? ` · appeal ${s.appealState.toLowerCase()}` : '',
      ),
      ...(text ? [h('blockquote', { class: 'detail-text' }, text.body)] : []),
      scoreBars(s.scores, this.policy()),
      form,
      h('h4', {}, 'History'),
      h('ol', { class: 'history' }, ...history.map((e) => h('li', {},
        h('time', { datetime: e.createdAt }, time(e.createdAt)), ' ', actionBadge(e), ' ',
        e.type === 'AUTOMATED' ? `model ${e.modelVersion ?? ''}` : e.actor ? `@${e.actor.handle}` : 'a member',
        e.previousStatus !== e.newStatus ? h('span', { class: 'muted' }, ` · ${STATUS_NAMES[e.previousStatus]} → ${STATUS_NAMES[e.newStatus]}`) : '',
        e.reason ? ' · ' : '',
        e.reason ? h('q', { class: 'reason' }, e.reason) : '',
      ))),
    );
  }
}

import { actionBadge, actionKey, h, labelName, postText, scoreBars, statusBadge, time, topScore } from './dom';
import type { Bands, Label, LabelScore, ModerationEvent } from './types';

const KEEP = 400;
const SHOW = 150;

export interface StreamFilters {
  label: Label | '';
  action: string;
}

/**
 * The live verdict list, newest first. Events are kept (bounded) so changing a filter redraws
 * from what already arrived; the label filter uses the strongest label of the event's scores, or
 * for human actions and reports the scores last seen for the same post.
 */
export class VerdictList {
  private events: ModerationEvent[] = [];
  private readonly sequences = new Set<string>();
  private readonly lastScores = new Map<string, LabelScore[]>();
  private filters: StreamFilters = { label: '', action: '' };

  constructor(
    private readonly list: HTMLOListElement,
    private readonly counter: HTMLElement,
    private readonly policy: () => Map<Label, Bands>,
    private readonly onOpen: (subjectId: string) => void,
  ) {}

  /** Returns false for an event already shown (a replay never duplicates). */
  add(e: ModerationEvent): boolean {
    if (this.sequences.has(e.sequence)) return false;
    this.sequences.add(e.sequence);
    if (e.scores?.length) this.lastScores.set(e.subjectId, e.scores);
    this.events.push(e);
    if (this.events.length > KEEP) this.sequences.delete(this.events.shift()!.sequence);
    if (this.matches(e)) {
      this.list.prepend(this.render(e));
      while (this.list.children.length > SHOW) this.list.lastElementChild!.remove();
    }
    this.count();
    return true;
  }

  setFilters(f: StreamFilters): void {
    this.filters = f;
    const shown = this.events.filter((e) => this.matches(e)).slice(-SHOW).reverse();
    this.list.replaceChildren(...shown.map((e) => this.render(e)));
    this.count();
  }

  private matches(e: ModerationEvent): boolean {
    if (this.filters.action && actionKey(e) !== this.filters.action) return false;
    if (this.filters.label) {
      const top = topScore(e.scores ?? this.lastScores.get(e.subjectId) ?? null);
      if (!top || top.label !== this.filters.label) return false;
    }
    return true;
  }

  private count(): void {
    const last = this.events.at(-1)?.sequence;
    this.counter.textContent = `${this.list.children.length} shown of ${this.events.length} received${last ? ` · cursor ${last}` : ''}`;
  }

  private render(e: ModerationEvent): HTMLLIElement {
    const top = topScore(e.scores);
    const who = e.type === 'AUTOMATED' ? `model ${e.modelVersion ?? ''}` : e.actor ? `@${e.actor.handle}` : 'a member';
    const post = e.post;
    // In the stream only labels in the review band or above are marked: spans of content the
    // policy let through would read as accusations. The review panel shows every span.
    const policy = this.policy();
    const flagged = e.scores?.filter((sc) => sc.score >= (policy.get(sc.label)?.review ?? 0)) ?? null;
    const text = post ? postText(post, flagged) : null;
    const titleText = post ? post.title ?? post.kind.toLowerCase() : 'a post no longer visible';
    const open = h('button', { type: 'button', class: 'link', 'aria-label': `Open ${titleText} in the review panel` }, 'Review');
    open.addEventListener('click', () => this.onOpen(e.subjectId));

    const item = h(
      'li',
      { class: `verdict verdict-${actionKey(e).toLowerCase()}`, 'data-sequence': e.sequence, 'data-subject-id': e.subjectId, 'data-action': e.action },
      h(
        'div',
        { class: 'verdict-head' },
        actionBadge(e),
        top && e.type === 'AUTOMATED' ? h('span', { class: 'top-label' }, `${labelName(top.label)} ${top.score.toFixed(2)}`) : null,
        h('span', { class: 'who' }, `by ${who}`),
        h('time', { datetime: e.createdAt }, time(e.createdAt)),
      ),
      h('p', { class: 'verdict-title' }, h('strong', {}, text?.title ?? 'Post no longer visible'), post?.author ? h('span', { class: 'muted' }, ` · @${post.author.handle}`) : null),
      text && post?.body ? h('p', { class: 'verdict-text' }, text.body) : null,
      e.type === 'AUTOMATED' ? scoreBars(e.scores, this.policy(), true) : null,
      h(
        'div',
        { class: 'verdict-foot' },
        e.previousStatus !== e.newStatus ? h('span', {}, statusBadge(e.previousStatus), ' → ', statusBadge(e.newStatus)) : statusBadge(e.newStatus),
        e.reason && e.type !== 'AUTOMATED' ? h('q', { class: 'reason' }, e.reason) : null,
        open,
      ),
    );
    return item;
  }
}

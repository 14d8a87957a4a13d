import { type Bands, type Label, LABELS, type LabelScore, type PostStatus, type PostSummary, STATUS_NAMES, type Span, scoredText } from './types';

type Child = Node | string | null | undefined | false;

/** A tiny element builder: attributes, then children (strings become text nodes, never HTML). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | boolean | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c) el.append(c);
  return el;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el as T;
}

export const labelName = (l: Label): string => l.charAt(0) + l.slice(1).toLowerCase();

export const time = (iso: string): string => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });

export function statusBadge(status: PostStatus): HTMLElement {
  return h('span', { class: `status status-${status.toLowerCase()}` }, STATUS_NAMES[status]);
}

/** The strongest label and its score, or null without scores. */
export function topScore<S extends { label: Label; score: number }>(scores: S[] | null): S | null {
  if (!scores?.length) return null;
  return scores.reduce((a, b) => (b.score > a.score ? b : a));
}

/**
 * The text (or its slice from..to) with the model's explanation spans marked. Overlapping spans
 * keep the strongest, so every character is marked at most once; offsets are those of the scored
 * text, so a title and a body can be shown apart.
 */
export function highlighted(text: string, scores: LabelScore[] | null, from = 0, to = text.length): DocumentFragment {
  const all: Array<Span & { label: Label }> = [];
  for (const s of scores ?? []) for (const sp of s.spans) if (sp.end > sp.start && sp.end <= text.length) all.push({ ...sp, label: s.label });
  all.sort((a, b) => b.weight - a.weight);
  const kept: typeof all = [];
  for (const sp of all) if (!kept.some((k) => sp.start < k.end && k.start < sp.end)) kept.push(sp);
  kept.sort((a, b) => a.start - b.start);

  const out = document.createDocumentFragment();
  let at = from;
  for (const sp of kept) {
    const start = Math.max(sp.start, from), end = Math.min(sp.end, to);
    if (start >= end) continue;
    out.append(text.slice(at, start));
    out.append(h('mark', { class: `span-${sp.label.toLowerCase()}`, title: `${labelName(sp.label)}: +${sp.weight.toFixed(2)}` }, text.slice(start, end)));
    at = end;
  }
  out.append(text.slice(at, to));
  return out;
}

/**
 * One bar per label, with the policy's review and hide thresholds as ticks; the bar is a
 * `meter` so assistive technology reads the value.
 */
export function scoreBars(scores: LabelScore[] | null, policy: Map<Label, Bands>, compact = false): HTMLElement {
  const list = h('dl', { class: compact ? 'scores compact' : 'scores' });
  if (!scores?.length) {
    list.append(h('dt', { class: 'muted' }, 'No model scores'));
    return list;
  }
  for (const label of LABELS) {
    const s = scores.find((x) => x.label === label);
    if (!s) continue;
    const bands = policy.get(label);
    const level = bands && s.score >= bands.hide ? 'hide' : bands && s.score >= bands.review ? 'review' : 'low';
    const fill = h('span', { class: `fill fill-${level}` });
    fill.style.width = `${Math.round(s.score * 100)}%`;
    const track = h('span', { class: 'track', role: 'meter', 'aria-valuemin': '0', 'aria-valuemax': '1', 'aria-valuenow': s.score.toFixed(2), 'aria-label': `${labelName(label)} score` }, fill);
    for (const [name, at] of bands ? ([['review', bands.review], ['hide', bands.hide]] as const) : []) {
      const tick = h('span', { class: `tick tick-${name}`, title: `${name} at ${at}` });
      tick.style.left = `${at * 100}%`;
      track.append(tick);
    }
    list.append(h('div', { class: 'score-row' }, h('dt', {}, labelName(label)), h('dd', {}, track, h('span', { class: `value value-${level}` }, s.score.toFixed(2)))));
  }
  return list;
}

/** The category an event counts under in the filters and the chart. */
export function actionKey(e: { type: string; action: string }): string {
  if (e.type === 'REPORT') return 'REPORT';
  if (e.type === 'APPEAL') return 'APPEAL';
  if (e.type === 'AUTOMATED') return e.action;
  return e.action === 'HIDE' ? 'HUMAN_HIDE' : e.action;
}

export const ACTION_NAMES: Record<string, string> = {
  ALLOW: 'Allowed',
  HOLD: 'Held',
  HIDE: 'Hidden by model',
  APPROVE: 'Approved',
  HUMAN_HIDE: 'Hidden',
  REMOVE: 'Removed',
  ESCALATE: 'Escalated',
  RESTORE: 'Restored',
  REPORT: 'Reported',
  APPEAL: 'Appealed',
  GRANT: 'Appeal granted',
  DENY: 'Appeal denied',
};

export function actionBadge(e: { type: string; action: string }): HTMLElement {
  const key = actionKey(e);
  const text = e.type === 'REPORT' ? `Report: ${e.action.toLowerCase().replace('_', ' ')}` : ACTION_NAMES[key] ?? e.action;
  return h('span', { class: `badge badge-${key.toLowerCase()}` }, text);
}

const kindName = (kind: string): string => kind.charAt(0) + kind.slice(1).toLowerCase();

/** A post's title and body, each with its own highlighted spans (the model scored them joined). */
export function postText(post: PostSummary, scores: LabelScore[] | null): { title: Node; body: Node } {
  const text = scoredText(post);
  if (!post.title) return { title: document.createTextNode(kindName(post.kind)), body: highlighted(text, scores) };
  return { title: highlighted(text, scores, 0, post.title.length), body: highlighted(text, scores, Math.min(text.length, post.title.length + 2)) };
}

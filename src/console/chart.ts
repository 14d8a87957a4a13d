import { h } from './dom';
import type { ModerationEvent } from './types';

const SVG = 'http://www.w3.org/2000/svg';
const MINUTES = 15;

export const SERIES = [
  { key: 'allowed', name: 'Allowed' },
  { key: 'held', name: 'Held' },
  { key: 'hidden', name: 'Hidden by model' },
  { key: 'people', name: 'Moderator actions' },
  { key: 'reports', name: 'Reports and appeals' },
] as const;
type SeriesKey = (typeof SERIES)[number]['key'];

function seriesOf(e: ModerationEvent): SeriesKey {
  if (e.type === 'AUTOMATED') return e.action === 'ALLOW' ? 'allowed' : e.action === 'HOLD' ? 'held' : 'hidden';
  if (e.type === 'REPORT' || e.type === 'APPEAL') return 'reports';
  return 'people';
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Verdicts per minute by action over the last quarter hour: stacked bars drawn by hand in SVG. */
export class VerdictChart {
  private readonly minutes = new Map<number, Record<SeriesKey, number>>();
  private readonly seen = new Set<string>();
  private pending = false;

  constructor(
    private readonly host: HTMLElement,
    private readonly legend: HTMLElement,
  ) {
    setInterval(() => this.draw(), 10_000);
    window.addEventListener('resize', () => this.draw());
    this.draw();
  }

  add(e: ModerationEvent): void {
    if (this.seen.has(e.sequence)) return;
    this.seen.add(e.sequence);
    const minute = Math.floor(new Date(e.createdAt).getTime() / 60_000);
    if (minute < Math.floor(Date.now() / 60_000) - MINUTES) return;
    const bucket = this.minutes.get(minute) ?? { allowed: 0, held: 0, hidden: 0, people: 0, reports: 0 };
    bucket[seriesOf(e)]++;
    this.minutes.set(minute, bucket);
    if (!this.pending) {
      this.pending = true;
      requestAnimationFrame(() => {
        this.pending = false;
        this.draw();
      });
    }
  }

  private draw(): void {
    const now = Math.floor(Date.now() / 60_000);
    for (const m of this.minutes.keys()) if (m <= now - MINUTES) this.minutes.delete(m);
    const cols = Array.from({ length: MINUTES }, (_, i) => now - MINUTES + 1 + i);
    const totals = cols.map((m) => SERIES.reduce((n, s) => n + (this.minutes.get(m)?.[s.key] ?? 0), 0));
    const max = Math.ceil(Math.max(4, ...totals) / 2) * 2; // even, so the middle grid line is a whole number
    // Drawn at the host's pixel width, so text keeps its size and bars fill the panel.
    const W = Math.max(320, this.host.clientWidth || 600), H = 150, left = 30, bottom = 20, top = 8;
    const plotH = H - bottom - top;
    const colW = (W - left) / MINUTES;

    const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart-svg', role: 'img', 'aria-labelledby': 'chart-desc' });
    const total = totals.reduce((a, b) => a + b, 0);
    const last = this.minutes.get(now);
    const summary = `${total} events in the last ${MINUTES} minutes; this minute: ` +
      SERIES.map((s) => `${last?.[s.key] ?? 0} ${s.name.toLowerCase()}`).join(', ');
    chart.append(svg('title', { id: 'chart-desc' }, summary));
    for (const frac of [0, 0.5, 1]) {
      const y = top + plotH * (1 - frac);
      chart.append(svg('line', { x1: left, x2: W, y1: y, y2: y, class: 'grid' }));
      chart.append(svg('text', { x: left - 6, y: y + 4, class: 'axis', 'text-anchor': 'end' }, String(Math.round(max * frac))));
    }
    cols.forEach((m, i) => {
      let y = top + plotH;
      const x = left + i * colW + 3;
      for (const s of SERIES) {
        const n = this.minutes.get(m)?.[s.key] ?? 0;
        if (!n) continue;
        const bh = (n / max) * plotH;
        y -= bh;
        chart.append(svg('rect', { x, y, width: colW - 6, height: bh, class: `bar bar-${s.key}` }, undefined));
      }
      if (i % 5 === 4 || i === MINUTES - 1) {
        const ago = MINUTES - 1 - i;
        chart.append(svg('text', { x: x + (colW - 6) / 2, y: H - 5, class: 'axis', 'text-anchor': 'middle' }, ago ? `−${ago} min` : 'now'));
      }
    });
    this.host.replaceChildren(chart);

    this.legend.replaceChildren(
      ...SERIES.map((s) => h('li', {}, h('span', { class: `swatch bar-${s.key}`, 'aria-hidden': 'true' }), `${s.name} `, h('strong', {}, String(cols.reduce((n, m) => n + (this.minutes.get(m)?.[s.key] ?? 0), 0))))),
    );
  }
}

// The cluster over the last 15 minutes: charts of GET /metrics/series, read again every bucket.

import { CHARTS, lastValue } from './chart-defs.js';
import { h, patchChildren } from './dom.js';

const HEIGHT_PX = 190;
const MIN_REFRESH_MS = 2000;

/** uPlot, loaded when the charts are first shown (most visits never open them). */
let uPlotModule = null;
const loadUPlot = () => (uPlotModule ??= import('./vendor/uplot.esm.js').then((m) => m.default));

const byMinute = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const bySecond = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
/** Tick labels of the time axis: seconds only when ticks are less than a minute apart. */
const clockTicks = (u, ticks) => {
  const fmt = ticks.length > 1 && ticks[1] - ticks[0] < 60 ? bySecond : byMinute;
  return ticks.map((t) => fmt.format(t * 1000));
};
const cssVar = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

export class ChartsView {
  #open = false;
  #timer = null;
  #plots = new Map();
  #data = null;
  #error = '';
  #resize = null;

  constructor({ root, api }) {
    this.root = root;
    this.api = api;
    // Light and dark draw their axes in different colours: draw again when the scheme changes.
    matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => this.#rebuild());
  }

  get isOpen() {
    return this.#open;
  }

  open() {
    if (this.#open) return;
    this.#open = true;
    document.title = 'Charts — an-ki';
    this.#layout();
    this.#resize ??= new ResizeObserver(() => this.#fit());
    this.#resize.observe(this.root);
    void this.refresh();
  }

  close() {
    this.#open = false;
    clearTimeout(this.#timer);
    this.#resize?.disconnect();
  }

  async refresh() {
    clearTimeout(this.#timer);
    if (!this.#open) return;
    let wait = 5000;
    try {
      if (!document.hidden) {
        const [uPlot, data] = await Promise.all([loadUPlot(), this.api.get('/metrics/series')]);
        this.#data = data;
        this.#error = '';
        wait = Math.max(MIN_REFRESH_MS, data.bucketMs);
        if (this.#open) this.#draw(uPlot);
      }
    } catch (err) {
      this.#error = err.status === 403 ? 'Your role may not read the cluster\'s figures.' : `The figures could not be read: ${err.message}`;
      this.#layout();
    }
    if (this.#open) this.#timer = setTimeout(() => void this.refresh(), wait);
  }

  #layout() {
    patchChildren(this.root,
      h('header', { class: 'panel-head' },
        h('h2', { id: 'charts-title', tabindex: '-1' }, 'Charts'),
        h('span', { class: 'muted small' }, 'last 15 minutes, as this principal saw them')),
      this.#error ? h('p', { class: 'form-error', role: 'alert' }, this.#error) : null,
      h('div', { class: 'charts', id: 'charts' },
        CHARTS.map((c) => h('section', { class: 'card chart', 'data-key': c.id, 'data-chart': c.id, 'aria-labelledby': `chart-${c.id}-title` },
          h('h3', { id: `chart-${c.id}-title` }, c.title),
          h('div', { class: 'chart-plot', 'aria-hidden': 'true' }),
          h('ul', { class: 'chart-legend', 'aria-label': `${c.title}: latest values` })))));
  }

  #draw(uPlot) {
    const s = this.#data;
    for (const def of CHARTS) {
      const card = this.root.querySelector(`[data-chart="${def.id}"]`);
      if (!card) continue;
      const lines = def.series(s);
      const max = Math.max(0, ...lines.flatMap((l) => l.values.filter((v) => v !== null)));
      card.dataset.max = String(max);
      card.dataset.points = String(s.t.length);
      this.#legend(card, def, lines);
      const plotEl = card.querySelector('.chart-plot');
      const key = lines.map((l) => `${l.label}:${l.axis ?? 'y'}`).join('|');
      const existing = this.#plots.get(def.id);
      if (existing && existing.key === key && plotEl.contains(existing.plot.root)) {
        existing.plot.setData([s.t, ...lines.map((l) => l.values)]);
        continue;
      }
      existing?.plot.destroy();
      this.#plots.delete(def.id);
      if (lines.length === 0) continue;
      const plot = new uPlot(this.#options(def, lines, plotEl.clientWidth || 400), [s.t, ...lines.map((l) => l.values)], plotEl);
      this.#plots.set(def.id, { key, plot });
    }
  }

  #legend(card, def, lines) {
    const list = card.querySelector('.chart-legend');
    if (lines.length === 0) { patchChildren(list, h('li', { class: 'muted' }, def.empty ?? 'No data yet.')); return; }
    patchChildren(list, lines.map((l) => {
      const v = lastValue(l.values);
      const fmt = l.axis === 'right' ? def.rightFormat : def.format;
      return h('li', { 'data-key': l.label },
        h('span', { class: 'swatch', 'data-color': l.color }),
        h('span', { class: 'legend-label' }, l.label),
        h('span', { class: 'legend-value' }, v === null ? '—' : fmt(v)));
    }));
    // The swatch colour is data, set through the CSSOM (the page's CSP allows no inline style attribute).
    for (const sw of list.querySelectorAll('.swatch')) sw.style.background = sw.dataset.color;
  }

  #options(def, lines, width) {
    const axis = { stroke: cssVar('--muted'), grid: { stroke: cssVar('--border'), width: 1 }, ticks: { stroke: cssVar('--border'), width: 1 }, font: '11px system-ui, sans-serif' };
    const fromZero = (u, min, max) => [0, max > 0 ? max * 1.1 : 1];
    const right = lines.some((l) => l.axis === 'right');
    return {
      width, height: HEIGHT_PX,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: fromZero }, ...(right ? { r: { range: fromZero } } : {}) },
      axes: [
        // One row of clock times: uPlot's default adds a date row that crowds a small chart.
        { ...axis, space: 70, values: clockTicks },
        { ...axis, size: 64, values: (u, ticks) => ticks.map((v) => def.format(v)) },
        ...(right ? [{ ...axis, scale: 'r', side: 1, size: 64, grid: { show: false }, values: (u, ticks) => ticks.map((v) => def.rightFormat(v)) }] : []),
      ],
      series: [{}, ...lines.map((l) => ({ label: l.label, stroke: l.color, width: 1.5, scale: l.axis === 'right' ? 'r' : 'y', points: { show: def.dots === true, size: 4, fill: l.color } }))],
    };
  }

  #fit() {
    for (const [id, { plot }] of this.#plots) {
      const el = this.root.querySelector(`[data-chart="${id}"] .chart-plot`);
      if (el && el.clientWidth && el.clientWidth !== plot.width) plot.setSize({ width: el.clientWidth, height: HEIGHT_PX });
    }
  }

  #rebuild() {
    for (const { plot } of this.#plots.values()) plot.destroy();
    this.#plots.clear();
    if (this.#open && this.#data && uPlotModule) void uPlotModule.then((uPlot) => this.#draw(uPlot));
  }
}

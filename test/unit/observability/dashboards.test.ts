import { strict as assert } from 'node:assert';
import { Histogram, Registry } from 'prom-client';
import { createMetrics, DESIGN_METRIC_NAMES, METRIC } from '../../../src/observability';
import { extractDashboardQueries, type DashboardQuery } from '../../helpers/prometheus';
import { allPanels, DASHBOARDS_DIR, datasourceRefs, loadDashboards, metricNamesIn } from './dashboard-files';

const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'] as const;

/** Names a scrape of one node yields: every registered metric, with the series suffixes of histograms. */
function exposedSeriesNames(): { anki: Map<string, string>; all: Set<string> } {
  const registry = new Registry();
  createMetrics(registry, 'principal');
  const anki = new Map<string, string>(); // series name -> METRIC name it belongs to
  const all = new Set<string>(['up']); // `up` is added by Prometheus to every target
  for (const metric of registry.getMetricsAsArray()) {
    const name = (metric as unknown as { name: string }).name;
    const names = metric instanceof Histogram ? HISTOGRAM_SUFFIXES.map((s) => name + s) : [name];
    for (const n of names) {
      all.add(n);
      if (name.startsWith('anki_')) anki.set(n, name);
    }
  }
  return { anki, all };
}

describe('Grafana dashboards', () => {
  const dashboards = loadDashboards();
  const queries: DashboardQuery[] = extractDashboardQueries(DASHBOARDS_DIR);

  it('exist and each parses as a Grafana dashboard with a recent schema', () => {
    assert.ok(dashboards.length > 0, `no dashboards in ${DASHBOARDS_DIR}`);
    for (const { file, json } of dashboards) {
      assert.equal(typeof json.title, 'string', `${file}: title`);
      assert.ok(Array.isArray(json.panels) && json.panels.length > 0, `${file}: panels`);
      assert.ok(json.schemaVersion >= 36, `${file}: schemaVersion ${json.schemaVersion} predates data source uids`);
    }
  });

  it('have distinct uids that Grafana accepts', () => {
    const uids = dashboards.map((d) => d.json.uid as string);
    for (const [i, uid] of uids.entries()) {
      assert.match(uid, /^[a-zA-Z0-9_-]{1,40}$/, `${dashboards[i]?.file}: uid ${uid}`);
    }
    assert.equal(new Set(uids).size, uids.length, `duplicate uids: ${uids.join(', ')}`);
  });

  it('give every panel a unique id and a place inside the 24-column grid', () => {
    for (const { file, json } of dashboards) {
      const panels = allPanels(json);
      const ids = panels.map((p) => p.id);
      assert.equal(new Set(ids).size, ids.length, `${file}: duplicate panel ids`);
      for (const p of panels) {
        const { x, y, w, h } = p.gridPos ?? {};
        assert.ok([x, y, w, h].every(Number.isInteger), `${file}: panel "${p.title}" has no gridPos`);
        assert.ok(x >= 0 && w > 0 && x + w <= 24 && h > 0, `${file}: panel "${p.title}" lies outside the grid`);
      }
    }
  });

  it('never hard-code a data source: every reference goes through a data source variable', () => {
    for (const { file, json } of dashboards) {
      const dsVariables = new Set(
        (json.templating?.list ?? []).filter((v: { type: string }) => v.type === 'datasource').map((v: { name: string }) => v.name),
      );
      assert.ok(dsVariables.size > 0, `${file}: no data source variable`);
      const refs = datasourceRefs(json);
      assert.ok(refs.length > 0, `${file}: no data source references`);
      for (const { path, ref } of refs) {
        assert.equal(typeof ref, 'object', `${file} ${path}: data source given by name (${JSON.stringify(ref)})`);
        const m = /^\$\{?(\w+)\}?$/.exec(String(ref?.uid));
        assert.ok(m && dsVariables.has(m[1]), `${file} ${path}: uid ${JSON.stringify(ref?.uid)} is not a data source variable`);
      }
      for (const p of allPanels(json).filter((p) => p.targets?.length)) {
        assert.ok(p.datasource, `${file}: panel "${p.title}" queries without naming a data source`);
      }
    }
  });

  it('contain PromQL in every panel that is not a row', () => {
    for (const { file, json } of dashboards) {
      for (const p of allPanels(json).filter((p) => p.type !== 'row')) {
        const exprs = (p.targets ?? []).map((t: { expr?: string }) => t.expr ?? '').filter(Boolean);
        assert.ok(exprs.length > 0, `${file}: panel "${p.title}" has no query`);
      }
    }
  });

  it('only select anki_* metrics that the platform registers (histograms through _bucket, _sum and _count)', () => {
    const { anki, all } = exposedSeriesNames();
    const known = new Set<string>(Object.values(METRIC));
    for (const q of queries) {
      for (const name of metricNamesIn(q.expr).filter((n) => n.startsWith('anki_'))) {
        const base = anki.get(name);
        assert.ok(base && known.has(base), `${q.dashboard} ${q.source}: ${name} is not a metric of METRIC`);
        if (base !== name) assert.ok(HISTOGRAM_SUFFIXES.some((s) => base + s === name), `${q.dashboard} ${q.source}: ${name}`);
      }
      for (const name of metricNamesIn(q.expr).filter((n) => !n.startsWith('anki_'))) {
        assert.ok(all.has(name), `${q.dashboard} ${q.source}: ${name} is not exposed by a node`);
      }
    }
  });

  it('show every metric DESIGN.md promises in at least one panel', () => {
    const used = new Set(queries.filter((q) => q.kind === 'panel').flatMap((q) => metricNamesIn(q.expr)));
    const missing = DESIGN_METRIC_NAMES.filter(
      (name) => !used.has(name) && !HISTOGRAM_SUFFIXES.some((s) => used.has(name + s)),
    );
    assert.deepEqual(missing, [], `no panel shows ${missing.join(', ')}`);
  });

  it('size rate windows with $__rate_interval (or $__range for totals), never a fixed duration', () => {
    for (const q of queries.filter((q) => q.kind === 'panel')) {
      for (const m of q.rawExpr.matchAll(/\b(?:rate|irate|increase)\s*\([^[]*\[([^\]]+)\]/g)) {
        assert.ok(['$__rate_interval', '$__range'].includes(m[1] ?? ''), `${q.dashboard} ${q.source}: window [${m[1]}]`);
      }
    }
  });

  it('estimate latency quantiles from histogram buckets aggregated by le', () => {
    const latency = queries.filter((q) => q.rawExpr.includes('histogram_quantile('));
    assert.ok(latency.some((q) => q.rawExpr.includes(`${METRIC.taskDuration}_bucket`)), 'no task latency quantile');
    for (const q of latency) {
      assert.match(q.rawExpr, /by\s*\([^)]*\ble\b[^)]*\)/, `${q.dashboard} ${q.source}: buckets not aggregated by le`);
    }
    const quantiles = new Set(latency.flatMap((q) => [...q.rawExpr.matchAll(/histogram_quantile\(\s*([\d.]+)/g)].map((m) => m[1])));
    for (const p of ['0.5', '0.95', '0.99']) assert.ok(quantiles.has(p), `no p${Number(p) * 100} panel`);
  });
});

describe('extractDashboardQueries', () => {
  const queries = extractDashboardQueries(DASHBOARDS_DIR, { rateInterval: '2m', range: '6h' });

  it('finds the queries of panels, annotations and query variables', () => {
    const kinds = new Set(queries.map((q) => q.kind));
    assert.ok(kinds.has('panel') && kinds.has('variable'), `kinds found: ${[...kinds].join(', ')}`);
    const panelTargets = loadDashboards().flatMap(({ json }) =>
      allPanels(json).flatMap((p) => (p.targets ?? []).filter((t: { expr?: string }) => t.expr)),
    );
    assert.equal(queries.filter((q) => q.kind === 'panel').length, panelTargets.length);
  });

  it('leaves no Grafana variable for Prometheus to trip over', () => {
    for (const q of queries) assert.doesNotMatch(q.expr, /\$\{?\w+|\[\[/, `${q.dashboard} ${q.source}: ${q.expr}`);
  });

  it('substitutes the interval values it is given', () => {
    const rates = queries.filter((q) => q.rawExpr.includes('$__rate_interval'));
    assert.ok(rates.length > 0);
    for (const q of rates) assert.ok(q.expr.includes('[2m]'), q.expr);
    for (const q of queries.filter((q) => q.rawExpr.includes('$__range'))) assert.ok(q.expr.includes('[6h]'), q.expr);
  });
});

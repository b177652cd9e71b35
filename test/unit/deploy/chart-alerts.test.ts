import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { METRIC } from '../../../src/observability/metric-names';
import { VALUES, find, renderChart, skipWithoutGo } from './chart-render';

const PROMTOOL = process.env['PROMTOOL_BIN'] ?? 'promtool';
const SEL = 'namespace="anki", job="an-ki-principal"';

interface Rule { alert: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
interface Group { name: string; rules: Rule[] }

/** One promtool unit test: series over time, and the alerts expected at a time (none: []). */
interface AlertCase { what: string; series: Record<string, string>; at: string; alert: string; expect: Record<string, string>[] }

const CASES: AlertCase[] = [
  { what: 'no principal is leader', series: { [`anki_leader{${SEL}, instance="p0"}`]: '0x20', [`anki_leader{${SEL}, instance="p1"}`]: '0x20' }, at: '5m', alert: 'AnkiNoLeader', expect: [{ severity: 'critical' }] },
  { what: 'no principal is scraped at all', series: { [`up{${SEL}}`]: '1x20' }, at: '5m', alert: 'AnkiNoLeader', expect: [{ severity: 'critical' }] },
  { what: 'one leader', series: { [`anki_leader{${SEL}, instance="p0"}`]: '1x20', [`anki_leader{${SEL}, instance="p1"}`]: '0x20' }, at: '5m', alert: 'AnkiNoLeader', expect: [] },
  { what: 'two leaders', series: { [`anki_leader{${SEL}, instance="p0"}`]: '1x20', [`anki_leader{${SEL}, instance="p1"}`]: '1x20' }, at: '5m', alert: 'AnkiSeveralLeaders', expect: [{ severity: 'critical' }] },
  { what: 'Kis keep dying', series: { [`anki_cluster_nodes{${SEL}, instance="p0", role="ki", status="dead"}`]: '1x20' }, at: '10m', alert: 'AnkiDeadMembers', expect: [{ severity: 'warning', role: 'ki' }] },
  { what: 'no live Ki', series: { [`anki_cluster_nodes{${SEL}, instance="p0", role="an", status="alive"}`]: '1x20' }, at: '10m', alert: 'AnkiNoLiveKi', expect: [{ severity: 'critical' }] },
  {
    what: 'a queue that does not drain', at: '40m', alert: 'AnkiQueueWaitHigh', expect: [{ severity: 'warning' }],
    series: { [`anki_queue_depth{${SEL}, instance="p0", queue="pending"}`]: '1000x60', [`anki_tasks_finished_total{${SEL}, instance="p0", status="succeeded"}`]: '500x60' },
  },
  {
    what: 'a queue that drains in seconds', at: '40m', alert: 'AnkiQueueWaitHigh', expect: [],
    series: { [`anki_queue_depth{${SEL}, instance="p0", queue="pending"}`]: '1000x60', [`anki_tasks_finished_total{${SEL}, instance="p0", status="succeeded"}`]: '0+6000x60' },
  },
  { what: 'database errors for minutes', series: { [`anki_db_errors_total{${SEL}, instance="p0"}`]: '0+10x30' }, at: '15m', alert: 'AnkiDatabaseErrors', expect: [{ severity: 'warning', job: 'an-ki-principal' }] },
  { what: 'a message with a lifted token', series: { [`anki_messages_rejected_total{${SEL}, instance="p0", reason="pop"}`]: '0 0 0 1 1 1 1 1 1 1' }, at: '5m', alert: 'AnkiMessagesRejectedSuspicious', expect: [{ severity: 'critical', reason: 'pop' }] },
  { what: 'many malformed messages', series: { [`anki_messages_rejected_total{${SEL}, instance="p0", reason="schema"}`]: '0+5x30' }, at: '15m', alert: 'AnkiMessagesRejected', expect: [{ severity: 'warning', reason: 'schema' }] },
  { what: 'a few malformed messages', series: { [`anki_messages_rejected_total{${SEL}, instance="p0", reason="schema"}`]: '0+0.5x30' }, at: '15m', alert: 'AnkiMessagesRejected', expect: [] },
  {
    what: 'most tasks fail', at: '40m', alert: 'AnkiTasksFailing', expect: [{ severity: 'warning' }],
    series: { [`anki_tasks_finished_total{${SEL}, instance="p0", status="failed"}`]: '0+60x60', [`anki_tasks_finished_total{${SEL}, instance="p0", status="succeeded"}`]: '0+60x60' },
  },
  { what: 'a growing dead-letter queue', series: { 'rabbitmq_queue_messages{vhost="anki", queue="anki.dead"}': '0+10x60' }, at: '40m', alert: 'AnkiDeadLetterQueueGrowing', expect: [{ severity: 'warning', queue: 'anki.dead' }] },
  { what: 'dead letters pile up in the store', series: { [`anki_dead_letters{${SEL}, instance="p0"}`]: '0+10x60', [`anki_dead_letters{${SEL}, instance="p1"}`]: '0x60' }, at: '40m', alert: 'AnkiDeadLettersGrowing', expect: [{ severity: 'warning' }] },
  { what: 'a steady dead-letter store', series: { [`anki_dead_letters{${SEL}, instance="p0"}`]: '500x60' }, at: '40m', alert: 'AnkiDeadLettersGrowing', expect: [] },
  { what: 'a busy work queue is no dead-letter growth', series: { 'rabbitmq_queue_messages{vhost="anki", queue="anki.tasks.pending.high"}': '0+10x60' }, at: '40m', alert: 'AnkiDeadLetterQueueGrowing', expect: [] },
];

function promtool(args: string[], cwd: string): { ok: boolean; output: string } {
  const r = spawnSync(PROMTOOL, args, { cwd, encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}\n${r.stderr}` };
}

describe('helm chart: PrometheusRule alerts', function () {
  let groups: Group[];
  let dir: string;
  before(function () {
    this.timeout(120_000);
    skipWithoutGo(this);
    const r = renderChart({ files: VALUES.prod, values: { metrics: { prometheusRule: { enabled: true } } } });
    groups = find(r, 'PrometheusRule', 'an-ki').spec.groups as Group[];
    dir = mkdtempSync(join(tmpdir(), 'chart-alerts-'));
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));
  const rules = (): Rule[] => groups.flatMap((g) => g.rules);

  it('alerts on what an on-call needs: leadership, dead nodes, queue wait, dead letters, database errors, rejected messages', () => {
    const names = rules().map((r) => r.alert);
    for (const name of ['AnkiNoLeader', 'AnkiSeveralLeaders', 'AnkiScrapeTargetDown', 'AnkiDeadMembers', 'AnkiNoLiveKi', 'AnkiNoLiveAn', 'AnkiQueueWaitHigh',
      'AnkiDeadLetterQueueGrowing', 'AnkiDeadLettersGrowing', 'AnkiTasksFailing', 'AnkiDatabaseErrors', 'AnkiMessagesRejectedSuspicious', 'AnkiMessagesRejected', 'AnkiBrokerReconnects']) {
      assert.ok(names.includes(name), name);
    }
    for (const r of rules()) {
      assert.ok(['critical', 'warning'].includes(r.labels?.['severity'] ?? ''), `${r.alert} has a severity`);
      assert.ok(r.annotations?.['summary'] && r.annotations['description'], `${r.alert} says what happened`);
    }
  });

  it('queries only metrics the nodes export (metric-names.ts), Prometheus\'s up and RabbitMQ\'s queue length', () => {
    const known = new Set<string>([...Object.values(METRIC), 'up', 'rabbitmq_queue_messages']);
    const used = new Set(rules().flatMap((r) => [...r.expr.matchAll(/([a-z_:][a-z0-9_:]*)\{/g)].map((m) => m[1]!)));
    assert.deepEqual([...used].filter((n) => !known.has(n)), []);
    assert.ok(used.size >= 10, [...used].join(','));
  });

  it('passes promtool check rules', function () {
    if (spawnSync(PROMTOOL, ['--version']).status !== 0) {
      console.warn('\n  !!! SKIPPED: promtool not found (Debian package prometheus, or PROMTOOL_BIN) !!!\n');
      this.skip();
    }
    writeFileSync(join(dir, 'rules.yaml'), JSON.stringify({ groups }));
    const r = promtool(['check', 'rules', 'rules.yaml'], dir);
    assert.ok(r.ok, r.output);
  });

  it('fires each alert on the series that call for it, and stays quiet on healthy ones (promtool test rules)', function () {
    if (spawnSync(PROMTOOL, ['--version']).status !== 0) {
      console.warn('\n  !!! SKIPPED: promtool not found (Debian package prometheus, or PROMTOOL_BIN) !!!\n');
      this.skip();
    }
    // promtool compares annotations exactly; the cases check when alerts fire, so they are left out.
    const bare = groups.map((g) => ({ name: g.name, rules: g.rules.map(({ annotations: _a, ...rest }) => rest) }));
    writeFileSync(join(dir, 'bare-rules.yaml'), JSON.stringify({ groups: bare }));
    const tests = CASES.map((c) => ({
      name: c.what,
      interval: '1m',
      input_series: Object.entries(c.series).map(([series, values]) => ({ series, values })),
      alert_rule_test: [{ eval_time: c.at, alertname: c.alert, exp_alerts: c.expect.map((labels) => ({ exp_labels: labels })) }],
    }));
    writeFileSync(join(dir, 'tests.yaml'), JSON.stringify({ rule_files: ['bare-rules.yaml'], evaluation_interval: '1m', tests }));
    const r = promtool(['test', 'rules', 'tests.yaml'], dir);
    assert.ok(r.ok, r.output);
  });
});

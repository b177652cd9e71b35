import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { createMetrics, type Metrics } from '../../../src/observability';
import {
  extractDashboardQueries,
  extractPromQlExpressions,
  prometheusAvailable,
  PrometheusQueryError,
  startPrometheus,
  type PromQueryResult,
  type PrometheusServer,
} from '../../helpers/prometheus';
import { REPO_ROOT } from './dashboard-files';

const DASHBOARDS = join(REPO_ROOT, 'grafana', 'dashboards');

/** Fills every metric with a few values, as a busy principal with a Ki beside it would. */
function recordActivity(m: Metrics): void {
  m.leader.set(1);
  m.leaderTerm.set(4);
  m.tasksSubmitted.inc(3);
  m.tasksFinished.inc({ status: 'succeeded' }, 2);
  m.tasksFinished.inc({ status: 'failed' });
  for (const [status, seconds] of [['succeeded', 0.04], ['succeeded', 1.7], ['failed', 0.3]] as const) {
    m.taskDuration.observe({ status }, seconds);
  }
  m.tasksInFlight.set(2);
  m.queueDepth.set({ queue: 'pending' }, 7);
  m.kiSlots.set({ state: 'free' }, 3);
  m.kiSlots.set({ state: 'busy' }, 1);
  m.messagesRejected.inc({ reason: 'token' });
  m.dbErrors.inc();
  m.amqpReconnects.inc();
  m.kiGpuMemoryUsed.set({ gpu: '0', uuid: 'GPU-0000' }, 20_480);
  m.kiGpuMemoryTotal.set({ gpu: '0', uuid: 'GPU-0000' }, 81_559);
  m.kiGpuTasks.set({ gpu: '0', uuid: 'GPU-0000' }, 1);
  for (const role of ['principal', 'an', 'ki']) m.clusterNodes.set({ role, status: 'alive' }, 1);
  m.tasksRetried.inc({ reason: 'timeout' });
  m.taskExecutions.inc({ type: 'echo' });
  m.httpRequests.inc({ method: 'POST', route: '/tasks', status: '201' });
  m.httpRequests.inc({ method: 'GET', route: '/tasks/:id', status: '500' });
  m.httpDuration.observe({ method: 'POST', route: '/tasks' }, 0.004);
  m.taskQueueWait.observe(0.2);
  m.taskRunTime.observe({ status: 'succeeded' }, 1.5);
  m.kiGpuUtilization.set({ gpu: '0', uuid: 'GPU-0000' }, 0.87);
  m.redundantTasks.inc({ outcome: 'majority' });
  m.replicaAnswers.inc({ verdict: 'agreed' }, 2);
  m.replicaAnswers.inc({ verdict: 'disagreed' });
  m.kiQuarantines.inc();
  m.kisQuarantined.set(1);
}

/** Serves the registry like a node's METRICS_PORT does, recording more activity on every scrape so rates move. */
async function startFakeNode(metrics: Metrics): Promise<{ server: Server; target: string }> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    recordActivity(metrics);
    metrics.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, target: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function isEmpty(r: PromQueryResult): boolean {
  return (r.resultType === 'vector' || r.resultType === 'matrix') && r.result.length === 0;
}

async function waitForValue(prom: PrometheusServer, expr: string, ok: (v: number) => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    const r = await prom.query(expr);
    const v = r.resultType === 'vector' ? Number(r.result[0]?.value[1]) : NaN;
    if (ok(v)) return;
    last = JSON.stringify(r);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${expr} never satisfied the condition within ${timeoutMs} ms; last: ${last}`);
}

describe('Prometheus test helper against a real Prometheus', function () {
  this.timeout(60_000);
  let node: { server: Server; target: string } | undefined;
  let prom: PrometheusServer | undefined;

  before(async function () {
    if (!prometheusAvailable()) this.skip();
    node = await startFakeNode(createMetrics(new Registry(), 'principal'));
    prom = await startPrometheus({ targets: [node.target], scrapeIntervalSec: 1 });
    await prom.waitForTargetsUp({ timeoutMs: 20_000 });
    // rate() needs two samples inside its window; wait for three scrapes.
    await waitForValue(prom, 'count_over_time(anki_node_up[1m])', (v) => v >= 3, 15_000);
  });

  after(async () => {
    await prom?.stop();
    await new Promise((resolve) => (node ? node.server.close(resolve) : resolve(undefined)));
  });

  it("scrapes the node's /metrics as a healthy target of job an-ki", async () => {
    const targets = await prom!.targets();
    assert.deepEqual(
      targets.map((t) => [t.labels['job'], t.labels['instance'], t.health]),
      [['an-ki', node!.target, 'up']],
    );
  });

  it('evaluates every dashboard expression without an error', async () => {
    const exprs = extractPromQlExpressions(DASHBOARDS);
    assert.ok(exprs.length > 10, `only ${exprs.length} expressions found`);
    const failures: string[] = [];
    for (const expr of exprs) {
      await prom!.query(expr).catch((err: unknown) => failures.push(err instanceof Error ? err.message : String(err)));
    }
    assert.deepEqual(failures, []);
  });

  it('returns data for every panel query once a node exposes all its metrics', async () => {
    const empty: string[] = [];
    for (const q of extractDashboardQueries(DASHBOARDS).filter((q) => q.kind === 'panel')) {
      if (isEmpty(await prom!.query(q.expr))) empty.push(`${q.dashboard} ${q.source}: ${q.expr}`);
    }
    assert.deepEqual(empty, []);
  });

  it("rejects an invalid expression with Prometheus's own parse error", async () => {
    await assert.rejects(prom!.query('sum(rate(anki_tasks_submitted_total[1m])'), (err: unknown) => {
      assert.ok(err instanceof PrometheusQueryError);
      assert.equal(err.errorType, 'bad_data');
      assert.match(err.prometheusError, /parse error/);
      return true;
    });
  });

  it('returns the parsed result of a query', async () => {
    const r = await prom!.query('anki_leader_term');
    assert.equal(r.resultType, 'vector');
    assert.equal(r.result.length, 1);
    assert.equal(r.result[0]?.metric['job'], 'an-ki');
    assert.equal(r.result[0]?.value[1], '4');
  });
});

describe('Prometheus test helper lifecycle', function () {
  this.timeout(60_000);

  before(function () {
    if (!prometheusAvailable()) this.skip();
  });

  it('stops the server and removes its temporary folder, also when stopped twice', async () => {
    const prom = await startPrometheus({ targets: [] });
    assert.ok(existsSync(prom.dir));
    await Promise.all([prom.stop(), prom.stop()]);
    assert.equal(existsSync(prom.dir), false);
    await assert.rejects(fetch(`${prom.url}/-/ready`));
  });
});

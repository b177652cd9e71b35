import { strict as assert } from 'node:assert';
import { Api, TestCluster, type NodeProcess } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { extractDashboardQueries, prometheusAvailable, startPrometheus, type PrometheusServer } from '../helpers/prometheus';
import { waitFor } from '../helpers/wait';
import { DESIGN_METRIC_NAMES } from '../../src/observability/metric-names';

describe('metrics of a running cluster, scraped by a real Prometheus', function () {
  this.timeout(180_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let nodes: NodeProcess[];
  let prom: PrometheusServer | undefined;

  before(async () => {
    iso = await createIsolation('metrics');
    cluster = new TestCluster(iso);
    nodes = [
      await cluster.start('principal', { id: 'p1' }),
      await cluster.start('an', { id: 'an1' }),
      await cluster.start('ki', { id: 'ki1', env: { KI_GPUS: JSON.stringify([{ index: 0, uuid: 'GPU-fake-0', name: 'Fake', memoryMiB: 40960, memoryUsedMiB: 1024, utilizationPct: 42 }]) } }),
    ];
    const api = new Api(cluster.url(), cluster.token('alice', 'submitter'));
    await waitFor(() => api.as(cluster.token('root', 'admin')).get('/nodes'), (r) => r.body.items.some((n: any) => n.role === 'ki' && n.group), { what: 'ki in a group' });
    const r = await api.post('/tasks/batch', { tasks: [...Array.from({ length: 30 }, () => ({ type: 'echo', payload: 1 })), { type: 'fail', payload: { message: 'x' } }] });
    await waitFor(() => api.get(`/tasks/${r.body.ids[30]}`), (t) => t.body.status === 'failed');
  });

  after(async () => {
    await prom?.stop();
    await cluster?.stopAll();
    await iso?.destroy();
  });

  it('exposes every DESIGN.md metric name on every role', async () => {
    for (const node of nodes) {
      const text = await node.metrics();
      for (const name of DESIGN_METRIC_NAMES) assert.match(text, new RegExp(`^${name}(_bucket|_sum|_count)?[{ ]`, 'm'), `${node.role} exposes ${name}`);
      assert.match(text, new RegExp(`anki_node_up\\{role="${node.role}"\\} 1`));
    }
  });

  it('splits each finished task into queue wait and run time on the An, and shows the Ki\'s GPU use', async () => {
    const [, an, ki] = nodes;
    const sample = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    const finished = (text: string) => sample(text, 'anki_tasks_finished_total{status="succeeded"}') + sample(text, 'anki_tasks_finished_total{status="failed"}');
    const anText = await waitFor(() => an!.metrics(), (text) => finished(text) === 31, { what: 'all 31 tasks finished on the An' });
    assert.equal(sample(anText, 'anki_task_queue_wait_seconds_count'), 31);
    assert.equal(sample(anText, 'anki_task_run_seconds_count{status="succeeded"}') + sample(anText, 'anki_task_run_seconds_count{status="failed"}'), 31);
    assert.equal(sample(anText, 'anki_redundant_tasks_total{outcome="unanimous"}'), 0, 'no redundant task ran: the series is there, at 0');
    assert.equal(sample(anText, 'anki_kis_quarantined'), 0);
    const kiText = await ki!.metrics();
    assert.equal(sample(kiText, 'anki_ki_gpu_utilization_ratio{gpu="0",uuid="GPU-fake-0"}'), 0.42);
    assert.equal(sample(kiText, 'anki_ki_gpu_memory_used_mib{gpu="0",uuid="GPU-fake-0"}'), 1024);
  });

  it('evaluates every dashboard query through Prometheus: valid, and with data', async function () {
    if (!prometheusAvailable()) this.skip();
    prom = await startPrometheus({ targets: nodes.map((n) => `127.0.0.1:${n.metricsPort}`), scrapeIntervalSec: 1 });
    await prom.waitForTargetsUp({ timeoutMs: 30_000 });
    // Two scrapes at least, so rate() has two points.
    await waitFor(() => prom!.query('count(up)'), () => true);
    await new Promise((r) => setTimeout(r, 3500));
    const queries = extractDashboardQueries('grafana/dashboards');
    assert.ok(queries.length > 20);
    const empty: string[] = [];
    for (const q of queries) {
      const result = await prom.query(q.expr); // throws with Prometheus's message when invalid
      const hasData = Array.isArray(result.result) ? result.result.length > 0 : result.result !== undefined;
      // An annotation marks events (a leader change) and is empty while none happened.
      if (!hasData && q.kind !== 'annotation') empty.push(`${q.dashboard}: ${q.expr}`);
    }
    assert.deepEqual(empty, [], 'every panel has data');
  });
});

import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Api, TestCluster } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { waitFor } from '../helpers/wait';
import { readSpanFile } from '../../src/observability/span-file-exporter';
import { SPAN } from '../../src/observability/span-names';

describe('one trace across real principal, An and Ki processes', function () {
  this.timeout(120_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let dir: string;
  let spanFile: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'anki-e2e-spans-'));
    spanFile = join(dir, 'spans.jsonl');
    iso = await createIsolation('traceE2e');
    cluster = new TestCluster(iso, { OTEL_TEST_SPAN_FILE: spanFile });
    await cluster.start('principal', { id: 'p1' });
    await cluster.start('an', { id: 'an1' });
    await cluster.start('ki', { id: 'ki1' });
  });
  after(async () => { await cluster?.stopAll(); await iso?.destroy(); rmSync(dir, { recursive: true, force: true }); });

  it('links task.submit → task.publish → task.schedule → task.execute → task.result', async () => {
    const api = new Api(cluster.url(), cluster.token('alice', 'submitter'));
    await waitFor(() => api.as(cluster.token('root', 'admin')).get('/nodes'), (r) => r.body.items.some((n: any) => n.role === 'ki' && n.status === 'alive'), { what: 'ki alive' });
    const r = await api.post('/tasks', { type: 'echo', payload: { hi: 1 } });
    assert.equal(r.status, 201);
    const id = r.body.id as string;
    await waitFor(() => api.get(`/tasks/${id}`), (t) => t.body.status === 'succeeded', { what: 'succeeded' });
    const spans = await waitFor(() => readSpanFile(spanFile), (s) => s.some((x) => x.name === SPAN.taskResult && x.attributes['anki.task.id'] === id), { what: 'result span' });
    const mine = (name: string) => spans.find((s) => s.name === name && s.attributes['anki.task.id'] === id);
    const chain = [SPAN.taskSubmit, SPAN.taskPublish, SPAN.taskSchedule, SPAN.taskExecute, SPAN.taskResult].map((n) => { const s = mine(n); assert.ok(s, `missing ${n}`); return s; });
    const traceId = chain[0]!.traceId;
    const all = spans.filter((s) => s.traceId === traceId);

    for (let i = 1; i < chain.length; i++) assert.equal(chain[i]!.parentSpanId, chain[i - 1]!.spanId, chain[i]!.name);
    assert.deepEqual(chain.map((s) => s.serviceName), ['an-ki-principal', 'an-ki-principal', 'an-ki-an', 'an-ki-ki', 'an-ki-an']);
    const insert = mine(SPAN.taskInsert);
    assert.ok(insert && insert.traceId === traceId && insert.parentSpanId === chain[0]!.spanId, 'insert inside submit');
    const roots = all.filter((s) => !s.parentSpanId);
    assert.equal(roots.length, 1, 'one root: the REST request');

    const brokerOnly = spans.filter((s) => !s.parentSpanId && !/^(POST|GET)/.test(s.name));
    assert.deepEqual(brokerOnly, [], 'heartbeats and ticks start no traces');

  });

  it('exports no client token or stream ticket from a request URL', async () => {
    const token = cluster.token('dash', 'viewer');
    const inUrl = await fetch(`${cluster.url()}/events?token=${encodeURIComponent(token)}`);
    assert.equal(inUrl.status, 401, 'a token in the URL is refused');
    await inUrl.body?.cancel();
    const bought = await fetch(`${cluster.url()}/events/ticket`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    assert.equal(bought.status, 200);
    const { ticket } = (await bought.json()) as { ticket: string };
    const stream = new AbortController();
    const opened = await fetch(`${cluster.url()}/events?ticket=${encodeURIComponent(ticket)}`, { signal: stream.signal });
    assert.equal(opened.status, 200);
    stream.abort();
    await fetch(`${cluster.url()}/tasks?limit=1&token=${encodeURIComponent(token)}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.body?.cancel());
    const spans = await waitFor(() => readSpanFile(spanFile), (s) => s.filter((x) => JSON.stringify(x.attributes).includes('REDACTED')).length >= 3, { what: 'request spans' });
    for (const span of spans) {
      const text = JSON.stringify(span.attributes);
      assert.ok(!text.includes(token) && !text.includes(ticket), `${span.name} exports a secret: ${text}`);
    }
  });
});

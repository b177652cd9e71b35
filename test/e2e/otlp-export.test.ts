import { strict as assert } from 'node:assert';
import { Api, TestCluster, type NodeProcess } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver';
import { secretLeak } from '../helpers/secret-scan';
import { waitFor } from '../helpers/wait';
import { SPAN } from '../../src/observability/span-names';

const ROLES = ['principal', 'an', 'ki'] as const;
const TASK_ID = 'anki.task.id';

/**
 * Real principal, An and Ki processes export over OTLP/HTTP (protobuf) to a receiver that decodes
 * what arrives with the OTLP schema. Only the standard variables are set: no OTEL_ENABLED.
 */
describe('traces and logs exported over OTLP by real processes', function () {
  this.timeout(180_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let receiver: OtlpReceiver;
  const tasks: { id: string; type: string }[] = [];

  before(async () => {
    receiver = await startOtlpReceiver();
    iso = await createIsolation('otlpExport');
    cluster = new TestCluster(iso, {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      // Short batches, so the test waits on the data rather than on the SDK's timers.
      OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_BLRP_SCHEDULE_DELAY: '100',
    });
    // The principal's admissions are logged at debug, inside the request's span.
    await cluster.start('principal', { id: 'p1', env: { LOG_LEVEL: 'debug' } });
    await cluster.start('an', { id: 'an1' });
    await cluster.start('ki', { id: 'ki1' });
    const api = new Api(cluster.url(), cluster.token('alice', 'submitter'));
    await waitFor(() => api.as(cluster.token('root', 'admin')).get('/nodes'), (r) => r.body.items.some((n: any) => n.role === 'ki' && n.status === 'alive' && n.group), { what: 'ki in a group' });
    for (const body of [
      { type: 'echo', payload: { n: 1 } }, { type: 'echo', payload: { n: 2 } }, { type: 'echo', payload: { n: 3 } },
      // A failed attempt is logged on the Ki and the failed task on the An, both inside the task's spans.
      { type: 'fail', payload: { message: 'expected failure' }, maxAttempts: 1 },
    ]) {
      const r = await api.post('/tasks', body);
      assert.equal(r.status, 201);
      tasks.push({ id: r.body.id as string, type: body.type });
    }
    for (const t of tasks) {
      await waitFor(() => api.get(`/tasks/${t.id}`), (r) => ['succeeded', 'failed'].includes(r.body.status), { what: `task ${t.id} finished` });
    }
  });

  after(async () => {
    await cluster?.stopAll();
    await receiver?.stop();
    await iso?.destroy();
  });

  const spansOf = (taskId: string) => receiver.spans.filter((s) => s.attributes[TASK_ID] === taskId);
  const traceOf = (taskId: string): ReceivedSpan[] => {
    const submit = spansOf(taskId).find((s) => s.name === SPAN.taskSubmit);
    return submit ? receiver.spans.filter((s) => s.traceId === submit.traceId) : [];
  };

  it('decodes every export it gets as OTLP/HTTP protobuf on /v1/traces and /v1/logs', async () => {
    await waitFor(() => tasks.every((t) => spansOf(t.id).some((s) => s.name === SPAN.taskResult)), Boolean, { what: 'result spans of every task' });
    assert.deepEqual(receiver.refused, []);
  });

  it('puts each task in one trace, with spans of the principal, the An and the Ki', () => {
    const traceIds = new Set<string>();
    for (const t of tasks) {
      const ids = new Set(spansOf(t.id).map((s) => s.traceId));
      assert.equal(ids.size, 1, `task ${t.id} spans ${ids.size} traces`);
      traceIds.add([...ids][0]!);
      const trace = traceOf(t.id);
      const services = new Set(trace.map((s) => s.resource['service.name']));
      assert.deepEqual([...services].sort(), ['an-ki-an', 'an-ki-ki', 'an-ki-principal'], `services of task ${t.id}`);
      const roles = new Set(trace.map((s) => s.resource['anki.role']));
      assert.deepEqual([...roles].sort(), [...ROLES].sort());
      for (const s of trace) {
        assert.equal(s.resource['service.instance.id'], { principal: 'p1', an: 'an1', ki: 'ki1' }[s.resource['anki.role'] as string]);
        assert.ok(s.resource['service.version'], 'service.version');
      }
    }
    assert.equal(traceIds.size, tasks.length, 'one trace per task');
  });

  it('keeps parent and child linked across the processes: one root, every parent present, submit → publish → schedule → execute → result', async () => {
    // A publish span ends at the broker's confirm, which may come after its consumer's span ended
    // elsewhere: the parent can arrive a batch later than the child.
    const orphans = (trace: ReceivedSpan[]) => {
      const spanIds = new Set(trace.map((s) => s.spanId));
      return trace.filter((s) => s.parentSpanId && !spanIds.has(s.parentSpanId)).map((s) => s.name);
    };
    await waitFor(() => tasks.flatMap((t) => orphans(traceOf(t.id))), (names) => names.length === 0, { timeoutMs: 10_000, what: 'every parent span exported' });
    for (const t of tasks) {
      const trace = traceOf(t.id);
      const roots = trace.filter((s) => !s.parentSpanId);
      assert.equal(roots.length, 1, `task ${t.id}: one root (the REST request), got ${roots.map((r) => r.name).join(', ')}`);
      const chain = [SPAN.taskSubmit, SPAN.taskPublish, SPAN.taskSchedule, SPAN.taskExecute, SPAN.taskResult].map((name) => {
        const span = trace.find((s) => s.name === name && s.attributes[TASK_ID] === t.id);
        assert.ok(span, `task ${t.id}: no ${name}`);
        return span;
      });
      for (let i = 1; i < chain.length; i++) assert.equal(chain[i]!.parentSpanId, chain[i - 1]!.spanId, `task ${t.id}: parent of ${chain[i]!.name}`);
    }
  });

  it('exports log records of every role, with the resource of their node, and the trace id of a line written inside a span', async () => {
    const failed = tasks.find((t) => t.type === 'fail')!;
    const failedTrace = spansOf(failed.id)[0]!.traceId;
    const traceIds = new Set(tasks.map((t) => spansOf(t.id)[0]!.traceId));
    const withTrace = (role: string) => receiver.logs.filter((l) => l.resource['anki.role'] === role && traceIds.has(l.traceId));
    await waitFor(() => ROLES.every((role) => withTrace(role).length > 0), Boolean, { what: 'traced log records of every role' });
    for (const role of ROLES) {
      const records = receiver.logs.filter((l) => l.resource['anki.role'] === role);
      assert.ok(records.some((l) => !l.traceId), `${role}: lines outside any span are exported too`);
      for (const l of records) assert.equal(l.resource['service.name'], `an-ki-${role}`);
    }
    const admitted = withTrace('principal').filter((l) => l.body === 'tasks admitted');
    assert.deepEqual(new Set(admitted.map((l) => l.traceId)), traceIds, 'each admission is logged in its task\'s trace');
    assert.ok(withTrace('ki').some((l) => l.body === 'attempt failed' && l.traceId === failedTrace), 'the Ki logs the failed attempt in its trace');
    assert.ok(withTrace('an').some((l) => l.body === 'task failed' && l.traceId === failedTrace), 'the An logs the failed task in its trace');
    for (const l of [...withTrace('ki'), ...withTrace('an')]) assert.match(l.spanId, /^[0-9a-f]{16}$/);
  });

  it('flushes what is still batched when a node stops', async () => {
    // Batches that would wait ten minutes: whatever arrives, arrives because SIGTERM flushed it.
    const late: NodeProcess = await cluster.start('ki', { id: 'ki-flush', env: { OTEL_BLRP_SCHEDULE_DELAY: '600000', OTEL_BSP_SCHEDULE_DELAY: '600000' } });
    const fromLate = () => receiver.logs.filter((l) => l.resource['service.instance.id'] === 'ki-flush');
    assert.deepEqual(fromLate(), [], 'nothing exported before the batch is due');
    assert.equal(await late.kill('SIGTERM'), 0);
    await waitFor(() => fromLate().map((l) => l.body), (bodies) => bodies.includes('ki ready') && bodies.includes('shutting down'), { what: 'the stopped Ki\'s log records' });
  });

  it('exports no secret of the nodes in a span or a log record', () => {
    const leak = secretLeak('the OTLP exports', JSON.stringify({ spans: receiver.spans, logs: receiver.logs }));
    assert.equal(leak, undefined, leak);
  });
});

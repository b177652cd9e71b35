import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { createIsolation, type Isolation } from '../../helpers/isolation';
import { waitFor } from '../../helpers/wait';
import { DEV_AES_KEYS, DEV_JWT_SECRET } from '../../../src/config/schema';
import { createMetrics, silentLogger } from '../../../src/observability';
import { ATTR, SPAN } from '../../../src/observability/span-names';
import { currentTraceparent, startTracing, withSpan, type Tracing } from '../../../src/observability/tracing';
import { anInbox, kiInbox, pendingBand } from '../../../src/protocol/destinations';
import type { MessageOf } from '../../../src/protocol/messages';
import { topologyNames, type TopologyNames } from '../../../src/protocol/names';
import { EnvelopeCodec, NodeTokenAuthority, OwnToken, parseKeyRing, ReplayGuard, type NodeRole } from '../../../src/security';
import { AmqpTransport, MessageBus, type Received } from '../../../src/transport';

/** One "node": its own connection, its own sealing identity (node id and role token), its own replay guard. */
function makeNode(iso: Isolation, nodeId: string, role: NodeRole) {
  const names = topologyNames(iso.prefix);
  const tokens = new NodeTokenAuthority(DEV_JWT_SECRET, { ttlSec: 600, clockToleranceSec: 5 });
  const codec = new EnvelopeCodec({
    nodeId, keys: parseKeyRing(DEV_AES_KEYS), tokens, ownToken: new OwnToken(tokens, { sub: nodeId, role }, 600),
    replay: new ReplayGuard(60_000), replayWindowMs: 60_000, maxMessageBytes: 1 << 20,
  });
  const transport = new AmqpTransport({ urls: [iso.amqpUrl], names, heartbeatSec: 5, reconnectMaxDelayMs: 1000, publishTimeoutMs: 10_000, connectionName: `${role}:${nodeId}` });
  const bus = new MessageBus({ transport, codec, metrics: createMetrics(new Registry(), role), log: silentLogger() });
  return { nodeId, names, transport, bus };
}
type Node = ReturnType<typeof makeNode>;

const specOf = (id: string) => ({
  id, type: 'echo', payload: { hello: 'trace' }, priority: 5, requirements: { gpus: 0, gpuMemoryMiB: 0, labels: [] },
  timeoutMs: 10_000, maxAttempts: 1, owner: 'alice', createdAtMs: Date.now(),
});

const spanOf = (spans: ReadableSpan[], name: string, taskId: string): ReadableSpan => {
  const s = spans.find((x) => x.name === name && x.attributes[ATTR.taskId] === taskId);
  assert.ok(s, `no ${name} span of task ${taskId}; have ${spans.map((x) => x.name).join(', ')}`);
  return s;
};

describe('trace context across principal → An → Ki → An over sealed RabbitMQ messages', function () {
  this.timeout(60_000);
  let iso: Isolation;
  let tracing: Tracing;
  let memory: InMemorySpanExporter;
  let principal: Node;
  let an: Node;
  let ki: Node;
  /** Whether a span was active when a handler was entered: it must not be, or the test would prove nothing. */
  const ambient: string[] = [];
  /** Set per test: whether the An opens its own span or only forwards the trace it received. */
  let anTraces = true;

  const noteAmbient = (where: string) => { if (trace.getActiveSpan()) ambient.push(where); };

  before(async () => {
    iso = await createIsolation('tracing');
    memory = new InMemorySpanExporter();
    // amqplib is already loaded by the imports above, so the instrumentations could not patch it anyway.
    tracing = startTracing({
      role: 'standalone', nodeId: 'test', version: '0.0.0', enabled: false, endpoint: 'http://localhost:4317', protocol: 'grpc', sampleRatio: 1,
      exporter: memory, instrumentations: false,
    }, {});
    principal = makeNode(iso, 'p1', 'principal');
    an = makeNode(iso, 'a1', 'an');
    ki = makeNode(iso, 'k1', 'ki');
    for (const n of [principal, an, ki]) await n.transport.start();
    const names: TopologyNames = an.names;

    // An: a pending task → schedule it onto k1.
    await an.bus.subscribe({ name: names.pendingFor(5), kind: 'quorum' }, 10, ['task.pending'], async ({ msg, delivery }: Received) => {
      noteAmbient('an pending');
      const { items: [p] } = msg.payload as MessageOf<'task.pending'>;
      if (!p) throw new Error('a pending message without items');
      const assign = () => an.bus.send(kiInbox(names, ki.nodeId), 'task.assign', { v: 1, an: an.nodeId, items: [{ task: p.task, attempt: p.attempts + 1, gpus: [] }] }, { trace: currentTraceparent() ?? msg.trace });
      if (anTraces) await withSpan(SPAN.taskSchedule, { [ATTR.taskId]: p.task.id, [ATTR.nodeId]: an.nodeId, [ATTR.kiId]: ki.nodeId }, assign, msg.trace);
      else await assign();
      delivery.ack();
    });
    // Ki: run the assignment and report to the An from inside the execute span.
    await ki.bus.subscribe({ name: names.inbox('ki', ki.nodeId), kind: 'durable' }, 10, ['task.assign'], async ({ msg, delivery }: Received) => {
      noteAmbient('ki assign');
      const { an: anId, items: [a] } = msg.payload as MessageOf<'task.assign'>;
      if (!a) throw new Error('an assignment without items');
      await withSpan(SPAN.taskExecute, { [ATTR.taskId]: a.task.id, [ATTR.attempt]: a.attempt, [ATTR.nodeId]: ki.nodeId }, async () => {
        const startedAtMs = Date.now();
        // The result carries its trace per item, as a Ki's batched results do.
        const trace = currentTraceparent() ?? msg.trace;
        await ki.bus.send(anInbox(names, anId), 'task.result', {
          v: 1, ki: ki.nodeId, items: [{ taskId: a.task.id, attempt: a.attempt, startedAtMs, finishedAtMs: Date.now(), ok: true, result: a.task.payload, ...(trace ? { trace } : {}) }],
        });
      }, msg.trace);
      delivery.ack();
    });
    // An: the result → write the outcome (here: nothing to write).
    await an.bus.subscribe({ name: names.inbox('an', an.nodeId), kind: 'durable' }, 10, ['task.started', 'task.progress', 'task.result'], async ({ msg, delivery }: Received) => {
      noteAmbient('an result');
      const { ki: kiId, items: [r] } = msg.payload as MessageOf<'task.result'>;
      if (!r) throw new Error('a result without items');
      await withSpan(SPAN.taskResult, { [ATTR.taskId]: r.taskId, [ATTR.attempt]: r.attempt, [ATTR.kiId]: kiId, [ATTR.taskStatus]: r.ok ? 'succeeded' : 'failed' }, async () => undefined, r.trace ?? msg.trace);
      delivery.ack();
    });
  });

  after(async () => {
    for (const n of [principal, an, ki]) await n?.transport.stop();
    await tracing?.shutdown();
    await iso?.destroy();
  });

  beforeEach(() => { memory.reset(); ambient.length = 0; anTraces = true; });

  /** The principal's side: admission span, publish span, and the pending message sent from inside it. */
  async function submit(taskId: string): Promise<void> {
    await withSpan(SPAN.taskSubmit, { [ATTR.taskId]: taskId, [ATTR.nodeId]: principal.nodeId }, () =>
      withSpan(SPAN.taskPublish, { [ATTR.taskId]: taskId }, () =>
        principal.bus.send(pendingBand(principal.names, 5), 'task.pending', { v: 1, items: [{ task: specOf(taskId), attempts: 0 }] }, { persistent: true, trace: currentTraceparent() })));
  }

  it('puts submit, publish, schedule, execute and result in one trace, each the child of the one before', async () => {
    const taskId = randomUUID();
    await submit(taskId);
    const spans = await waitFor(() => memory.getFinishedSpans(), (s) => s.some((x) => x.name === SPAN.taskResult && x.attributes[ATTR.taskId] === taskId), { what: 'the task.result span' });

    const chain = [SPAN.taskSubmit, SPAN.taskPublish, SPAN.taskSchedule, SPAN.taskExecute, SPAN.taskResult].map((name) => spanOf(spans, name, taskId));
    const traceId = chain[0]!.spanContext().traceId;
    for (const s of chain) assert.equal(s.spanContext().traceId, traceId, `${s.name} is in the submission's trace`);
    assert.equal(chain[0]!.parentSpanContext, undefined, 'task.submit starts the trace');
    for (let i = 1; i < chain.length; i++) {
      assert.equal(chain[i]!.parentSpanContext?.spanId, chain[i - 1]!.spanContext().spanId, `${chain[i]!.name} is the child of ${chain[i - 1]!.name}`);
    }
    // The three hops crossed the broker: their parents came out of the sealed message, not out of this process's context.
    for (const s of chain.slice(2)) assert.equal(s.parentSpanContext?.isRemote, true, `${s.name} has a remote parent`);
    assert.deepEqual(ambient, [], 'no span was active when a handler was entered');
    assert.equal(spans.filter((s) => s.spanContext().traceId === traceId).length, 5, 'nothing else joined the trace');
  });

  it('keeps one trace through a node that records no span of its own but forwards the trace it received', async () => {
    anTraces = false;
    const taskId = randomUUID();
    await submit(taskId);
    const spans = await waitFor(() => memory.getFinishedSpans(), (s) => s.some((x) => x.name === SPAN.taskResult && x.attributes[ATTR.taskId] === taskId), { what: 'the task.result span' });
    const publish = spanOf(spans, SPAN.taskPublish, taskId);
    const execute = spanOf(spans, SPAN.taskExecute, taskId);
    assert.equal(spans.some((s) => s.name === SPAN.taskSchedule), false);
    assert.equal(execute.spanContext().traceId, publish.spanContext().traceId);
    assert.equal(execute.parentSpanContext?.spanId, publish.spanContext().spanId, 'the Ki continues from the publish span');
    assert.equal(spanOf(spans, SPAN.taskResult, taskId).parentSpanContext?.spanId, execute.spanContext().spanId);
  });

  it('starts a new trace at the An when the pending message carries none', async () => {
    const taskId = randomUUID();
    await principal.bus.send(pendingBand(principal.names, 5), 'task.pending', { v: 1, items: [{ task: specOf(taskId), attempts: 0 }] }, { persistent: true });
    const spans = await waitFor(() => memory.getFinishedSpans(), (s) => s.some((x) => x.name === SPAN.taskResult && x.attributes[ATTR.taskId] === taskId), { what: 'the task.result span' });
    const schedule = spanOf(spans, SPAN.taskSchedule, taskId);
    assert.equal(schedule.parentSpanContext, undefined, 'task.schedule is a root span');
    const execute = spanOf(spans, SPAN.taskExecute, taskId);
    assert.equal(execute.spanContext().traceId, schedule.spanContext().traceId);
    assert.equal(execute.parentSpanContext?.spanId, schedule.spanContext().spanId);
  });
});

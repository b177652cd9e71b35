import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SamplingDecision, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ConfigError, StoreUnavailableError } from '../../../src/errors';
import { readSpanFile } from '../../../src/observability/span-file-exporter';
import { ATTR, SPAN } from '../../../src/observability/span-names';
import { formatTraceparent, parseTraceparent, traceIdOf } from '../../../src/observability/trace-context';
import { activeTraceId, currentTraceparent, markFailed, startTracing, TracingStateError, withSpan, type Tracing, type TracingOptions } from '../../../src/observability/tracing';
import { resolveTracingOptions } from '../../../src/observability/tracing-options';
import { createSampler } from '../../../src/observability/tracing-sdk';

const run = promisify(execFile);

const BASE: TracingOptions = {
  role: 'principal', nodeId: 'p1', version: '1.2.3', enabled: false, endpoint: 'http://localhost:4317', protocol: 'grpc', sampleRatio: 1,
  instrumentations: false,
};

const byName = (spans: ReadableSpan[], name: string): ReadableSpan => {
  const s = spans.find((x) => x.name === name);
  assert.ok(s, `no span ${name} among ${spans.map((x) => x.name).join(', ')}`);
  return s;
};

describe('tracing with an in-memory exporter', () => {
  let memory: InMemorySpanExporter;
  let tracing: Tracing;

  beforeEach(() => {
    memory = new InMemorySpanExporter();
    tracing = startTracing({ ...BASE, exporter: memory }, {});
  });
  afterEach(async () => { await tracing.shutdown(); });

  it('is active and names the service after the role, node and version', async () => {
    assert.equal(tracing.active, true);
    withSpan(SPAN.taskSubmit, {}, () => undefined);
    const [span] = memory.getFinishedSpans();
    assert.ok(span);
    await span.resource.waitForAsyncAttributes?.();
    assert.equal(span.resource.attributes['service.name'], 'an-ki-principal');
    assert.equal(span.resource.attributes['service.instance.id'], 'p1');
    assert.equal(span.resource.attributes['service.version'], '1.2.3');
    assert.equal(span.resource.attributes['anki.role'], 'principal');
    assert.equal(span.resource.attributes['process.command_args'], undefined, 'the command line (which may hold secrets) is not exported');
  });

  it('nests a span inside the active one and returns what the function returned', () => {
    const out = withSpan(SPAN.taskSubmit, { [ATTR.taskId]: 't1' }, () => withSpan(SPAN.taskInsert, {}, () => 42));
    assert.equal(out, 42);
    const spans = memory.getFinishedSpans();
    const submit = byName(spans, SPAN.taskSubmit);
    const insert = byName(spans, SPAN.taskInsert);
    assert.equal(insert.spanContext().traceId, submit.spanContext().traceId);
    assert.equal(insert.parentSpanContext?.spanId, submit.spanContext().spanId);
    assert.equal(submit.parentSpanContext, undefined);
    assert.equal(submit.attributes[ATTR.taskId], 't1');
    assert.equal(submit.kind, SpanKind.INTERNAL);
    assert.ok(submit.ended && insert.ended);
  });

  it('keeps the parent across awaits and ends an async span when its promise settles', async () => {
    const out = await withSpan(SPAN.taskSubmit, {}, async () => {
      await new Promise((r) => setTimeout(r, 5));
      await withSpan(SPAN.taskInsert, {}, async () => { await new Promise((r) => setImmediate(r)); });
      await new Promise((r) => setTimeout(r, 5));
      const sent = await withSpan(SPAN.taskPublish, {}, async () => 'sent');
      assert.deepEqual(memory.getFinishedSpans().map((x) => x.name), [SPAN.taskInsert, SPAN.taskPublish], 'the outer span is still open');
      return sent;
    });
    assert.equal(out, 'sent');
    const spans = memory.getFinishedSpans();
    const submit = byName(spans, SPAN.taskSubmit);
    for (const child of [SPAN.taskInsert, SPAN.taskPublish]) assert.equal(byName(spans, child).parentSpanContext?.spanId, submit.spanContext().spanId, child);
    assert.equal(byName(spans, SPAN.taskPublish).kind, SpanKind.PRODUCER);
    assert.ok(submit.ended);
  });

  it('continues the trace of a traceparent made in another node, as child of the sending span', async () => {
    let sent: string | undefined;
    let sender: { traceId: string; spanId: string } | undefined;
    withSpan(SPAN.taskPublish, {}, (span) => {
      sent = currentTraceparent();
      sender = span.spanContext();
    });
    assert.ok(sent && sender);
    assert.match(sent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.equal(traceIdOf(sent), sender.traceId);
    // The receiving "node": nothing of the sender's context is active, only the string travelled.
    await context.with(ROOT_CONTEXT, async () => {
      assert.equal(trace.getActiveSpan(), undefined);
      assert.equal(currentTraceparent(), undefined, 'no active span, no traceparent');
      await withSpan(SPAN.taskSchedule, { [ATTR.nodeId]: 'a1' }, async () => {
        assert.equal(activeTraceId(), sender!.traceId);
      }, sent);
    });
    const schedule = byName(memory.getFinishedSpans(), SPAN.taskSchedule);
    assert.equal(schedule.spanContext().traceId, sender.traceId);
    assert.equal(schedule.parentSpanContext?.spanId, sender.spanId);
    assert.equal(schedule.parentSpanContext?.isRemote, true);
    assert.equal(schedule.kind, SpanKind.CONSUMER);
  });

  it('prefers the given traceparent over the active span', () => {
    const remote = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    withSpan(SPAN.taskSubmit, {}, () => withSpan(SPAN.taskResult, {}, () => undefined, remote));
    const result = byName(memory.getFinishedSpans(), SPAN.taskResult);
    assert.equal(result.spanContext().traceId, '0af7651916cd43dd8448eb211c80319c');
    assert.equal(result.parentSpanContext?.spanId, 'b7ad6b7169203331');
  });

  it('falls back to the active span when the traceparent is malformed', () => {
    withSpan(SPAN.taskSubmit, {}, () => withSpan(SPAN.taskResult, {}, () => undefined, 'not-a-traceparent'));
    const spans = memory.getFinishedSpans();
    assert.equal(byName(spans, SPAN.taskResult).parentSpanContext?.spanId, byName(spans, SPAN.taskSubmit).spanContext().spanId);
  });

  it('records a thrown error on the span and throws it on unchanged', () => {
    const boom = new Error('boom');
    assert.throws(() => withSpan(SPAN.taskExecute, {}, () => { throw boom; }), (err) => err === boom);
    const span = byName(memory.getFinishedSpans(), SPAN.taskExecute);
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.status.message, 'boom');
    assert.equal(span.attributes['error.type'], 'Error');
    const event = span.events.find((e) => e.name === 'exception');
    assert.equal(event?.attributes?.['exception.message'], 'boom');
    assert.ok(span.ended);
  });

  it('records a rejection with the platform error code as error.type', async () => {
    const err = new StoreUnavailableError('store down');
    await assert.rejects(withSpan(SPAN.taskInsert, {}, async () => { throw err; }), (e) => e === err);
    const span = byName(memory.getFinishedSpans(), SPAN.taskInsert);
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes['error.type'], 'STORE_UNAVAILABLE');
    assert.ok(span.events.some((e) => e.name === 'exception'));
  });

  it('marks a span failed for an error outcome that was not thrown', () => {
    withSpan(SPAN.taskExecute, {}, (span) => markFailed(span, { code: 'EXIT_CODE', message: 'exited with 3' }));
    const span = byName(memory.getFinishedSpans(), SPAN.taskExecute);
    assert.deepEqual(span.status, { code: SpanStatusCode.ERROR, message: 'exited with 3' });
    assert.equal(span.attributes['error.type'], 'EXIT_CODE');
    assert.equal(span.events.length, 0);
  });

  it('leaves the status unset on success', () => {
    withSpan(SPAN.taskResult, {}, () => undefined);
    assert.equal(byName(memory.getFinishedSpans(), SPAN.taskResult).status.code, SpanStatusCode.UNSET);
  });

  it('starts the span at the given time when the work began before the call', () => {
    const receivedAtMs = Date.now() - 1500;
    withSpan(SPAN.taskSchedule, {}, () => undefined, undefined, { startTimeMs: receivedAtMs });
    const span = byName(memory.getFinishedSpans(), SPAN.taskSchedule);
    const startMs = span.startTime[0] * 1000 + span.startTime[1] / 1e6;
    assert.ok(Math.abs(startMs - receivedAtMs) < 1, `started at ${startMs}, expected ${receivedAtMs}`);
  });

  it('follows a parent that was not sampled: no span, and the decision travels on', () => {
    const unsampled = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00';
    let forwarded: string | undefined;
    withSpan(SPAN.taskExecute, {}, () => { forwarded = currentTraceparent(); }, unsampled);
    assert.equal(memory.getFinishedSpans().length, 0);
    assert.ok(forwarded);
    assert.equal(traceIdOf(forwarded), '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.ok(forwarded.endsWith('-00'), forwarded);
  });

  it('refuses a second start while running', () => {
    assert.throws(() => startTracing({ ...BASE, exporter: new InMemorySpanExporter() }, {}), TracingStateError);
  });

  it('stops recording after shutdown, and can start again', async () => {
    await tracing.shutdown();
    await tracing.shutdown(); // idempotent
    withSpan(SPAN.taskSubmit, {}, () => assert.equal(currentTraceparent(), undefined));
    assert.equal(memory.getFinishedSpans().length, 0);
    const again = new InMemorySpanExporter();
    tracing = startTracing({ ...BASE, exporter: again }, {});
    withSpan(SPAN.taskSubmit, {}, () => undefined);
    assert.equal(again.getFinishedSpans().length, 1);
  });
});

describe('tracing turned off', () => {
  it('starts nothing: spans are no-ops and there is no traceparent', () => {
    const tracing = startTracing(BASE, {});
    assert.equal(tracing.active, false);
    const out = withSpan(SPAN.taskSubmit, { [ATTR.taskId]: 't' }, (span) => {
      assert.equal(span.isRecording(), false);
      assert.equal(currentTraceparent(), undefined);
      assert.equal(activeTraceId(), undefined);
      assert.equal(trace.getActiveSpan(), undefined, 'no span was made active');
      return 'done';
    }, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    assert.equal(out, 'done');
  });

  it('lets markFailed be called on the span it hands out', () => {
    withSpan(SPAN.taskExecute, {}, (span) => markFailed(span, { code: 'X', message: 'y' }));
  });

  it('passes errors through untouched', async () => {
    const err = new Error('x');
    await assert.rejects(withSpan(SPAN.taskExecute, {}, async () => { throw err; }), (e) => e === err);
  });

  it('ignores an invalid endpoint and sample ratio, which only matter when tracing is on', () => {
    assert.equal(startTracing({ ...BASE, endpoint: 'nonsense', sampleRatio: 7 }, {}).active, false);
  });

  it('honours OTEL_SDK_DISABLED even with export enabled', () => {
    assert.equal(startTracing({ ...BASE, enabled: true }, { OTEL_SDK_DISABLED: 'true' }).active, false);
  });

  it('does not even load the SDK', async function () {
    this.timeout(30_000);
    const script = [
      "const { startTracing, withSpan } = require('./src/observability/tracing');",
      "const t = startTracing({ role: 'ki', nodeId: 'k', version: '0', enabled: false, endpoint: 'http://localhost:4317', protocol: 'grpc', sampleRatio: 1 }, {});",
      "withSpan('task.execute', {}, () => undefined);",
      "const loaded = Object.keys(require.cache).filter((k) => /sdk-node|sdk-trace|exporter-trace|instrumentation/.test(k));",
      'console.log(JSON.stringify({ active: t.active, loaded }));',
    ].join('\n');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '-e', script], { cwd: join(__dirname, '../../..') });
    assert.deepEqual(JSON.parse(stdout.trim().split('\n').pop()!), { active: false, loaded: [] });
  });
});

describe('instrumentations', () => {
  it('patch http, koa, pg and amqplib when they are required after startTracing', async function () {
    this.timeout(30_000);
    const script = [
      "const { join } = require('node:path');",
      "const { startTracing } = require('./src/observability/tracing');",
      "const t = startTracing({ role: 'standalone', nodeId: 's', version: '0', enabled: false, endpoint: 'http://localhost:4317', protocol: 'grpc', sampleRatio: 1, spanFile: join(require('node:os').tmpdir(), 'unused-spans.jsonl') }, {});",
      "const koa = require('koa'); const pg = require('pg'); require('amqplib'); const http = require('node:http');",
      // amqplib's exports map hides the file the instrumentation patches; its absolute path does not.
      "const channels = require(join(process.cwd(), 'node_modules/amqplib/lib/channel_model.js'));",
      'const wrapped = (f) => Boolean(f && f.__wrapped);',
      'const out = { active: t.active, koa: wrapped(koa.prototype.use), pg: wrapped(pg.Client.prototype.query), amqplib: wrapped(channels.ConfirmChannel.prototype.publish), http: wrapped(http.Server.prototype.emit) };',
      't.shutdown().then(() => { out.koaAfterShutdown = wrapped(koa.prototype.use); console.log(JSON.stringify(out)); });',
    ].join('\n');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '-e', script], { cwd: join(__dirname, '../../..') });
    assert.deepEqual(JSON.parse(stdout.trim().split('\n').pop()!), { active: true, koa: true, pg: true, amqplib: true, http: true, koaAfterShutdown: false });
  });
});

describe('tracing to a span file (OTEL_TEST_SPAN_FILE)', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'anki-spans-')); });
  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

  it('writes each finished span as a JSON line with its ids, parent, attributes and service', async () => {
    const file = join(dir, 'spans.jsonl');
    const tracing = startTracing({ ...BASE, role: 'an', nodeId: 'a7' }, { OTEL_TEST_SPAN_FILE: file });
    try {
      assert.equal(tracing.active, true, 'the span file alone turns recording on');
      withSpan(SPAN.taskSchedule, { [ATTR.taskId]: 't9', [ATTR.attempt]: 2 }, () => withSpan(SPAN.taskInsert, {}, () => undefined));
      assert.throws(() => withSpan(SPAN.taskResult, {}, () => { throw new Error('late'); }));
    } finally {
      await tracing.shutdown();
    }
    const spans = readSpanFile(file);
    assert.deepEqual(spans.map((s) => s.name).sort(), [SPAN.taskInsert, SPAN.taskResult, SPAN.taskSchedule].sort());
    const schedule = spans.find((s) => s.name === SPAN.taskSchedule)!;
    const insert = spans.find((s) => s.name === SPAN.taskInsert)!;
    assert.equal(schedule.serviceName, 'an-ki-an');
    assert.equal(schedule.nodeId, 'a7');
    assert.deepEqual(schedule.attributes, { [ATTR.taskId]: 't9', [ATTR.attempt]: 2 });
    assert.equal(schedule.parentSpanId, undefined);
    assert.equal(insert.traceId, schedule.traceId);
    assert.equal(insert.parentSpanId, schedule.spanId);
    assert.ok(schedule.endTimeMs >= schedule.startTimeMs);
    const failed = spans.find((s) => s.name === SPAN.taskResult)!;
    assert.equal(failed.status.code, SpanStatusCode.ERROR);
    assert.deepEqual(failed.events, ['exception']);
  });

  it('reads an absent file as no spans and skips a line cut off mid-write', () => {
    assert.deepEqual(readSpanFile(join(dir, 'none.jsonl')), []);
    const file = join(dir, 'cut.jsonl');
    writeFileSync(file, `${JSON.stringify({ name: SPAN.taskSubmit, traceId: 'a', spanId: 'b' })}\n{"name":"task.ins`);
    assert.deepEqual(readSpanFile(file).map((s) => s.name), [SPAN.taskSubmit]);
  });
});

describe('traceparent', () => {
  const valid = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

  it('round-trips through a span context', () => {
    const sc = parseTraceparent(valid);
    assert.deepEqual(sc, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1, isRemote: true });
    assert.equal(formatTraceparent(sc), valid);
  });

  it('accepts a later version with extra fields, as the W3C spec asks', () => {
    assert.equal(parseTraceparent('01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra')?.spanId, 'b7ad6b7169203331');
  });

  for (const bad of [
    undefined, '', 'garbage', 42,
    '00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01', // uppercase
    'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', // forbidden version
    '00-00000000000000000000000000000000-b7ad6b7169203331-01', // zero trace id
    '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01', // zero span id
    '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x', // version 00 has four fields
    `00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-${'x'.repeat(1000)}`,
  ]) {
    it(`rejects ${JSON.stringify(bad)?.slice(0, 60)}`, () => {
      assert.equal(parseTraceparent(bad), undefined);
      assert.equal(traceIdOf(bad as string), undefined);
    });
  }
});

describe('tracing options', () => {
  it('refuses a sample ratio outside 0..1 when tracing is on', () => {
    assert.throws(() => resolveTracingOptions({ ...BASE, enabled: true, sampleRatio: 1.5 }, {}), (e) => e instanceof ConfigError && /OTEL_SAMPLE_RATIO/.test(e.message));
  });

  it('exports over OTLP only when enabled, and an injected exporter replaces OTLP', () => {
    assert.equal(resolveTracingOptions(BASE, {}), undefined);
    assert.deepEqual(resolveTracingOptions({ ...BASE, enabled: true, protocol: 'http/protobuf', endpoint: 'http://c:4318' }, {})?.otlp, { protocol: 'http/protobuf', url: 'http://c:4318/v1/traces' });
    assert.equal(resolveTracingOptions({ ...BASE, enabled: true, exporter: new InMemorySpanExporter() }, {})?.otlp, undefined);
  });
});

describe('sampler', () => {
  const traceId = '0af7651916cd43dd8448eb211c80319c';
  const sampledParent = trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: 'b7ad6b7169203331', traceFlags: 1, isRemote: true });

  it('drops broker spans that start a trace (heartbeats, ticks) but keeps the platform spans and REST requests', () => {
    const s = createSampler(1);
    assert.equal(s.shouldSample(ROOT_CONTEXT, traceId, 'publish anki.control', SpanKind.PRODUCER, {}, []).decision, SamplingDecision.NOT_RECORD);
    assert.equal(s.shouldSample(ROOT_CONTEXT, traceId, 'anki.election process', SpanKind.CONSUMER, {}, []).decision, SamplingDecision.NOT_RECORD);
    assert.equal(s.shouldSample(ROOT_CONTEXT, traceId, SPAN.taskExecute, SpanKind.CONSUMER, {}, []).decision, SamplingDecision.RECORD_AND_SAMPLED);
    assert.equal(s.shouldSample(ROOT_CONTEXT, traceId, 'POST /tasks', SpanKind.SERVER, {}, []).decision, SamplingDecision.RECORD_AND_SAMPLED);
  });

  it('keeps a broker span inside a sampled trace', () => {
    assert.equal(createSampler(1).shouldSample(sampledParent, traceId, 'publish <default>', SpanKind.PRODUCER, {}, []).decision, SamplingDecision.RECORD_AND_SAMPLED);
  });

  it('applies the ratio to new traces only; a sampled parent wins', () => {
    const s = createSampler(0);
    assert.equal(s.shouldSample(ROOT_CONTEXT, traceId, 'POST /tasks', SpanKind.SERVER, {}, []).decision, SamplingDecision.NOT_RECORD);
    assert.equal(s.shouldSample(sampledParent, traceId, SPAN.taskSchedule, SpanKind.CONSUMER, {}, []).decision, SamplingDecision.RECORD_AND_SAMPLED);
  });
});

import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

interface Exported {
  stdout: Record<string, unknown>[];
  insideTraceId: string;
  records: { body: unknown; severity: string; attributes: Record<string, unknown>; traceId?: string; resource: Record<string, unknown> }[];
}

/**
 * The pino bridge patches pino when it is loaded, as the real node loads it after startTracing
 * (main.ts); this mocha process loaded pino long ago, so the check runs in a fresh process.
 */
async function exportLogsInAFreshProcess(): Promise<Exported> {
  const script = [
    "const { InMemoryLogRecordExporter } = require('@opentelemetry/sdk-logs');",
    "const { InMemorySpanExporter } = require('@opentelemetry/sdk-trace-base');",
    "const { startTracing, withSpan, activeTraceId } = require('./src/observability/tracing');",
    'const memory = new InMemoryLogRecordExporter();',
    "const t = startTracing({ role: 'an', nodeId: 'a1', version: '9.9.9', enabled: '', endpoint: '', protocol: '', sampleRatio: 1, exporter: new InMemorySpanExporter(), logExporter: memory }, {});",
    "const { createLogger } = require('./src/observability/logger');",
    'const stdout = [];',
    "const log = createLogger({ nodeId: 'a1', role: 'an', level: 'info', destination: { write: (line) => stdout.push(JSON.parse(line)) } });",
    "log.info({ token: 'tok-0123456789abcdef', nested: { password: 'pw-0123456789abcdef' } }, 'outside any span');",
    'let insideTraceId;',
    "withSpan('task.schedule', {}, () => { insideTraceId = activeTraceId(); log.child({ component: 'an' }).warn({ taskId: 't1' }, 'inside a span'); });",
    'const records = memory.getFinishedLogRecords().map((r) => ({ body: r.body, severity: r.severityText, attributes: r.attributes, traceId: r.spanContext?.traceId, resource: r.resource.attributes }));',
    't.shutdown().then(() => console.log(JSON.stringify({ stdout, insideTraceId, records })));',
  ].join('\n');
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '-e', script], { cwd: join(__dirname, '../../..') });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Exported;
}

describe('log records exported through the pino bridge', function () {
  this.timeout(30_000);
  let out: Exported;
  before(async () => { out = await exportLogsInAFreshProcess(); });

  it('exports every line with its level, message and fields, and keeps writing the same lines to stdout', () => {
    assert.deepEqual(out.records.map((r) => [r.body, r.severity]), [['outside any span', 'info'], ['inside a span', 'warn']]);
    assert.equal(out.records[1]?.attributes['taskId'], 't1');
    assert.equal(out.records[1]?.attributes['component'], 'an');
    assert.deepEqual(out.stdout.map((l) => l['msg']), ['outside any span', 'inside a span']);
    for (const line of out.stdout) {
      assert.equal(line['trace_id'], undefined, 'stdout lines keep their shape: no fields of the bridge');
      assert.equal(line['span_id'], undefined);
    }
  });

  it('carries the trace and span of a line written inside a span, and none outside', () => {
    assert.match(out.insideTraceId, /^[0-9a-f]{32}$/);
    assert.equal(out.records[1]?.traceId, out.insideTraceId);
    assert.equal(out.records[0]?.traceId, undefined);
    assert.equal(out.stdout[1]?.['traceId'], out.insideTraceId, 'stdout keeps its own traceId field');
  });

  it('describes the node with the same resource as its spans', () => {
    for (const r of out.records) {
      assert.equal(r.resource['service.name'], 'an-ki-an');
      assert.equal(r.resource['service.instance.id'], 'a1');
      assert.equal(r.resource['service.version'], '9.9.9');
      assert.equal(r.resource['anki.role'], 'an');
    }
  });

  it('exports secrets the way stdout shows them: redacted', () => {
    const text = JSON.stringify(out.records);
    assert.ok(!text.includes('tok-0123456789abcdef') && !text.includes('pw-0123456789abcdef'), text);
    assert.equal(out.records[0]?.attributes['token'], '[redacted]');
  });
});

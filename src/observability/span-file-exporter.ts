import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import type { Attributes, HrTime } from '@opentelemetry/api';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

type ExportResult = Parameters<Parameters<SpanExporter['export']>[1]>[0];
/** `ExportResultCode` of `@opentelemetry/core`, which is not a dependency of its own. */
const SUCCESS = 0 as ExportResult['code'];
const FAILED = 1 as ExportResult['code'];

/** One finished span, as a line of a span file. */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  /** Absent on a root span. */
  parentSpanId?: string;
  name: string;
  /** `SpanKind` number (0 internal, 1 server, 2 client, 3 producer, 4 consumer). */
  kind: number;
  attributes: Attributes;
  /** `service.name` of the process that recorded it, e.g. `an-ki-ki`. */
  serviceName: string;
  /** `service.instance.id`: the node id. */
  nodeId: string;
  /** `SpanStatusCode` number (0 unset, 1 ok, 2 error) and its message. */
  status: { code: number; message?: string };
  startTimeMs: number;
  endTimeMs: number;
  /** Names of the span's events (an exception shows as `exception`). */
  events: string[];
}

function ms(t: HrTime): number {
  return t[0] * 1000 + t[1] / 1e6;
}

/** Turns a finished span into a {@link SpanRecord}. */
export function toSpanRecord(span: ReadableSpan, source: { serviceName: string; nodeId: string }): SpanRecord {
  const sc = span.spanContext();
  const parent = span.parentSpanContext?.spanId;
  return {
    traceId: sc.traceId, spanId: sc.spanId, ...(parent ? { parentSpanId: parent } : {}), name: span.name, kind: span.kind,
    attributes: span.attributes, serviceName: source.serviceName, nodeId: source.nodeId,
    status: { code: span.status.code, ...(span.status.message ? { message: span.status.message } : {}) },
    startTimeMs: ms(span.startTime), endTimeMs: ms(span.endTime), events: span.events.map((e) => e.name),
  };
}

/**
 * Appends every finished span as one JSON line to a file, so that a test can read the spans of
 * real node processes (`OTEL_TEST_SPAN_FILE`). Several processes may share one file: each export
 * is one `O_APPEND` write of whole lines, and such writes to a local file do not interleave. The
 * write is synchronous so that spans survive a process killed right after they ended.
 *
 * @internal For tests; not meant for production traffic.
 */
export class SpanFileExporter implements SpanExporter {
  #stopped = false;
  constructor(readonly path: string, private readonly source: { serviceName: string; nodeId: string }) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.#stopped) return resultCallback({ code: FAILED, error: new Error('span file exporter is shut down') });
    try {
      if (spans.length > 0) appendFileSync(this.path, spans.map((s) => `${JSON.stringify(toSpanRecord(s, this.source))}\n`).join(''));
      resultCallback({ code: SUCCESS });
    } catch (err) {
      resultCallback({ code: FAILED, error: err as Error });
    }
  }

  async shutdown(): Promise<void> {
    this.#stopped = true;
  }

  async forceFlush(): Promise<void> {}
}

/**
 * Reads the spans a {@link SpanFileExporter} wrote; an absent file reads as no spans. A last line
 * cut off by a process killed mid-write is skipped.
 *
 * @internal For tests.
 */
export function readSpanFile(path: string): SpanRecord[] {
  if (!existsSync(path)) return [];
  const out: SpanRecord[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as SpanRecord);
    } catch {
      // a partial line of a killed process
    }
  }
  return out;
}

import { context, INVALID_SPAN_CONTEXT, isSpanContextValid, SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { PlatformError } from '../errors';
import { SPAN_KIND, type SpanName } from './span-names';
import { contextWithTraceparent, formatTraceparent } from './trace-context';
import { resolveTracingOptions, type TracingOptions } from './tracing-options';
import type * as TracingSdk from './tracing-sdk';

export { traceIdOf } from './trace-context';
export type { TracingLog, TracingOptions } from './tracing-options';
/** The span {@link withSpan} hands to its function, so role code needs no OpenTelemetry import of its own. */
export type { Span } from '@opentelemetry/api';

/** What {@link startTracing} returns: main.ts stops it last, after every other service. */
export interface Tracing {
  /** Whether spans are recorded in this process. */
  readonly active: boolean;
  /** Whether log records leave the process over OTLP (or to a test exporter). */
  readonly exportsLogs: boolean;
  /** Flushes the spans and log records still buffered and stops; the helpers are no-ops afterwards. Idempotent. */
  shutdown(): Promise<void>;
}

/** Instrumentation scope of the platform's own spans. */
const TRACER_NAME = 'an-ki';
/** `error.type` (semantic conventions): a platform error's code, else the error's class. */
const ERROR_TYPE = 'error.type';

/**
 * Set while tracing is on, and the only thing the helpers check first: with tracing off they
 * cost one comparison and allocate nothing.
 */
let tracer: Tracer | undefined;
/** Whether an SDK runs in this process (it may export logs while recording no span). */
let sdkRunning = false;
const NOOP_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
const OFF: Tracing = { active: false, exportsLogs: false, shutdown: async () => undefined };

/**
 * Starts tracing and log export for this process. Call it once, right after the configuration
 * is loaded and before pino, pg, amqplib, koa or the role modules are required: the
 * instrumentations patch those modules when they are loaded, and a module loaded earlier stays
 * unpatched (its spans, or its log records, are silently missing). main.ts therefore requires the
 * logger and the role code lazily, after this call.
 *
 * With no OTLP export (see `resolveOtlpTarget`), no test exporter and no span file
 * (`OTEL_TEST_SPAN_FILE`), nothing is started and nothing of the SDK is even loaded;
 * {@link withSpan} and {@link currentTraceparent} are then no-ops. Logs exported without spans
 * recorded (`OTEL_TRACES_EXPORTER=none`) leave the helpers no-ops too.
 *
 * @throws ConfigError for an endpoint that is not a URL, an unknown protocol or exporter, or a sample ratio outside 0..1 (only when used)
 */
export function startTracing(options: TracingOptions, env: NodeJS.ProcessEnv = process.env): Tracing {
  const resolved = resolveTracingOptions(options, env);
  if (!resolved) return OFF;
  if (sdkRunning) throw new TracingStateError('tracing is already started in this process; shut it down first');
  // Required here rather than imported: the SDK and its exporters cost ~0.4 s and ~30 MiB to load,
  // which a node with tracing off should not pay.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require('./tracing-sdk') as typeof TracingSdk;
  const handle = sdk.startSdk(resolved);
  sdkRunning = true;
  if (resolved.recordSpans) tracer = trace.getTracer(TRACER_NAME, resolved.version);
  let stopping: Promise<void> | undefined;
  return {
    active: resolved.recordSpans,
    exportsLogs: Boolean(resolved.logs ?? resolved.logExporter),
    shutdown: () => (stopping ??= (async () => {
      tracer = undefined;
      await handle.shutdown();
      sdkRunning = false;
    })()),
  };
}

/** Options of {@link withSpan} beyond the common ones. */
export interface WithSpanOptions {
  /** When the work began, if before the call (epoch ms): e.g. when a pending task was received. */
  startTimeMs?: number;
}

/**
 * Runs `fn` in a new active span named `name` and ends the span when `fn` returns or its promise
 * settles. The parent is the span of `parentTraceparent` (a W3C traceparent from a message) when
 * that is given and well-formed, else the active span. A throw or rejection is recorded on the
 * span (exception event, status ERROR, `error.type`) and passed on unchanged.
 *
 * With tracing off, `fn` runs at once with a span that records nothing.
 *
 * @example
 *   await withSpan(SPAN.taskExecute, { [ATTR.taskId]: a.task.id, [ATTR.attempt]: a.attempt }, async () => {
 *     ...; await bus.send(anInbox(names, anId), 'task.result', body, { trace: currentTraceparent() ?? msg.trace });
 *   }, msg.trace);
 */
export function withSpan<T>(name: SpanName, attributes: Attributes, fn: (span: Span) => T, parentTraceparent?: string | null, options?: WithSpanOptions): T {
  const t = tracer;
  if (!t) return fn(NOOP_SPAN);
  const active = context.active();
  const parent = (parentTraceparent ? contextWithTraceparent(parentTraceparent, active) : undefined) ?? active;
  const spanOptions = { kind: SPAN_KIND[name], attributes, ...(options?.startTimeMs !== undefined ? { startTime: options.startTimeMs } : {}) };
  return t.startActiveSpan(name, spanOptions, parent, (span) => runInSpan(span, fn));
}

function runInSpan<T>(span: Span, fn: (span: Span) => T): T {
  let out: T;
  try {
    out = fn(span);
  } catch (err) {
    recordFailure(span, err);
    span.end();
    throw err;
  }
  if (!isPromiseLike(out)) {
    span.end();
    return out;
  }
  return out.then(
    (value) => { span.end(); return value; },
    (err: unknown) => { recordFailure(span, err); span.end(); throw err; },
  ) as T;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

function recordFailure(span: Span, err: unknown): void {
  const error = err instanceof Error ? err : new Error(String(err));
  span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  span.setAttribute(ERROR_TYPE, err instanceof PlatformError ? err.code : error.name);
}

/**
 * Marks a span as failed for an outcome that is data rather than a throw (a Ki attempt that ended
 * with an error result, a task failed by the An): status ERROR with the message, `error.type` the
 * code. No exception event, since nothing was thrown. A no-op on the span of tracing turned off.
 */
export function markFailed(span: Span, failure: { code: string; message: string }): void {
  if (!span.isRecording()) return;
  span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
  span.setAttribute(ERROR_TYPE, failure.code);
}

/**
 * The active span as a W3C traceparent, for `bus.send(destination, type, payload, { trace })`; the
 * receiver passes `msg.trace` to {@link withSpan} and its span joins the trace. `undefined` when
 * tracing is off or no span is active: callers write `currentTraceparent() ?? msg.trace` so a
 * node without tracing still forwards the trace it received.
 */
export function currentTraceparent(): string | undefined {
  if (!tracer) return undefined;
  const sc = trace.getSpanContext(context.active());
  return sc && isSpanContextValid(sc) ? formatTraceparent(sc) : undefined;
}

/** The trace id of the active span, for log lines; `undefined` when tracing is off or no span is active. */
export function activeTraceId(): string | undefined {
  if (!tracer) return undefined;
  const sc = trace.getSpanContext(context.active());
  return sc && isSpanContextValid(sc) ? sc.traceId : undefined;
}

/** {@link startTracing} was called twice without a shutdown in between. */
export class TracingStateError extends PlatformError {
  override readonly code = 'TRACING_STATE';
}

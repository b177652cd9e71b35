import { hostname } from 'node:os';
import { context, diag, DiagLogLevel, propagation, SpanKind, trace, type Attributes, type Context, type Link } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import { AmqplibInstrumentation } from '@opentelemetry/instrumentation-amqplib';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KoaInstrumentation, KoaLayerType } from '@opentelemetry/instrumentation-koa';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import { detectResources, envDetector, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { ParentBasedSampler, SamplingDecision, TraceIdRatioBasedSampler, type Sampler, type SamplingResult } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_INSTANCE_ID, ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { createLogRecordProcessors, createSpanProcessors } from './otlp-exporters';
import { RESOURCE_ATTR, SPAN } from './span-names';
import type { ResolvedTracing, TracingLog } from './tracing-options';

// This module loads the SDK, its exporters (gRPC and protobuf stacks) and the instrumentations:
// about 0.4 s and 30 MiB at start-up. tracing.ts requires it only when spans or logs leave the process.

const PLATFORM_SPAN_NAMES: ReadonlySet<string> = new Set(Object.values(SPAN));

/**
 * Sampler for spans that start a trace. Broker traffic that no platform span started (heartbeats,
 * election ticks, assignments of the control exchange: the amqplib instrumentation makes a
 * producer or consumer span for each) would otherwise open a new trace every second on every
 * node and bury the task traces; such root spans are dropped. Every other root span (a REST
 * request, a platform span without a parent) is kept with probability `ratio`, by trace id, so
 * all nodes take the same decision for a trace.
 */
export class PlatformRootSampler implements Sampler {
  readonly #ratio: TraceIdRatioBasedSampler;
  constructor(ratio: number) {
    this.#ratio = new TraceIdRatioBasedSampler(ratio);
  }

  shouldSample(ctx: Context, traceId: string, spanName: string, spanKind: SpanKind, _attributes: Attributes, _links: Link[]): SamplingResult {
    if ((spanKind === SpanKind.PRODUCER || spanKind === SpanKind.CONSUMER) && !PLATFORM_SPAN_NAMES.has(spanName)) {
      return { decision: SamplingDecision.NOT_RECORD };
    }
    return this.#ratio.shouldSample(ctx, traceId);
  }

  toString(): string {
    return `PlatformRootSampler{${this.#ratio.toString()}}`;
  }
}

/** ParentBased(root = {@link PlatformRootSampler}(ratio)): a span with a parent, local or remote, follows the parent's decision. */
export function createSampler(ratio: number): Sampler {
  return new ParentBasedSampler({ root: new PlatformRootSampler(ratio) });
}

/**
 * The process's resource, shared by spans and log records. `service.name` is `OTEL_SERVICE_NAME`
 * (or the one in `OTEL_RESOURCE_ATTRIBUTES`) when set, as the spec says, else `an-ki-<role>`; the
 * node id, version and role are facts of this process and win over the environment, which may add
 * others (k8s.pod.name, ...).
 * The stock detectors are left out on purpose: the process detector exports the command line,
 * which may carry configuration flags with secrets, and the host detector reads the machine id
 * asynchronously, which makes every SimpleSpanProcessor (test exporter, span file) hold spans back
 * until it resolved. Every attribute here is known at once.
 */
export function createResource(r: ResolvedTracing): Resource {
  return detectResources({ detectors: [envDetector] }).merge(resourceFromAttributes({
    [ATTR_SERVICE_NAME]: r.serviceName,
    [ATTR_SERVICE_INSTANCE_ID]: r.nodeId,
    [ATTR_SERVICE_VERSION]: r.version,
    [RESOURCE_ATTR.role]: r.role,
    'host.name': hostname(),
    'process.pid': process.pid,
    'process.runtime.name': 'nodejs',
    'process.runtime.version': process.versions.node,
  }));
}

/** Requests not worth a trace: scrapes and probes, several a minute on every node. */
const UNTRACED_PATHS: ReadonlySet<string> = new Set(['/metrics', '/healthz', '/readyz']);

/** What an instrumentation offers here: the SDK enables it, shutdown disables it. */
type Instrumentation = HttpInstrumentation | KoaInstrumentation | PgInstrumentation | AmqplibInstrumentation | PinoInstrumentation;

function createInstrumentations(r: ResolvedTracing): Instrumentation[] {
  const traced = r.recordSpans ? createTracingInstrumentations() : [];
  // Stdout lines keep their own `traceId` field (logger.ts), so the bridge adds no trace_id/span_id to them.
  const logged = r.logs || r.logExporter ? [new PinoInstrumentation({ disableLogCorrelation: true })] : [];
  return [...traced, ...logged];
}

function createTracingInstrumentations(): Instrumentation[] {
  return [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has((req.url ?? '/').split('?')[0] ?? '/'),
      // Outgoing calls outside any trace (token key fetches, executor probes) would each start one.
      requireParentforOutgoingSpans: true,
    }),
    // One span per router layer names the route; one per plain middleware is only noise.
    new KoaInstrumentation({ ignoreLayersType: [KoaLayerType.MIDDLEWARE] }),
    // Lease renewals, sweeps and batched state writes run every second outside any request.
    new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
    new AmqplibInstrumentation(),
  ];
}

/** The same diagnostic is logged at most once in this period: a collector that is down fails every batch. */
const REPEAT_QUIET_MS = 60_000;

/** The SDK reports export failures as a JSON-serialised error with its stack; the message is what a log line needs. */
function summarize(message: string): string {
  if (message.startsWith('{')) {
    try {
      const parsed = JSON.parse(message) as { message?: unknown };
      if (typeof parsed.message === 'string') return parsed.message;
    } catch {
      // not JSON after all
    }
  }
  return message.length > 500 ? `${message.slice(0, 500)}...` : message;
}

function routeDiagnostics(log: TracingLog): void {
  const lastLoggedAt = new Map<string, number>();
  const emit = (level: 'warn' | 'error', message: string, args: unknown[]) => {
    const text = summarize(message);
    const now = Date.now();
    if (now - (lastLoggedAt.get(text) ?? -Infinity) < REPEAT_QUIET_MS) return;
    if (lastLoggedAt.size > 100) lastLoggedAt.clear();
    lastLoggedAt.set(text, now);
    log[level]({ otel: args.map((a) => summarize(String(a))) }, `opentelemetry: ${text}`);
  };
  const none = () => undefined;
  diag.setLogger({
    error: (message, ...args) => emit('error', message, args),
    warn: (message, ...args) => emit('warn', message, args),
    info: none, debug: none, verbose: none,
  }, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
}

/** A started SDK. */
export interface SdkHandle {
  /**
   * Flushes and stops the exporters, then unregisters everything so tracing can start again.
   * Never rejects: a flush that fails (collector down) is logged.
   */
  shutdown(): Promise<void>;
}

/**
 * Starts the NodeSDK: global tracer provider (when spans are recorded), global logger provider
 * (when logs are exported), AsyncLocalStorage context manager, W3C propagator (tracecontext and
 * baggage, or `OTEL_PROPAGATORS`) and, unless turned off, the instrumentations, which patch http,
 * koa, pg and amqplib, and pino for the logs, when those are next required: a pino logger made
 * before this call is not bridged.
 */
export function startSdk(r: ResolvedTracing): SdkHandle {
  if (r.log) routeDiagnostics(r.log);
  const instrumentations = r.instrumentations ? createInstrumentations(r) : [];
  const sdk = new NodeSDK({
    resource: createResource(r),
    autoDetectResources: false,
    sampler: createSampler(r.sampleRatio),
    // Given, even when empty: without them the SDK would set up exporters from the environment
    // defaults itself and push to a collector. Metrics are prom-client's job (scraped).
    spanProcessors: createSpanProcessors(r),
    logRecordProcessors: createLogRecordProcessors(r),
    instrumentations,
    metricReaders: [],
  });
  sdk.start();
  return {
    shutdown: async () => {
      try {
        await sdk.shutdown();
      } catch (err) {
        // The last batch did not reach the collector (down, unreachable): worth a line, not a failed stop.
        r.log?.warn({ err: (err as Error)?.message ?? String(err) }, 'opentelemetry: spans or logs not flushed at shutdown');
      } finally {
        for (const i of instrumentations) i.disable();
        trace.disable();
        logs.disable();
        context.disable();
        propagation.disable();
        if (r.log) diag.disable();
      }
    },
  };
}

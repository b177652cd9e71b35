import { hostname } from 'node:os';
import { context, diag, DiagLogLevel, propagation, SpanKind, trace, type Attributes, type Context, type Link } from '@opentelemetry/api';
import { OTLPTraceExporter as OtlpGrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as OtlpProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { AmqplibInstrumentation } from '@opentelemetry/instrumentation-amqplib';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KoaInstrumentation, KoaLayerType } from '@opentelemetry/instrumentation-koa';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { detectResources, envDetector, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  BatchSpanProcessor, ParentBasedSampler, SamplingDecision, SimpleSpanProcessor, TraceIdRatioBasedSampler,
  type Sampler, type SamplingResult, type SpanExporter, type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_INSTANCE_ID, ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { SpanFileExporter } from './span-file-exporter';
import { RedactingSpanProcessor } from './tracing-redaction';
import { RESOURCE_ATTR, SPAN } from './span-names';
import type { ResolvedTracing, TracingLog } from './tracing-options';

// This module loads the SDK, its exporters (gRPC and protobuf stacks) and the instrumentations:
// about 0.4 s and 30 MiB at start-up. tracing.ts requires it only when tracing is on.

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
 * The process's resource. Our attributes win over `OTEL_RESOURCE_ATTRIBUTES` / `OTEL_SERVICE_NAME`
 * (dashboards find nodes by `service.name`); the environment may add others (k8s.pod.name, ...).
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

function createInstrumentations() {
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

function createOtlpExporter(otlp: NonNullable<ResolvedTracing['otlp']>): SpanExporter {
  // Headers, TLS files and timeouts still come from the standard OTEL_EXPORTER_OTLP_* variables.
  return otlp.protocol === 'grpc' ? new OtlpGrpcTraceExporter({ url: otlp.url }) : new OtlpProtoTraceExporter({ url: otlp.url });
}

function createSpanProcessors(r: ResolvedTracing): SpanProcessor[] {
  // First: the SDK calls the processors in order, so every exporter gets the scrubbed attributes.
  const processors: SpanProcessor[] = [new RedactingSpanProcessor()];
  if (r.exporter) processors.push(new SimpleSpanProcessor(r.exporter));
  else if (r.otlp) processors.push(new BatchSpanProcessor(createOtlpExporter(r.otlp)));
  if (r.spanFile) processors.push(new SimpleSpanProcessor(new SpanFileExporter(r.spanFile, { serviceName: r.serviceName, nodeId: r.nodeId })));
  return processors;
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
 * Starts the NodeSDK: global tracer provider, AsyncLocalStorage context manager, W3C propagator
 * (tracecontext and baggage, or `OTEL_PROPAGATORS`) and, unless turned off, the instrumentations,
 * which patch http, koa, pg and amqplib when those are next required.
 */
export function startSdk(r: ResolvedTracing): SdkHandle {
  if (r.log) routeDiagnostics(r.log);
  const instrumentations = r.instrumentations ? createInstrumentations() : [];
  const sdk = new NodeSDK({
    resource: createResource(r),
    autoDetectResources: false,
    sampler: createSampler(r.sampleRatio),
    spanProcessors: createSpanProcessors(r),
    instrumentations,
    // Metrics are prom-client's job and logs pino's: without these the SDK would set up OTLP
    // metric and log exporters from the environment defaults and push to a collector.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return {
    shutdown: async () => {
      try {
        await sdk.shutdown();
      } catch (err) {
        // The last batch did not reach the collector (down, unreachable): worth a line, not a failed stop.
        r.log?.warn({ err: (err as Error)?.message ?? String(err) }, 'opentelemetry: spans not flushed at shutdown');
      } finally {
        for (const i of instrumentations) i.disable();
        trace.disable();
        context.disable();
        propagation.disable();
        if (r.log) diag.disable();
      }
    },
  };
}

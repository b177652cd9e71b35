import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ConfigError } from '../errors';
import { serviceNameOf } from './span-names';

/** Where OpenTelemetry's own warnings go (export failures, a collector that cannot be reached). A pino logger fits. */
export interface TracingLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What {@link startTracing} takes: the `otel` section of the config plus who this process is. */
export interface TracingOptions {
  /** `principal`, `an`, `ki` or `standalone`; `service.name` becomes `an-ki-<role>`. */
  role: string;
  /** `service.instance.id`. */
  nodeId: string;
  /** `service.version`. */
  version: string;
  /** Export over OTLP (`OTEL_ENABLED`). */
  enabled: boolean;
  /** OTLP endpoint (`OTLP_ENDPOINT`). @defaultValue `http://localhost:4317` in the config schema */
  endpoint: string;
  /** OTLP protocol (`OTLP_PROTOCOL`). */
  protocol: 'grpc' | 'http/protobuf';
  /** Share of new traces recorded, 0 to 1 (`OTEL_SAMPLE_RATIO`); a span with a parent follows its parent's decision. */
  sampleRatio: number;
  /**
   * Replaces the OTLP exporter and records spans even with `enabled` off; finished spans reach it
   * one by one (SimpleSpanProcessor), so a test can read them right after they end.
   *
   * @internal For tests.
   */
  exporter?: SpanExporter;
  /**
   * Also write every finished span as a JSON line to this file (see {@link SpanFileExporter}),
   * even with `enabled` off. @defaultValue the `OTEL_TEST_SPAN_FILE` environment variable
   *
   * @internal For end-to-end tests.
   */
  spanFile?: string;
  /**
   * Patch http, koa, pg and amqplib as they are required. Tests that start and stop tracing many
   * times in one process turn this off. @defaultValue true
   */
  instrumentations?: boolean;
  /** Receives OpenTelemetry's warnings and errors; without it they are dropped (unless `OTEL_LOG_LEVEL` is set). */
  log?: TracingLog;
}

/** Options with every default applied; `otlp` is absent when nothing goes over OTLP. */
export interface ResolvedTracing {
  role: string;
  serviceName: string;
  nodeId: string;
  version: string;
  sampleRatio: number;
  otlp: { protocol: 'grpc' | 'http/protobuf'; url: string } | undefined;
  exporter: SpanExporter | undefined;
  spanFile: string | undefined;
  instrumentations: boolean;
  log: TracingLog | undefined;
}

/** Environment variable naming the span file of end-to-end tests. */
export const SPAN_FILE_ENV = 'OTEL_TEST_SPAN_FILE';

/**
 * The URL the OTLP trace exporter posts to. gRPC takes the endpoint as it is; OTLP/HTTP posts to
 * a signal path, `/v1/traces`, which is appended when the endpoint names no path (so the same
 * `OTLP_ENDPOINT=http://collector:4318` works as for other OTLP clients, and a full URL is kept).
 */
export function otlpTracesUrl(endpoint: string, protocol: 'grpc' | 'http/protobuf'): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new ConfigError(`otel.endpoint (OTLP_ENDPOINT) must be a URL such as http://localhost:4317, got "${endpoint}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`otel.endpoint (OTLP_ENDPOINT) must start with http:// or https://, got "${endpoint}"`);
  }
  if (protocol === 'grpc') return endpoint;
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/v1/traces';
  return url.toString();
}

/**
 * Applies the defaults once. Returns `undefined` when this process records no spans at all: OTLP
 * export off and no test exporter or span file, or `OTEL_SDK_DISABLED=true` (the standard
 * OpenTelemetry switch, honoured here so the helpers stay no-ops rather than feed a disabled SDK).
 * Settings that are only read when tracing is on are only checked then.
 */
export function resolveTracingOptions(o: TracingOptions, env: NodeJS.ProcessEnv = process.env): ResolvedTracing | undefined {
  const spanFile = o.spanFile ?? (env[SPAN_FILE_ENV] || undefined);
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return undefined;
  if (!o.enabled && !o.exporter && !spanFile) return undefined;
  if (!Number.isFinite(o.sampleRatio) || o.sampleRatio < 0 || o.sampleRatio > 1) {
    throw new ConfigError(`otel.sampleRatio (OTEL_SAMPLE_RATIO) must be between 0 and 1, got ${o.sampleRatio}`);
  }
  return {
    role: o.role, serviceName: serviceNameOf(o.role), nodeId: o.nodeId, version: o.version, sampleRatio: o.sampleRatio,
    otlp: o.enabled && !o.exporter ? { protocol: o.protocol, url: otlpTracesUrl(o.endpoint, o.protocol) } : undefined,
    exporter: o.exporter, spanFile, instrumentations: o.instrumentations ?? true,
    // OTEL_LOG_LEVEL makes the SDK print its diagnostics to the console itself; leave that alone.
    log: env['OTEL_LOG_LEVEL'] ? undefined : o.log,
  };
}

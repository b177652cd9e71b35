import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ConfigError } from '../errors';
import { batchLogOptionsFromEnv, resolveOtlpTarget, serviceNameFromEnv, type BatchLogOptions, type OtlpSettings, type OtlpTarget } from './otlp-endpoints';
import { serviceNameOf } from './span-names';

/** Where OpenTelemetry's own warnings go (export failures, a collector that cannot be reached). A pino logger fits. */
export interface TracingLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What {@link startTracing} takes: the `otel` section of the config plus who this process is. */
export interface TracingOptions extends OtlpSettings {
  /** `principal`, `an`, `ki` or `standalone`; `service.name` becomes `an-ki-<role>` unless `OTEL_SERVICE_NAME` names it. */
  role: string;
  /** `service.instance.id`. */
  nodeId: string;
  /** `service.version`. */
  version: string;
  /** Share of new traces recorded, 0 to 1 (`OTEL_SAMPLE_RATIO`); a span with a parent follows its parent's decision. */
  sampleRatio: number;
  /**
   * Replaces the OTLP exporter and records spans even with OTLP export off; finished spans reach it
   * one by one (SimpleSpanProcessor), so a test can read them right after they end.
   *
   * @internal For tests.
   */
  exporter?: SpanExporter;
  /**
   * Replaces the OTLP log exporter and exports log records even with OTLP export off, one by one.
   *
   * @internal For tests.
   */
  logExporter?: LogRecordExporter;
  /**
   * Also write every finished span as a JSON line to this file (see {@link SpanFileExporter}),
   * even with OTLP export off. @defaultValue the `OTEL_TEST_SPAN_FILE` environment variable
   *
   * @internal For end-to-end tests.
   */
  spanFile?: string;
  /**
   * Patch http, koa, pg, amqplib (and pino, when logs are exported) as they are required. Tests
   * that start and stop tracing many times in one process turn this off. @defaultValue true
   */
  instrumentations?: boolean;
  /** Receives OpenTelemetry's warnings and errors; without it they are dropped (unless `OTEL_LOG_LEVEL` is set). */
  log?: TracingLog;
}

/** Options with every default applied. */
export interface ResolvedTracing {
  role: string;
  serviceName: string;
  nodeId: string;
  version: string;
  sampleRatio: number;
  /** Whether spans are recorded at all (OTLP, a test exporter or a span file). */
  recordSpans: boolean;
  /** Where spans go over OTLP; absent when they do not. */
  otlp: OtlpTarget | undefined;
  /** Where log records go over OTLP; absent when they do not. */
  logs: OtlpTarget | undefined;
  /** `OTEL_BLRP_*`. */
  logBatch: BatchLogOptions;
  exporter: SpanExporter | undefined;
  logExporter: LogRecordExporter | undefined;
  spanFile: string | undefined;
  instrumentations: boolean;
  log: TracingLog | undefined;
}

/** Environment variable naming the span file of end-to-end tests. */
export const SPAN_FILE_ENV = 'OTEL_TEST_SPAN_FILE';

/**
 * Applies the defaults once (see {@link resolveOtlpTarget} for where each signal goes). Returns
 * `undefined` when this process neither records spans nor exports logs: no OTLP export, no test
 * exporter and no span file, or `OTEL_SDK_DISABLED=true` (the standard OpenTelemetry switch,
 * honoured here so the helpers stay no-ops rather than feed a disabled SDK). Settings that are
 * only read when tracing is on are only checked then.
 */
export function resolveTracingOptions(o: TracingOptions, env: NodeJS.ProcessEnv = process.env): ResolvedTracing | undefined {
  const spanFile = o.spanFile ?? (env[SPAN_FILE_ENV] || undefined);
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return undefined;
  const otlp = o.exporter ? undefined : resolveOtlpTarget(o, 'traces', env);
  const logs = o.logExporter ? undefined : resolveOtlpTarget(o, 'logs', env);
  const recordSpans = Boolean(otlp || o.exporter || spanFile);
  if (!recordSpans && !logs && !o.logExporter) return undefined;
  if (recordSpans && (!Number.isFinite(o.sampleRatio) || o.sampleRatio < 0 || o.sampleRatio > 1)) {
    throw new ConfigError(`otel.sampleRatio (OTEL_SAMPLE_RATIO) must be between 0 and 1, got ${o.sampleRatio}`);
  }
  return {
    role: o.role, serviceName: serviceNameFromEnv(env, serviceNameOf(o.role)), nodeId: o.nodeId, version: o.version, sampleRatio: o.sampleRatio,
    recordSpans, otlp, logs, logBatch: batchLogOptionsFromEnv(env), exporter: o.exporter, logExporter: o.logExporter, spanFile, instrumentations: o.instrumentations ?? true,
    // OTEL_LOG_LEVEL makes the SDK print its diagnostics to the console itself; leave that alone.
    log: env['OTEL_LOG_LEVEL'] ? undefined : o.log,
  };
}

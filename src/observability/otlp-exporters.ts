import { OTLPLogExporter as OtlpGrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as OtlpProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter as OtlpGrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as OtlpProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BatchLogRecordProcessor, SimpleLogRecordProcessor, type LogRecordExporter, type LogRecordProcessor } from '@opentelemetry/sdk-logs';
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { OtlpTarget } from './otlp-endpoints';
import { SpanFileExporter } from './span-file-exporter';
import { RedactingSpanProcessor } from './tracing-redaction';
import type { ResolvedTracing } from './tracing-options';

// Headers, TLS files, compression and timeouts of both exporters still come from the standard
// OTEL_EXPORTER_OTLP_* variables, which the exporters read themselves; only the URL is ours.

function createOtlpSpanExporter(otlp: OtlpTarget): SpanExporter {
  return otlp.protocol === 'grpc' ? new OtlpGrpcTraceExporter({ url: otlp.url }) : new OtlpProtoTraceExporter({ url: otlp.url });
}

function createOtlpLogExporter(otlp: OtlpTarget): LogRecordExporter {
  return otlp.protocol === 'grpc' ? new OtlpGrpcLogExporter({ url: otlp.url }) : new OtlpProtoLogExporter({ url: otlp.url });
}

/** The span processors: scrubbing first, then the test exporter or OTLP, then the span file. Empty when no span is recorded. */
export function createSpanProcessors(r: ResolvedTracing): SpanProcessor[] {
  if (!r.recordSpans) return [];
  // First: the SDK calls the processors in order, so every exporter gets the scrubbed attributes.
  const processors: SpanProcessor[] = [new RedactingSpanProcessor()];
  // The shim reads OTEL_BSP_SCHEDULE_DELAY and the other OTEL_BSP_* variables.
  if (r.exporter) processors.push(new SimpleSpanProcessor(r.exporter));
  else if (r.otlp) processors.push(new BatchSpanProcessor(createOtlpSpanExporter(r.otlp)));
  if (r.spanFile) processors.push(new SimpleSpanProcessor(new SpanFileExporter(r.spanFile, { serviceName: r.serviceName, nodeId: r.nodeId })));
  return processors;
}

/** The log record processors: the test exporter, or a batch to the OTLP endpoint. Empty when logs stay local. */
export function createLogRecordProcessors(r: ResolvedTracing): LogRecordProcessor[] {
  if (r.logExporter) return [new SimpleLogRecordProcessor({ exporter: r.logExporter })];
  if (r.logs) return [new BatchLogRecordProcessor({ exporter: createOtlpLogExporter(r.logs), ...r.logBatch })];
  return [];
}

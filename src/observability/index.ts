export { createLogger, silentLogger, type Logger } from './logger';
export { createMetrics, TASK_DURATION_BUCKETS, HELD_OUT_REASONS, type Metrics } from './metrics';
export { METRIC, DESIGN_METRIC_NAMES } from './metric-names';
export { activeTraceId, currentTraceparent, markFailed, startTracing, traceIdOf, withSpan, type Span, type Tracing, type TracingOptions } from './tracing';
export { ATTR, MESSAGING_SYSTEM, SPAN } from './span-names';

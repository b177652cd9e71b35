export { createLogger, silentLogger, type Logger } from './logger';
export { createMetrics, TASK_DURATION_BUCKETS, type Metrics } from './metrics';
export { METRIC, DESIGN_METRIC_NAMES } from './metric-names';

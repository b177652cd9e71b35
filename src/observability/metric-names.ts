/** Metric names the dashboards rely on (DESIGN.md). Changing one breaks dashboards and alerts. */
export const METRIC = {
  nodeUp: 'anki_node_up',
  leader: 'anki_leader',
  leaderTerm: 'anki_leader_term',
  tasksSubmitted: 'anki_tasks_submitted_total',
  tasksFinished: 'anki_tasks_finished_total',
  taskDuration: 'anki_task_duration_seconds',
  tasksInFlight: 'anki_tasks_in_flight',
  queueDepth: 'anki_queue_depth',
  kiSlots: 'anki_ki_slots',
  messagesRejected: 'anki_messages_rejected_total',
  dbErrors: 'anki_db_errors_total',
  amqpReconnects: 'anki_amqp_reconnects_total',
  kiGpuMemoryUsed: 'anki_ki_gpu_memory_used_mib',
  kiGpuMemoryTotal: 'anki_ki_gpu_memory_total_mib',
  kiGpuTasks: 'anki_ki_gpu_tasks',
  clusterNodes: 'anki_cluster_nodes',
  tasksRetried: 'anki_tasks_retried_total',
  taskExecutions: 'anki_task_executions_total',
  httpRequests: 'anki_http_requests_total',
  httpDuration: 'anki_http_request_duration_seconds',
  batchItems: 'anki_batch_items',
  membershipRefused: 'anki_membership_refused_total',
  unhandledRejections: 'anki_unhandled_rejections_total',
  taskQueueWait: 'anki_task_queue_wait_seconds',
  taskRunTime: 'anki_task_run_seconds',
  kiGpuUtilization: 'anki_ki_gpu_utilization_ratio',
  kisQuarantined: 'anki_kis_quarantined',
  kiQuarantines: 'anki_ki_quarantines_total',
  redundantTasks: 'anki_redundant_tasks_total',
  replicaAnswers: 'anki_replica_answers_total',
} as const;

/** The names DESIGN.md promises on every node's /metrics. */
export const DESIGN_METRIC_NAMES = [
  METRIC.nodeUp, METRIC.leader, METRIC.leaderTerm, METRIC.tasksSubmitted, METRIC.tasksFinished, METRIC.taskDuration,
  METRIC.tasksInFlight, METRIC.queueDepth, METRIC.kiSlots, METRIC.messagesRejected, METRIC.dbErrors, METRIC.amqpReconnects,
] as const;

import { SpanKind } from '@opentelemetry/api';

/**
 * Names of the platform's own spans. Trace searches, dashboards and the end-to-end tests look for
 * these strings: renaming one breaks them.
 */
export const SPAN = {
  /** principal: a REST submission, from validation to the answer (admission). */
  taskSubmit: 'task.submit',
  /** principal: the task row insert (group-committed with concurrent submissions). */
  taskInsert: 'task.insert',
  /** principal (admission or sweeper): the pending message, until the broker confirmed it. */
  taskPublish: 'task.publish',
  /** An: a pending task received, placed on a Ki, recorded as dispatched and assigned. */
  taskSchedule: 'task.schedule',
  /** Ki: one attempt run by an executor, until its result is sent. */
  taskExecute: 'task.execute',
  /** An: a Ki's result received and the outcome written with the guarded update. */
  taskResult: 'task.result',
} as const;

/** One of the platform's span names. */
export type SpanName = (typeof SPAN)[keyof typeof SPAN];

/**
 * The kind of each span. Spans that start work on a message are consumers and the publish is a
 * producer, so backends draw the broker hop between them; the rest run inside another span.
 */
export const SPAN_KIND: Readonly<Record<SpanName, SpanKind>> = {
  [SPAN.taskSubmit]: SpanKind.INTERNAL,
  [SPAN.taskInsert]: SpanKind.INTERNAL,
  [SPAN.taskPublish]: SpanKind.PRODUCER,
  [SPAN.taskSchedule]: SpanKind.CONSUMER,
  [SPAN.taskExecute]: SpanKind.CONSUMER,
  [SPAN.taskResult]: SpanKind.CONSUMER,
};

/**
 * Span attribute keys. The `anki.*` keys are the platform's; the `messaging.*` keys are the
 * OpenTelemetry semantic conventions (copied rather than imported from the "incubating" entry
 * point, whose exports may change between releases).
 */
export const ATTR = {
  taskId: 'anki.task.id',
  taskType: 'anki.task.type',
  /** Tasks in one submission (`POST /tasks/batch`). */
  taskCount: 'anki.task.count',
  /** Terminal status written by `task.result`. */
  taskStatus: 'anki.task.status',
  taskPriority: 'anki.task.priority',
  /** The node that did the work of the span (also on the resource as `service.instance.id`). */
  nodeId: 'anki.node.id',
  /** The An that scheduled the attempt. */
  anId: 'anki.an.id',
  /** The Ki that runs or ran the attempt. */
  kiId: 'anki.ki.id',
  /** The attempt number: the fencing token of state writes. */
  attempt: 'anki.attempt',
  messagingSystem: 'messaging.system',
  messagingDestination: 'messaging.destination.name',
  /** `send`, `receive` or `process`. */
  messagingOperationType: 'messaging.operation.type',
  messagingMessageId: 'messaging.message.id',
} as const;

/** Value of {@link ATTR.messagingSystem} for every message of the platform. */
export const MESSAGING_SYSTEM = 'rabbitmq';

/** Resource attribute keys the platform sets (semantic conventions). */
export const RESOURCE_ATTR = {
  serviceName: 'service.name',
  serviceInstanceId: 'service.instance.id',
  serviceVersion: 'service.version',
  /** The platform role of the process: principal, an, ki or standalone. */
  role: 'anki.role',
} as const;

/** `service.name` of a node of the given role, e.g. `an-ki-principal`. */
export function serviceNameOf(role: string): string {
  return `an-ki-${role}`;
}

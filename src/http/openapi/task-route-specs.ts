import { z } from 'zod';
import { metricsSeriesSchema } from './series-schemas';
import { batchSubmissionSchema, listQuerySchema, patchTaskSchema, submitTaskSchema } from '../task-schemas';
import { badBody, forbiddenRole, idParam, json, noContent, notVisible, problem } from './responses';
import { batchIdsSchema, clusterSummarySchema, nodeListSchema, nodeReleasedSchema, taskPageSchema, taskSchema } from './response-schemas';
import type { RouteSpec } from './route-spec';

const WRITERS = ['admin: any task', 'operator: any task', 'submitter: own tasks'] as const;
const READERS = ['admin: any task', 'operator: any task', 'submitter: own tasks', 'viewer: own tasks'] as const;
const NODE_READERS = ['admin', 'operator'] as const;
const replayed = 'An Idempotency-Key the caller used before: the earlier answer, nothing new stored.';

/** `/tasks`, `/nodes` and `/cluster` (src/principal/routes.ts). */
export const TASK_ROUTE_SPECS: readonly RouteSpec[] = [
  {
    method: 'post', path: '/tasks', operationId: 'submitTask', tag: 'tasks', auth: 'bearer', roles: WRITERS,
    summary: 'Submit a task',
    description: 'Stores the task and queues it (or schedules it, with `runAt`/`delayMs`). With `Prefer: wait=N` the answer waits up to N seconds (capped by PRINCIPAL_MAX_WAIT_SEC) for the task to end.',
    headers: ['Idempotency-Key', 'Prefer'], body: submitTaskSchema,
    responses: {
      201: json(taskSchema, 'The task was stored.', ['Location']),
      200: json(taskSchema, replayed, ['Location']),
      400: badBody, 403: forbiddenRole('submit tasks'), 409: problem('The task of this Idempotency-Key no longer exists.'),
      413: problem('The body exceeds MAX_BODY_BYTES.'),
    },
  },
  {
    method: 'post', path: '/tasks/batch', operationId: 'submitTaskBatch', tag: 'tasks', auth: 'bearer', roles: WRITERS,
    summary: 'Submit several tasks at once', description: 'All tasks are stored in one transaction, or none.',
    headers: ['Idempotency-Key'], body: batchSubmissionSchema,
    responses: { 201: json(batchIdsSchema, 'The tasks were stored.'), 200: json(batchIdsSchema, replayed), 400: badBody, 403: forbiddenRole('submit tasks'), 413: problem('The body exceeds MAX_BODY_BYTES.') },
  },
  {
    method: 'get', path: '/tasks', operationId: 'listTasks', tag: 'tasks', auth: 'bearer', roles: READERS,
    summary: 'List tasks, newest first', description: 'A page ends early when its JSON passes TASK_LIST_MAX_BYTES; `nextCursor` then goes on from its last item.',
    query: listQuerySchema,
    responses: { 200: json(taskPageSchema, 'One page of tasks.'), 400: badBody, 403: forbiddenRole('read tasks') },
  },
  {
    method: 'get', path: '/tasks/:id', operationId: 'getTask', tag: 'tasks', auth: 'bearer', roles: READERS,
    summary: 'Read a task', description: 'With `?wait=N` the answer waits up to N seconds (capped by PRINCIPAL_MAX_WAIT_SEC) for the task to end.',
    params: idParam, query: z.object({ wait: z.number().int().min(0).optional().describe('Seconds to wait for the task to end.') }),
    responses: { 200: json(taskSchema, 'The task.'), 400: badBody, 404: notVisible('task') },
  },
  {
    method: 'patch', path: '/tasks/:id', operationId: 'setTaskPriority', tag: 'tasks', auth: 'bearer', roles: WRITERS,
    summary: 'Change the priority of a queued or scheduled task', params: idParam, body: patchTaskSchema,
    responses: { 200: json(taskSchema, 'The task with its new priority.'), 400: badBody, 403: forbiddenRole('change tasks'), 404: notVisible('task'), 409: problem('The task is no longer queued or scheduled.') },
  },
  {
    method: 'post', path: '/tasks/:id/cancel', operationId: 'cancelTask', tag: 'tasks', auth: 'bearer', roles: WRITERS,
    summary: 'Cancel a task', description: 'A running task is stopped on its Ki. Cancelling a finished task changes nothing and answers it as it is.', params: idParam,
    responses: { 200: json(taskSchema, 'The task after the cancel.'), 403: forbiddenRole('change tasks'), 404: notVisible('task') },
  },
  {
    method: 'delete', path: '/tasks/:id', operationId: 'deleteTask', tag: 'tasks', auth: 'bearer', roles: WRITERS,
    summary: 'Delete a task and its payload and result', description: 'An unfinished task is cancelled first.', params: idParam,
    responses: { 204: noContent('The task is gone.'), 403: forbiddenRole('change tasks'), 404: notVisible('task') },
  },
  {
    method: 'get', path: '/nodes', operationId: 'listNodes', tag: 'cluster', auth: 'bearer', roles: NODE_READERS,
    summary: 'List the cluster\'s members', responses: { 200: json(nodeListSchema, 'Every member this principal hears, by role then id.'), 403: forbiddenRole('read nodes') },
  },
  {
    method: 'post', path: '/nodes/:id/release', operationId: 'releaseNode', tag: 'cluster', auth: 'bearer', roles: ['admin'],
    summary: 'Let a quarantined Ki take work again', params: z.object({ id: z.string().describe('The node id.') }),
    responses: { 200: json(nodeReleasedSchema, 'The node is no longer quarantined.'), 403: forbiddenRole('release nodes'), 404: problem('No reputation record for this node.') },
  },
  {
    method: 'get', path: '/cluster', operationId: 'getCluster', tag: 'cluster', auth: 'bearer', roles: NODE_READERS,
    summary: 'Summary of the cluster', responses: { 200: json(clusterSummarySchema, 'Leader, member and task counts, queue depths, groups.'), 403: forbiddenRole('read the cluster') },
  },
  {
    method: 'get', path: '/metrics/series', operationId: 'getMetricsSeries', tag: 'cluster', auth: 'bearer', roles: NODE_READERS,
    summary: 'The cluster over the last 15 minutes, for charts',
    description: 'A fixed ring of 5-s buckets kept by the principal from what it observes (task ends, its counters, queue depth, Ki heartbeats): throughput by status, latency percentiles, queue depth and oldest waiting task, running tasks and free slots, GPU memory and utilisation per Ki, refused messages by reason. No Prometheus needed.',
    responses: { 200: json(metricsSeriesSchema, 'One array per figure, aligned with `t`.'), 403: forbiddenRole('read the cluster') },
  },
];

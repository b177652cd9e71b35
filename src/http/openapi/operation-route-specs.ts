import { z } from 'zod';
import { deadLetterListQuerySchema, nodeOperationBodySchema, tenantSettingsSchema } from '../operation-schemas';
import { badBody, forbiddenRole, idParam, json, noContent, notVisible, problem } from './responses';
import { deadLetterPageSchema, deadLetterRedriveSchema, nodeOperationSchema, tenantListSchema, tenantSchema } from './operations-schemas';
import { taskSchema } from './response-schemas';
import type { ResponseSpec, RouteSpec } from './route-spec';

const WRITERS = ['admin: any task', 'operator: any task', 'submitter: own tasks'] as const;
const READERS = ['admin: any task', 'operator: any task', 'submitter: own tasks', 'viewer: own tasks'] as const;
const OPERATORS = ['admin', 'operator'] as const;
const nodeParam = z.object({ id: z.string().describe('A Ki\'s or An\'s node id or stable id.') });

/** A chunk of a task's output, and the end of the stream (`text/event-stream`). */
const eventStream: ResponseSpec = {
  description: 'Server-Sent Events: `event: chunk` with `{attempt, seq, text}` for each piece of output (the chunks kept so far first), then one `event: end` with the task as `GET /tasks/{id}` shows it; the stream then closes.',
  contentType: 'text/event-stream',
};

const operateNode = (verb: 'cordon' | 'uncordon' | 'drain', summary: string): RouteSpec => ({
  method: 'post', path: `/nodes/:id/${verb}`, operationId: `${verb}Node`, tag: 'cluster', auth: 'bearer', roles: OPERATORS,
  summary, params: nodeParam, body: nodeOperationBodySchema,
  responses: {
    200: json(nodeOperationSchema, 'The node\'s state as stored.'), 400: badBody, 403: forbiddenRole('operate nodes'),
    404: problem('No Ki or An of this id.'), 409: problem('The node is a principal: only Kis and Ans are cordoned or drained.'),
  },
});

/** Output streams, retries, dead letters, node operations and tenants. */
export const OPERATION_ROUTE_SPECS: readonly RouteSpec[] = [
  {
    method: 'get', path: '/tasks/:id/stream', operationId: 'streamTaskOutput', tag: 'tasks', auth: 'bearer', roles: READERS,
    summary: 'Follow a task\'s output as it is produced',
    description: 'Output comes from `ctx.emit` in plug-ins, the stdout lines of `exec` and the token deltas of an `http` task that posts `"stream": true`. A retry starts again at seq 0. The result stays the source of truth. Past PRINCIPAL_MAX_STREAMS open streams a principal answers 503.',
    params: idParam,
    responses: { 200: eventStream, 404: notVisible('task') },
  },
  {
    method: 'post', path: '/tasks/:id/retry', operationId: 'retryTask', tag: 'tasks', auth: 'bearer', roles: WRITERS,
    summary: 'Run a failed task again', description: 'The task goes back to queued under its id with a fresh attempt budget; the failed run is kept in `retryHistory`.', params: idParam,
    responses: { 200: json(taskSchema, 'The task, queued again.'), 403: forbiddenRole('change tasks'), 404: notVisible('task'), 409: problem('The task is not failed, was retried already, used its 100 attempts, or belongs to a workflow.') },
  },
  {
    method: 'get', path: '/dead-letters', operationId: 'listDeadLetters', tag: 'operations', auth: 'bearer', roles: OPERATORS,
    summary: 'What failed for good, and why, newest first', query: deadLetterListQuerySchema,
    responses: { 200: json(deadLetterPageSchema, 'One page of dead letters.'), 400: badBody, 403: forbiddenRole('read dead letters') },
  },
  {
    method: 'post', path: '/dead-letters/:id/redrive', operationId: 'redriveDeadLetter', tag: 'operations', auth: 'bearer', roles: OPERATORS,
    summary: 'Run a dead-lettered task again', params: idParam,
    responses: { 200: json(deadLetterRedriveSchema, 'The task runs again; its letter is gone.'), 403: forbiddenRole('handle dead letters'), 404: problem('No such dead letter.'), 409: problem('The letter names no task, its task is gone, or the task cannot be retried.') },
  },
  {
    method: 'delete', path: '/dead-letters/:id', operationId: 'deleteDeadLetter', tag: 'operations', auth: 'bearer', roles: OPERATORS,
    summary: 'Forget a dead letter', params: idParam,
    responses: { 204: noContent('The letter is gone; its task is untouched.'), 403: forbiddenRole('handle dead letters'), 404: problem('No such dead letter.') },
  },
  operateNode('cordon', 'Place no new work on a node'),
  operateNode('drain', 'Place no new work on a node and report it drained once nothing runs there'),
  operateNode('uncordon', 'Let a cordoned, drained or benched node take work again'),
  {
    method: 'get', path: '/tenants', operationId: 'listTenants', tag: 'tenants', auth: 'bearer',
    roles: ['admin: every tenant', 'operator: every tenant', 'submitter: its own tenant', 'viewer: its own tenant'],
    summary: 'Tenants with their settings, what they hold and the GPU-seconds they used this period',
    responses: { 200: json(tenantListSchema, 'The tenants the caller may see.') },
  },
  {
    method: 'put', path: '/tenants/:name', operationId: 'setTenant', tag: 'tenants', auth: 'bearer', roles: ['admin'],
    summary: 'Set a tenant\'s weight, caps and GPU-seconds budget', description: 'A field left out takes its default (weight 1, no cap).',
    params: z.object({ name: z.string().describe('The tenant: a token\'s `tenant` claim, else its `sub`.') }), body: tenantSettingsSchema,
    responses: { 200: json(tenantSchema, 'The tenant as it now stands.'), 400: badBody, 403: forbiddenRole('change tenants') },
  },
];

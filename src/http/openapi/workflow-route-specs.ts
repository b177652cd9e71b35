import { badBody, forbiddenRole, idParam, json, notVisible, problem } from './responses';
import { workflowPageSchema, workflowSchema } from './response-schemas';
import type { RouteSpec } from './route-spec';
import { READERS, WRITERS, replayed, tooLarge } from './schedule-route-specs';
import { workflowListQuerySchema, workflowSubmissionSchema } from '../workflow-schemas';

/** `/workflows` (src/principal/workflow-routes.ts). */
export const WORKFLOW_ROUTE_SPECS: readonly RouteSpec[] = [
  {
    method: 'post', path: '/workflows', operationId: 'submitWorkflow', tag: 'workflows', auth: 'bearer', roles: WRITERS,
    summary: 'Submit a workflow (a graph of tasks)', description: 'Each entry of `tasks` is a task submission with its `key`, `dependsOn` and optional `map`; at most WORKFLOW_MAX_NODES of them.',
    headers: ['Idempotency-Key'], body: workflowSubmissionSchema,
    responses: {
      201: json(workflowSchema, 'The workflow was stored; its first tasks are queued.', ['Location']), 200: json(workflowSchema, replayed, ['Location']),
      400: badBody, 403: forbiddenRole('change tasks or workflows'), 404: problem('The workflow of this Idempotency-Key no longer exists.'), 413: tooLarge,
    },
  },
  {
    method: 'get', path: '/workflows', operationId: 'listWorkflows', tag: 'workflows', auth: 'bearer', roles: READERS, summary: 'List workflows, newest first',
    query: workflowListQuerySchema, responses: { 200: json(workflowPageSchema, 'One page of workflows, without their nodes.'), 400: badBody, 403: forbiddenRole('read workflows') },
  },
  {
    method: 'get', path: '/workflows/:id', operationId: 'getWorkflow', tag: 'workflows', auth: 'bearer', roles: READERS, summary: 'Read a workflow with its nodes',
    params: idParam, responses: { 200: json(workflowSchema, 'The workflow.'), 404: notVisible('workflow') },
  },
  {
    method: 'post', path: '/workflows/:id/cancel', operationId: 'cancelWorkflow', tag: 'workflows', auth: 'bearer', roles: WRITERS, summary: 'Cancel a workflow and its unfinished tasks',
    params: idParam, responses: { 200: json(workflowSchema, 'The workflow after the cancel.'), 403: forbiddenRole('change tasks or workflows'), 404: notVisible('workflow') },
  },
];

import { z } from 'zod';
import { WORKFLOW_STATUSES } from '../workflow';
import { isStorableText } from '../util';
import { badRequest } from './problem';
import { checkSubmission, type TaskLimits } from './task-limits';
import { parseOr400, submitTaskFields, taskTemplateSchema, type SubmitTask } from './task-schemas';

const KEY = /^[A-Za-z0-9._:-]{1,128}$/;
const key = z.string().regex(KEY, '1 to 128 letters, digits and . _ : -');

/** The workflow fields of one entry of `tasks`; its other fields are a task submission. */
const nodeFieldsSchema = z.object({
  key,
  dependsOn: z.array(key).max(1000).default([]),
  map: z.object({ over: key }).strict().optional(),
}).passthrough();

/** One node of a submitted workflow: its key, its dependencies and the task it runs. */
export interface SubmittedNode {
  key: string;
  dependsOn: string[];
  mapOver: string | null;
  task: SubmitTask;
}

export interface SubmittedWorkflow {
  name: string | null;
  nodes: SubmittedNode[];
}

/**
 * Parses `POST /workflows`: `{ name?, tasks: [{ key, dependsOn?, map?: { over }, ...task fields }] }`.
 * Each entry's task fields pass the same schema and role ceilings as `POST /tasks`; the graph
 * itself is checked by the workflow module. A problem is a 400 naming the field.
 */
export function parseWorkflowSubmission(raw: unknown, limits: TaskLimits, maxNodes: number): SubmittedWorkflow {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw badRequest('body: must be an object with tasks', { field: 'body' });
  const { name, tasks, ...rest } = raw as Record<string, unknown>;
  const unknownField = Object.keys(rest)[0];
  if (unknownField !== undefined) throw badRequest(`body: unknown field "${unknownField.slice(0, 64)}"`, { field: unknownField.slice(0, 64) });
  if (name !== undefined && (typeof name !== 'string' || name.length > 200 || !isStorableText(name))) throw badRequest('name: a text of at most 200 characters', { field: 'name' });
  if (!Array.isArray(tasks)) throw badRequest('tasks: must be an array', { field: 'tasks' });
  if (tasks.length === 0) throw badRequest('tasks: a workflow needs at least one task', { field: 'tasks' });
  if (tasks.length > maxNodes) throw badRequest(`tasks: at most ${maxNodes} tasks per workflow, got ${tasks.length}`, { field: 'tasks', ceiling: maxNodes });
  const nodes = tasks.map((item, i): SubmittedNode => {
    const fields = parseOr400(nodeFieldsSchema, item, `tasks.${i}`);
    const { key: k, dependsOn, map, ...taskFields } = fields;
    const task = parseOr400(taskTemplateSchema, taskFields, `tasks.${i}`);
    checkSubmission(task, limits, `tasks.${i}`);
    return { key: k, dependsOn, mapOver: map?.over ?? null, task };
  });
  return { name: typeof name === 'string' ? name : null, nodes };
}

/**
 * `POST /workflows` as the published document shows it. {@link parseWorkflowSubmission} checks
 * the same fields (and the graph) step by step, to name the entry at fault.
 */
export const workflowSubmissionSchema = z.object({
  name: z.string().max(200).optional(),
  tasks: z.array(z.object({
    key, dependsOn: z.array(key).max(1000).optional(), map: z.object({ over: key }).strict().optional(),
    ...(({ runAt: _runAt, delayMs: _delayMs, ...taskFields }) => taskFields)(submitTaskFields),
  }).strict()).min(1),
}).strict();

export const workflowListQuerySchema = z.object({
  status: z.enum(WORKFLOW_STATUSES).optional(),
  owner: z.string().min(1).max(256).refine(isStorableText, { message: 'holds a NUL or an unpaired surrogate' }).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  cursor: z.string().min(1).max(200).optional(),
}).strict();

import Router from '@koa/router';
import { currentTraceparent } from '../observability';
import {
  type AuthState, readJson, sendJson, badRequest, forbidden, notFound, unavailable, decodeCursor, encodeCursor, parseOr400,
  limitsOf, parseWorkflowSubmission, workflowListQuerySchema, DEFAULT_TASK_LIMITS, type RoleLimits,
} from '../http';
import { StoreUnavailableError } from '../errors';
import type { WorkflowRecord } from '../store';
import { WorkflowDefinitionError } from '../workflow';
import { type Ctx, idempotencyKeyOf, read, requireWrite as requireWriteOf, visibleOwned } from './route-access';
import { toApiWorkflow, type WorkflowControl } from './workflow-control';

export interface WorkflowRouteDeps {
  workflows: WorkflowControl;
  maxBodyBytes: number;
  maxNodes: number;
  /** Per-role ceilings each node's task fields must respect (TASK_LIMITS). */
  limits?: RoleLimits;
}

/** `POST /workflows`, `GET /workflows[/{id}]`, `POST /workflows/{id}/cancel`: owner-scoped like tasks. */
export function workflowRoutes(d: WorkflowRouteDeps): Router<AuthState> {
  const r = new Router<AuthState>();
  const roleLimits = d.limits ?? DEFAULT_TASK_LIMITS;
  const requireWrite = (ctx: Ctx) => requireWriteOf(ctx, 'tasks or workflows');
  /** A workflow the caller may see (or, `forWrite`, change); another owner's is reported missing. */
  const visible = (ctx: Ctx, forWrite = false): Promise<WorkflowRecord> => visibleOwned(ctx, 'workflow', (id) => d.workflows.get(id), forWrite);

  r.post('/workflows', async (ctx) => {
    requireWrite(ctx);
    const sub = parseWorkflowSubmission(await readJson(ctx, d.maxBodyBytes), limitsOf(roleLimits, ctx.state.caller.roles), d.maxNodes);
    let outcome;
    try {
      outcome = await d.workflows.submit(sub, ctx.state.caller.sub, idempotencyKeyOf(ctx), currentTraceparent());
    } catch (err) {
      if (err instanceof WorkflowDefinitionError) throw badRequest(err.message, { field: err.field });
      if (err instanceof StoreUnavailableError) throw unavailable('the store is unavailable; the workflow was not stored', 1);
      throw err;
    }
    const wf = await read(() => d.workflows.get(outcome.id));
    if (!wf) throw notFound('the workflow of this Idempotency-Key no longer exists');
    ctx.status = outcome.created ? 201 : 200;
    ctx.set('Location', `/workflows/${wf.id}`);
    sendJson(ctx, await read(() => d.workflows.view(wf)));
  });

  r.get('/workflows', async (ctx) => {
    if (ctx.state.rights.readTasks === 'none') throw forbidden('your role may not read workflows');
    const q = parseOr400(workflowListQuerySchema, ctx.query, 'query');
    const owner = ctx.state.rights.readTasks === 'own' ? ctx.state.caller.sub : q.owner;
    const filter = { limit: q.limit, ...(q.status ? { status: q.status } : {}), ...(owner !== undefined ? { owner } : {}), ...(q.cursor ? { cursor: decodeCursor(q.cursor) } : {}) };
    const rows = await read(() => d.workflows.list(filter));
    const last = rows[rows.length - 1];
    sendJson(ctx, { items: rows.map(toApiWorkflow), nextCursor: rows.length === q.limit && last ? encodeCursor(last.createdAt, last.id) : null });
  });

  r.get('/workflows/:id', async (ctx) => {
    const wf = await visible(ctx);
    sendJson(ctx, await read(() => d.workflows.view(wf)));
  });

  r.post('/workflows/:id/cancel', async (ctx) => {
    requireWrite(ctx);
    const wf = await visible(ctx, true);
    const out = await read(() => d.workflows.cancel(wf, `workflow cancelled by ${ctx.state.caller.sub}`));
    sendJson(ctx, await read(() => d.workflows.view(out)));
  });

  return r;
}

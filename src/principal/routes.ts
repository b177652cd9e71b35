import Router from '@koa/router';
import { z } from 'zod';
import { ATTR, currentTraceparent, SPAN, withSpan } from '../observability';
import { type AuthState, readJson, sendJson, badRequest, conflict, forbidden, HttpProblem, notFound, unavailable, decodeCursor, encodeCursor, listQuerySchema, parseOr400, patchTaskSchema, submitTaskSchema, checkPriority, checkSubmission, DEFAULT_TASK_LIMITS, limitsOf, type RoleLimits, listPage, scheduleOf, type SubmitTask } from '../http';
import { StoreUnavailableError } from '../errors';
import { type Ctx, idempotencyKeyOf, read, requireWrite as requireWriteOf, visibleOwned } from './route-access';
import { toApiTask, type ModelCatalog, type TaskRecord } from '../store';
import { withModelOf } from './task-model';
import type { TaskAdmission } from './admission';
import type { TaskControl } from './task-control';
import type { ClusterView } from './cluster-view';
import { preferredWaitSec, type TaskWaiters } from './task-waiters';
import { TERMINAL_STATUSES } from '../task';
import { tenantOf } from '../security';
import { assertTenantRoom } from './tenant-routes';
import type { TenantLedger } from './tenant-ledger';

export interface RouteDeps {
  admission: TaskAdmission;
  control: TaskControl;
  cluster: ClusterView;
  maxBodyBytes: number;
  maxBatch: number;
  /** Per-role ceilings of a submission (TASK_LIMITS). @defaultValue {@link DEFAULT_TASK_LIMITS} */
  limits?: RoleLimits;
  /** Bytes of task JSON one `GET /tasks` page may hold. @defaultValue 4 MiB */
  listMaxBytes?: number;
  /** How far ahead a submission may be scheduled (TASK_MAX_DELAY_MS). @defaultValue 366 days */
  maxDelayMs?: number;
  /** Requests waiting for their task to end (`Prefer: wait`, `?wait=`); without it nothing waits. */
  waiters?: TaskWaiters;
  /** The longest wait a request may ask for (PRINCIPAL_MAX_WAIT_SEC). @defaultValue 60 */
  maxWaitSec?: number;
  /** Tenant caps: a submission past `maxQueued` or the GPU-seconds budget is a 429. Without it, none. */
  tenants?: TenantLedger;
  /** Deployed models: a task naming another is a 400. Without it, model names are not checked. */
  models?: ModelCatalog;
}

/** `?wait=` of `GET /tasks/{id}`: whole seconds; above the cap it is capped, like `Prefer: wait`. */
const waitQuerySchema = z.object({ wait: z.coerce.number().int().min(0).max(1_000_000_000).optional() });

const isTerminal = (t: TaskRecord) => (TERMINAL_STATUSES as readonly string[]).includes(t.status);

/** The default horizon of a delayed submission: a year and a day. */
const DEFAULT_MAX_DELAY_MS = 366 * 24 * 3600 * 1000;

/** The routes of DESIGN.md's REST table, with the role table and ownership enforced on each. */
export function taskRoutes(d: RouteDeps): Router<AuthState> {
  const r = new Router<AuthState>();
  const roleLimits = d.limits ?? DEFAULT_TASK_LIMITS;
  const limitsFor = (ctx: Ctx) => limitsOf(roleLimits, ctx.state.caller.roles);
  const horizonMs = d.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;

  const requireWrite = (ctx: Ctx) => requireWriteOf(ctx, 'tasks');
  /** A task the caller may see (or, `forWrite`, change); another owner's is reported missing. */
  const visibleTask = (ctx: Ctx, forWrite = false): Promise<TaskRecord> => visibleOwned(ctx, 'task', (id) => d.control.get(id), forWrite);
  const maxWaitSec = d.maxWaitSec ?? 60;

  /**
   * Waits (as the request asked, for at most `sec`) until task `id` ends, then reads it again. The
   * wait starts before the read, so an event that comes between the two is not missed; the
   * client going away ends it.
   */
  const untilEnded = async (ctx: Ctx, task: TaskRecord, sec: number, started = d.waiters?.wait(task.id, sec * 1000) ?? undefined): Promise<TaskRecord> => {
    if (!started) return task;
    const stop = () => started.cancel();
    ctx.req.once('close', stop);
    try {
      const now = (await read(() => d.control.get(task.id))) ?? task;
      if (isTerminal(now)) return now;
      return (await started.ended) ? ((await read(() => d.control.get(task.id))) ?? now) : now;
    } finally {
      started.cancel();
      ctx.req.off('close', stop);
    }
  };

  r.post('/tasks', async (ctx) => {
    requireWrite(ctx);
    const body = await withModelOf(d.models, parseOr400(submitTaskSchema, await readJson(ctx, d.maxBodyBytes)));
    checkSubmission(body, limitsFor(ctx));
    assertTenantRoom(d.tenants, ctx, 1);
    const runAt = scheduleOf(body, { horizonMs, nowMs: Date.now() });
    const waitSec = preferredWaitSec(ctx.get('prefer'), maxWaitSec);
    const { first, created, wait } = await withSpan(SPAN.taskSubmit, {}, async (span) => {
      const task = d.admission.build(body, ctx.state.caller.sub, currentTraceparent(), runAt, tenantOf(ctx.state.caller));
      span.setAttributes({ [ATTR.taskId]: task.id, [ATTR.taskType]: task.type, [ATTR.taskPriority]: task.priority });
      // Waiting starts before the task can run: its end cannot come before the wait is in place.
      const started = d.waiters?.wait(task.id, waitSec * 1000) ?? undefined;
      let outcome;
      try {
        outcome = await d.admission.submit([task], idempotencyKeyOf(ctx));
      } catch (err) {
        started?.cancel();
        // Name the id that was not stored, so a caller can confirm that nothing half-exists.
        if (err instanceof StoreUnavailableError) throw unavailable(`the task store is unavailable; task ${task.id} was not stored`, 1, { taskId: task.id });
        throw err;
      }
      if (outcome.created) return { first: task, created: true, wait: started };
      // A replayed Idempotency-Key: the answer is the earlier task, waited for in the same way.
      started?.cancel();
      const earlier = await read(() => d.control.get(outcome.ids[0]!));
      if (!earlier) throw new HttpProblem(409, 'Conflict', 'the task of this Idempotency-Key no longer exists');
      return { first: earlier, created: false, wait: undefined };
    });
    ctx.status = created ? 201 : 200;
    const stored = waitSec === 0 || isTerminal(first) ? first : await untilEnded(ctx, first, waitSec, created ? wait : undefined);
    ctx.set('Location', `/tasks/${stored.id}`);
    sendJson(ctx, toApiTask(stored));
  });

  r.post('/tasks/batch', async (ctx) => {
    requireWrite(ctx);
    const raw = await readJson(ctx, d.maxBodyBytes);
    if (!raw || typeof raw !== 'object' || !Array.isArray((raw as { tasks?: unknown }).tasks)) throw badRequest('tasks: must be an array', { field: 'tasks' });
    const list = (raw as { tasks: unknown[] }).tasks;
    if (list.length === 0 || list.length > d.maxBatch) throw badRequest(`tasks: between 1 and ${d.maxBatch} tasks per batch`, { field: 'tasks' });
    assertTenantRoom(d.tenants, ctx, list.length);
    const bodies: SubmitTask[] = [];
    for (const [i, item] of list.entries()) bodies.push(await withModelOf(d.models, parseOr400(submitTaskSchema, item, `tasks.${i}`), `tasks.${i}.model`));
    const { ids, created } = await withSpan(SPAN.taskSubmit, { [ATTR.taskCount]: list.length }, () => {
      const trace = currentTraceparent();
      const limits = limitsFor(ctx);
      const nowMs = Date.now();
      const tasks = bodies.map((body, i) => {
        checkSubmission(body, limits, `tasks.${i}`);
        return d.admission.build(body, ctx.state.caller.sub, trace, scheduleOf(body, { horizonMs, nowMs }, `tasks.${i}`), tenantOf(ctx.state.caller));
      });
      return d.admission.submit(tasks, idempotencyKeyOf(ctx));
    });
    ctx.status = created ? 201 : 200;
    sendJson(ctx, { ids });
  });

  r.get('/tasks', async (ctx) => {
    if (ctx.state.rights.readTasks === 'none') throw forbidden('your role may not read tasks');
    const q = parseOr400(listQuerySchema, ctx.query, 'query');
    const owner = ctx.state.rights.readTasks === 'own' ? ctx.state.caller.sub : q.owner;
    // Decoded before the store is asked, so a bad cursor is the caller's 400, not a store 503.
    const filter = {
      limit: q.limit, ...(q.status ? { status: q.status } : {}), ...(q.type ? { type: q.type } : {}), ...(owner !== undefined ? { owner } : {}),
      ...(q.cursor ? { cursor: decodeCursor(q.cursor) } : {}),
    };
    const rows = await read(() => d.control.list(filter));
    const include = new Set(q.include?.split(',') ?? []);
    const { items, last, full } = listPage(rows, { payload: include.has('payload'), result: include.has('result'), maxBytes: d.listMaxBytes ?? 4 * 1024 * 1024 });
    // A page cut short by its size goes on from its last item, like a full one.
    const more = full ? rows.length === q.limit : true;
    sendJson(ctx, { items, nextCursor: more && last ? encodeCursor(last.createdAt, last.id) : null });
  });

  r.get('/tasks/:id', async (ctx) => {
    const { wait } = parseOr400(waitQuerySchema, { wait: ctx.query['wait'] }, 'query');
    const task = await visibleTask(ctx);
    const waitSec = Math.min(wait ?? 0, maxWaitSec);
    sendJson(ctx, toApiTask(isTerminal(task) || waitSec === 0 ? task : await untilEnded(ctx, task, waitSec)));
  });

  r.patch('/tasks/:id', async (ctx) => {
    requireWrite(ctx);
    const task = await visibleTask(ctx, true);
    const body = parseOr400(patchTaskSchema, await readJson(ctx, d.maxBodyBytes));
    checkPriority(body.priority, limitsFor(ctx));
    const updated = await read(() => d.control.setPriority(task.id, body.priority));
    // The queued message sits in its old priority band: publish it again in the new one (the
    // duplicate is dropped by the dispatch guard). A scheduled task is published at its release.
    if (updated?.status === 'queued') void d.admission.publish(updated);
    if (!updated) throw conflict(`task ${task.id} is ${task.status === 'queued' || task.status === 'scheduled' ? `no longer ${task.status}` : task.status}; only a queued or scheduled task's priority can change`);
    sendJson(ctx, toApiTask(updated));
  });

  r.post('/tasks/:id/cancel', async (ctx) => {
    requireWrite(ctx);
    const task = await visibleTask(ctx, true);
    const out = await read(() => d.control.cancel(task, `cancelled by ${ctx.state.caller.sub}`));
    sendJson(ctx, toApiTask(out));
  });

  r.delete('/tasks/:id', async (ctx) => {
    requireWrite(ctx);
    const task = await visibleTask(ctx, true);
    await read(() => d.control.remove(task, `deleted by ${ctx.state.caller.sub}`));
    ctx.status = 204;
  });

  r.get('/nodes', async (ctx) => {
    if (!ctx.state.rights.readNodes) throw forbidden('your role may not read nodes');
    await d.cluster.refresh();
    sendJson(ctx, { items: d.cluster.nodes() });
  });

  r.post('/nodes/:id/release', async (ctx) => {
    if (!ctx.state.rights.manageNodes) throw forbidden('only an admin may release a quarantined node');
    const id = ctx.params['id'] ?? '';
    if (!(await read(() => d.cluster.release(id)))) throw notFound(`no reputation record for node ${id.slice(0, 128)}`);
    sendJson(ctx, { id, quarantined: false });
  });

  r.get('/cluster', async (ctx) => {
    if (!ctx.state.rights.readNodes) throw forbidden('your role may not read the cluster');
    sendJson(ctx, await d.cluster.summary());
  });

  return r;
}

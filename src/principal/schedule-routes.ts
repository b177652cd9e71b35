import { randomUUID } from 'node:crypto';
import type Router from '@koa/router';
import {
  type AuthState, badRequest, checkSubmission, conflict, createScheduleSchema, decodeCursor, encodeCursor, forbidden, HttpProblem, limitsOf, notFound,
  parseOr400, patchScheduleSchema, readJson, type RoleLimits, scheduleListQuerySchema, sendJson,
} from '../http';
import { nextTickAfter } from '../schedule';
import { type ScheduleChange, type ScheduleRecord, type ScheduleRepository, toApiSchedule } from '../store';
import { type Ctx, idempotencyKeyOf, read, requireWrite as requireWriteOf, visibleOwned } from './route-access';

export interface ScheduleRouteDeps {
  schedules: ScheduleRepository;
  /** Per-role ceilings of a submission (TASK_LIMITS): a schedule's task is held to them like a POST /tasks. */
  limits: RoleLimits;
  maxBodyBytes: number;
  maxPerOwner: number;
}

/** The first tick after now, or a 400 naming the field when the library cannot compute one. */
function firstTick(s: { cron: string; timezone: string }): Date {
  try {
    return new Date(nextTickAfter(s, Date.now()));
  } catch (err) {
    throw badRequest(`cron: no next run can be computed (${(err as Error).message})`, { field: 'cron' });
  }
}

/**
 * `/schedules`: owned like tasks. Reading follows the caller's right to read tasks, changing
 * follows the right to change them; another owner's schedule is reported missing, not forbidden.
 */
export function addScheduleRoutes(r: Router<AuthState>, d: ScheduleRouteDeps): void {
  const requireWrite = (ctx: Ctx) => requireWriteOf(ctx, 'schedules');
  const visible = (ctx: Ctx): Promise<ScheduleRecord> => visibleOwned(ctx, 'schedule', (id) => d.schedules.get(id));
  /** A writer with `own` rights may change only its own schedules; reading one is not enough. */
  const writable = (ctx: Ctx): Promise<ScheduleRecord> => {
    requireWrite(ctx);
    return visibleOwned(ctx, 'schedule', (id) => d.schedules.get(id), true);
  };
  const limitsFor = (ctx: Ctx) => limitsOf(d.limits, ctx.state.caller.roles);
  const updated = (s: ScheduleRecord | undefined, id: string) => {
    if (!s) throw notFound(`no schedule ${id}`);
    return toApiSchedule(s);
  };

  r.post('/schedules', async (ctx) => {
    requireWrite(ctx);
    const body = parseOr400(createScheduleSchema, await readJson(ctx, d.maxBodyBytes));
    checkSubmission(body.task, limitsFor(ctx), 'task');
    const now = new Date();
    const schedule: ScheduleRecord = {
      id: randomUUID(), owner: ctx.state.caller.sub, name: body.name, cron: body.cron, timezone: body.timezone, task: body.task,
      overlap: body.overlap, catchup: body.catchup, paused: body.paused, revision: 0, nextRunAt: firstTick(body), lastRun: null,
      runsCreated: 0, runsSkipped: 0, createdAt: now, updatedAt: now,
    };
    const out = await read(() => d.schedules.insert(schedule, d.maxPerOwner, idempotencyKeyOf(ctx)));
    if (out.capped !== undefined) throw conflict(`you have ${out.capped} schedules, the most one owner may have (${d.maxPerOwner})`);
    const stored = out.existing !== undefined ? await read(() => d.schedules.get(out.existing!)) : schedule;
    if (!stored) throw new HttpProblem(409, 'Conflict', 'the schedule of this Idempotency-Key no longer exists');
    ctx.status = out.existing !== undefined ? 200 : 201;
    ctx.set('Location', `/schedules/${stored.id}`);
    sendJson(ctx, toApiSchedule(stored));
  });

  r.get('/schedules', async (ctx) => {
    if (ctx.state.rights.readTasks === 'none') throw forbidden('your role may not read schedules');
    const q = parseOr400(scheduleListQuerySchema, ctx.query, 'query');
    const owner = ctx.state.rights.readTasks === 'own' ? ctx.state.caller.sub : q.owner;
    const filter = { limit: q.limit, ...(owner !== undefined ? { owner } : {}), ...(q.cursor ? { cursor: decodeCursor(q.cursor) } : {}) };
    const rows = await read(() => d.schedules.list(filter));
    const last = rows.at(-1);
    sendJson(ctx, { items: rows.map(toApiSchedule), nextCursor: rows.length === q.limit && last ? encodeCursor(last.createdAt, last.id) : null });
  });

  r.get('/schedules/:id', async (ctx) => {
    sendJson(ctx, toApiSchedule(await visible(ctx)));
  });

  r.patch('/schedules/:id', async (ctx) => {
    const s = await writable(ctx);
    const body = parseOr400(patchScheduleSchema, await readJson(ctx, d.maxBodyBytes));
    if (body.task) checkSubmission(body.task, limitsFor(ctx), 'task');
    const change: ScheduleChange = { ...body, ...(body.task ? { task: body.task } : {}) };
    // A new cron or zone counts its ticks from now: ticks of the old definition are not caught up.
    if (body.cron !== undefined || body.timezone !== undefined) change.nextRunAt = firstTick({ cron: body.cron ?? s.cron, timezone: body.timezone ?? s.timezone });
    sendJson(ctx, updated(await read(() => d.schedules.update(s.id, change)), s.id));
  });

  r.post('/schedules/:id/pause', async (ctx) => {
    const s = await writable(ctx);
    sendJson(ctx, updated(await read(() => d.schedules.update(s.id, { paused: true })), s.id));
  });

  r.post('/schedules/:id/resume', async (ctx) => {
    const s = await writable(ctx);
    // Ticks that fell while paused are not runs: the schedule goes on from now.
    sendJson(ctx, updated(await read(() => d.schedules.update(s.id, { paused: false, nextRunAt: firstTick(s) })), s.id));
  });

  r.delete('/schedules/:id', async (ctx) => {
    const s = await writable(ctx);
    await read(() => d.schedules.delete(s.id));
    ctx.status = 204;
  });
}

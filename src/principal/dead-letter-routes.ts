import Router from '@koa/router';
import { type AuthState, conflict, deadLetterListQuerySchema, decodeCursor, encodeCursor, forbidden, notFound, parseOr400, sendJson, uuidSchema } from '../http';
import { toApiDeadLetter, toApiTask, type DeadLetterRecord, type DeadLetterRepository, type TaskRecord } from '../store';
import { type Ctx, read } from './route-access';
import { retryRefusedDetail, type TaskRetry } from './task-retry';

/** What the dead-letter routes need. */
export interface DeadLetterRouteDeps {
  store: Pick<DeadLetterRepository, 'list' | 'get' | 'delete'>;
  /** The retry path a re-drive takes. */
  retry: TaskRetry;
  getTask: (id: string) => Promise<TaskRecord | undefined>;
}

const listSchema = deadLetterListQuerySchema;

/** Dead letters are the whole cluster's: only those who read (or change) every task see (or handle) them: admins and operators. */
function requireAll(ctx: Ctx, what: 'readTasks' | 'writeTasks'): void {
  if (ctx.state.rights[what] !== 'all') throw forbidden(what === 'readTasks' ? 'only an admin or operator may read dead letters' : 'only an admin or operator may handle dead letters');
}

/**
 * `GET /dead-letters`, `POST /dead-letters/{id}/redrive`, `DELETE /dead-letters/{id}`: what failed
 * for good and why, newest first; a failed task's letter re-drives it through the retry path
 * (`POST /tasks/{id}/retry`), and a letter with no task (a message the broker dead-lettered, a
 * forged one) cannot be re-driven: it stays until deleted.
 */
export function deadLetterRoutes(d: DeadLetterRouteDeps): Router<AuthState> {
  const r = new Router<AuthState>();

  const letterOf = async (ctx: Ctx): Promise<DeadLetterRecord> => {
    const id = ctx.params['id'] ?? '';
    if (!uuidSchema.safeParse(id).success) throw notFound(`no dead letter ${id.slice(0, 64)}`);
    const letter = await read(() => d.store.get(id));
    if (!letter) throw notFound(`no dead letter ${id}`);
    return letter;
  };

  r.get('/dead-letters', async (ctx) => {
    requireAll(ctx, 'readTasks');
    const q = parseOr400(listSchema, ctx.query, 'query');
    const cursor = q.cursor ? decodeCursor(q.cursor) : undefined;
    const rows = await read(() => d.store.list({ limit: q.limit, ...(cursor ? { cursor } : {}) }));
    const last = rows.at(-1);
    sendJson(ctx, { items: rows.map(toApiDeadLetter), nextCursor: rows.length === q.limit && last ? encodeCursor(last.createdAt, last.id) : null });
  });

  r.post('/dead-letters/:id/redrive', async (ctx) => {
    requireAll(ctx, 'writeTasks');
    const letter = await letterOf(ctx);
    if (!letter.taskId) throw conflict(`dead letter ${letter.id} names no task it could confirm (a ${letter.reason} ${letter.messageType} message); it cannot be re-driven`);
    const taskId = letter.taskId;
    const task = await read(() => d.getTask(taskId));
    if (!task) throw conflict(`task ${taskId} of dead letter ${letter.id} no longer exists; it cannot be re-driven`);
    const out = await read(() => d.retry.retry(task, ctx.state.caller.sub));
    if ('refused' in out) throw conflict(retryRefusedDetail(task, out.refused));
    sendJson(ctx, { deadLetter: letter.id, task: toApiTask(out.task) });
  });

  r.delete('/dead-letters/:id', async (ctx) => {
    requireAll(ctx, 'writeTasks');
    const id = ctx.params['id'] ?? '';
    if (!uuidSchema.safeParse(id).success || !(await read(() => d.store.delete(id)))) throw notFound(`no dead letter ${id.slice(0, 64)}`);
    ctx.status = 204;
  });

  return r;
}

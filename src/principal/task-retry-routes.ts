import type Router from '@koa/router';
import { type AuthState, conflict, sendJson } from '../http';
import { toApiTask, type TaskRecord } from '../store';
import { read, requireWrite, visibleOwned } from './route-access';
import { retryRefusedDetail, type TaskRetry } from './task-retry';

/** What `POST /tasks/{id}/retry` needs. */
export interface TaskRetryRouteDeps {
  retry: TaskRetry;
  /** Reads a task (the principal's TaskControl). */
  getTask: (id: string) => Promise<TaskRecord | undefined>;
}

/**
 * `POST /tasks/{id}/retry`: a writer runs a failed task again (an `own` writer only its own
 * tasks, as for cancel). 200 with the task queued again; 409 for a task that is not failed, or
 * that a retry of the same run (a double click) already took back.
 */
export function addTaskRetryRoute(r: Router<AuthState>, d: TaskRetryRouteDeps): void {
  r.post('/tasks/:id/retry', async (ctx) => {
    requireWrite(ctx, 'tasks');
    const task = await visibleOwned(ctx, 'task', d.getTask, true);
    const out = await read(() => d.retry.retry(task, ctx.state.caller.sub));
    if ('refused' in out) throw conflict(retryRefusedDetail(task, out.refused));
    sendJson(ctx, toApiTask(out.task));
  });
}

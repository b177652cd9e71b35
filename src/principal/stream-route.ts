import type Router from '@koa/router';
import { PassThrough } from 'node:stream';
import { type AuthState, unavailable } from '../http';
import { toApiTask, type TaskRecord } from '../store';
import { TERMINAL_STATUSES } from '../task';
import { read, visibleOwned } from './route-access';
import type { TaskControl } from './task-control';
import type { OutputChunk, TaskOutputs } from './task-outputs';

export interface StreamRouteDeps {
  control: Pick<TaskControl, 'get'>;
  outputs: TaskOutputs;
  /** Streams open at once on this principal (PRINCIPAL_MAX_STREAMS); past it a 503. */
  maxStreams: number;
  /** A comment line this often keeps proxies from closing a quiet stream. @defaultValue 15000 */
  keepAliveMs?: number;
}

const isTerminal = (t: TaskRecord) => (TERMINAL_STATUSES as readonly string[]).includes(t.status);

/**
 * `GET /tasks/{id}/stream`: Server-Sent Events of the task's output as it is produced. A client
 * that connects late gets the chunks kept so far first. `event: chunk` carries
 * `{attempt, seq, text}`; a new attempt (a retry) starts again at seq 0. One `event: end` carries
 * the task as `GET /tasks/{id}` shows it once it ended, then the stream closes: the result is the
 * source of truth, the chunks are its live view.
 */
export function addStreamRoute(r: Router<AuthState>, d: StreamRouteDeps): { closeAll: () => void } {
  const open = new Set<() => void>();
  r.get('/tasks/:id/stream', async (ctx) => {
    const task = await visibleOwned(ctx, 'task', (id) => d.control.get(id));
    if (open.size >= d.maxStreams) throw unavailable(`${open.size} output streams are open on this principal (PRINCIPAL_MAX_STREAMS)`, 5);
    const body = new PassThrough();
    const send = (event: string, data: unknown) => body.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    let closed = false;
    let ending: Promise<void> | undefined;
    const close = () => {
      if (closed) return;
      closed = true;
      open.delete(close);
      clearInterval(keepAlive);
      follow.stop();
      body.end();
    };
    /** The end: the task as stored (it may have ended on another An than this principal heard from). */
    const finish = (known?: TaskRecord) => (ending ??= (async () => {
      const last = known ?? (await read(() => d.control.get(task.id)).catch(() => undefined)) ?? task;
      if (!closed) send('end', toApiTask(last));
      close();
    })());
    open.add(close);
    const follow = d.outputs.follow(task.id, { chunk: (c: OutputChunk) => { if (!closed) send('chunk', c); }, end: () => { void finish(); } });
    const keepAlive = setInterval(() => body.write(': keep-alive\n\n'), d.keepAliveMs ?? 15_000);
    ctx.req.once('close', close);
    ctx.req.socket?.setTimeout(0);
    ctx.req.socket?.setNoDelay(true);
    ctx.status = 200;
    ctx.type = 'text/event-stream';
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('X-Accel-Buffering', 'no');
    ctx.body = body;
    for (const c of follow.backlog) send('chunk', c);
    // Read again now that the follow is in place: an end between the first read and it is not missed.
    const now = isTerminal(task) ? task : await read(() => d.control.get(task.id)).catch(() => task);
    if (now && isTerminal(now)) void finish(now);
  });
  // At shutdown: the server's close waits for every open response.
  return { closeAll: () => { for (const close of [...open]) close(); } };
}

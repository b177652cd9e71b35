import type Router from '@koa/router';
import type Koa from 'koa';
import { type AuthState, badRequest, forbidden, notFound, uuidSchema } from '../http';
import { StoreUnavailableError } from '../errors';

/** The context of a REST route: the caller's verified identity and rights in `state`. */
export type Ctx = Koa.ParameterizedContext<AuthState, Router.RouterParamContext<AuthState>>;

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/** A DB read that fails is a 503, not a 500. */
export async function read<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new StoreUnavailableError('task store unavailable', { cause: err });
  }
}

/** The request's Idempotency-Key header, checked; undefined when absent. */
export function idempotencyKeyOf(ctx: Pick<Koa.Context, 'get'>): string | undefined {
  const key = ctx.get('idempotency-key');
  if (!key) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) throw badRequest('Idempotency-Key: 1 to 200 visible ASCII characters', { field: 'Idempotency-Key' });
  return key;
}

/** A 403 for a role that may change no tasks (nor the schedules and workflows that make them). */
export function requireWrite(ctx: Ctx, what: string): void {
  if (ctx.state.rights.writeTasks === 'none') throw forbidden(`your role may not change ${what}`);
}

/**
 * Loads the owned record named by the route's `:id` that the caller may see: tasks, schedules and
 * workflows alike. Another owner's record is reported missing, not forbidden, so ids of others
 * cannot be probed; `forWrite` also holds a writer with `own` rights to its own records.
 */
export async function visibleOwned<T extends { owner: string }>(ctx: Ctx, what: string, load: (id: string) => Promise<T | null | undefined>, forWrite = false): Promise<T> {
  const id = ctx.params['id'] ?? '';
  if (!uuidSchema.safeParse(id).success) throw notFound(`no ${what} ${id.slice(0, 64)}`);
  const record = await read(() => load(id));
  const { rights, caller } = ctx.state;
  const mine = record?.owner === caller.sub;
  if (!record || rights.readTasks === 'none' || (rights.readTasks === 'own' && !mine) || (forWrite && rights.writeTasks === 'own' && !mine)) throw notFound(`no ${what} ${id}`);
  return record;
}

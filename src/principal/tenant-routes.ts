import Router from '@koa/router';
import { type AuthState, badRequest, forbidden, HttpProblem, parseOr400, readJson, sendJson, tenantSettingsSchema } from '../http';
import { tenantOf } from '../security';
import type { TenantRepository } from '../store';
import { type Ctx, read } from './route-access';
import type { TenantLedger } from './tenant-ledger';

export interface TenantRouteDeps {
  ledger: TenantLedger;
  tenants: TenantRepository;
  maxBodyBytes: number;
}

export { tenantSettingsSchema } from '../http';

// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const TENANT_NAME = /^[^\u0000-\u001f\u007f]{1,128}$/;

/**
 * A 429 when `count` more queued tasks would pass the caller's tenant's `maxQueued`, or the tenant
 * has used its GPU-seconds budget for this period; the problem names the limit.
 */
export function assertTenantRoom(ledger: TenantLedger | undefined, ctx: Ctx, count: number): void {
  const hit = ledger?.limitHit(tenantOf(ctx.state.caller), count);
  if (!hit) return;
  throw new HttpProblem(429, 'Too Many Requests', hit.detail, { limit: hit.limit, tenant: tenantOf(ctx.state.caller), retryAfterSec: hit.retryAfterSec }, { 'Retry-After': String(hit.retryAfterSec) });
}

/**
 * `/tenants`: admins set a tenant's weight and caps; admins and operators read every tenant, any
 * other caller reads only its own tenant (the one its token names), as a list of one.
 */
export function tenantRoutes(d: TenantRouteDeps): Router<AuthState> {
  const r = new Router<AuthState>();

  r.get('/tenants', async (ctx) => {
    const { caller, rights } = ctx.state;
    await read(() => d.ledger.refresh());
    sendJson(ctx, { items: d.ledger.status(rights.readTasks === 'all' ? undefined : [tenantOf(caller)]) });
  });

  r.put('/tenants/:name', async (ctx) => {
    if (!ctx.state.caller.roles.includes('admin')) throw forbidden('only an admin may change a tenant');
    const name = ctx.params['name'] ?? '';
    if (!TENANT_NAME.test(name)) throw badRequest('name: 1 to 128 characters without control characters', { field: 'name' });
    const settings = parseOr400(tenantSettingsSchema, await readJson(ctx, d.maxBodyBytes));
    d.ledger.configured(await read(() => d.tenants.upsert(name, settings)));
    sendJson(ctx, d.ledger.status([name])[0]);
  });

  return r;
}

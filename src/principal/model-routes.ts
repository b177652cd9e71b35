import Router from '@koa/router';
import { type AuthState, badRequest, deployModelSchema, forbidden, modelNameSchema, notFound, parseOr400, readJson, sendJson, warmRangeOf } from '../http';
import type { ModelCatalog, ModelRecord, ModelRepository } from '../store';
import { replicasByModel, type ModelReplica } from './model-replicas';
import { type Ctx, read } from './route-access';

export interface ModelRouteDeps {
  models: ModelRepository;
  catalog: ModelCatalog;
  /** The replicas the live Kis report in their heartbeats. */
  replicas: () => readonly ModelReplica[];
  maxBodyBytes: number;
}

/** A model as REST shows it: its deployment and where it is resident now. */
export function toApiModel(m: ModelRecord, replicas: readonly ModelReplica[]) {
  return {
    name: m.name, type: m.type, requirements: m.requirements, warm: m.warm, config: m.config, createdBy: m.createdBy,
    createdAt: m.createdAt.toISOString(), updatedAt: m.updatedAt.toISOString(),
    replicas: replicas.map((r) => ({ ki: r.ki, state: r.state, since: new Date(r.sinceMs).toISOString() })).sort((a, b) => a.ki.localeCompare(b.ki)),
  };
}

const mayDeploy = (ctx: Ctx) => ctx.state.caller.roles.some((r) => r === 'admin' || r === 'operator');

/**
 * `/models`: admins and operators deploy (`POST`, a redeploy under the same name replaces the
 * settings) and delete models; every role reads them, each with the Kis it is resident on.
 */
export function modelRoutes(d: ModelRouteDeps): Router<AuthState> {
  const r = new Router<AuthState>();

  r.get('/models', async (ctx) => {
    const byModel = replicasByModel(d.replicas());
    const models = await read(() => d.models.list());
    sendJson(ctx, { items: models.map((m) => toApiModel(m, byModel.get(m.name) ?? [])) });
  });

  r.post('/models', async (ctx) => {
    if (!mayDeploy(ctx)) throw forbidden('only an admin or operator may deploy a model');
    const body = parseOr400(deployModelSchema, await readJson(ctx, d.maxBodyBytes));
    const { model, created } = await read(() => d.models.upsert(body.name, { type: body.type, requirements: body.requirements, warm: warmRangeOf(body.warm), config: body.config }, ctx.state.caller.sub));
    await d.catalog.refresh().catch(() => undefined);
    ctx.status = created ? 201 : 200;
    ctx.set('Location', `/models/${encodeURIComponent(model.name)}`);
    sendJson(ctx, toApiModel(model, replicasByModel(d.replicas()).get(model.name) ?? []));
  });

  r.delete('/models/:name', async (ctx) => {
    if (!mayDeploy(ctx)) throw forbidden('only an admin or operator may delete a model');
    const name = ctx.params['name'] ?? '';
    if (!modelNameSchema.safeParse(name).success) throw badRequest('name: 1 to 128 letters, digits and . _ : -', { field: 'name' });
    if (!(await read(() => d.models.delete(name)))) throw notFound(`no model ${name}`);
    await d.catalog.refresh().catch(() => undefined);
    ctx.status = 204;
  });

  return r;
}

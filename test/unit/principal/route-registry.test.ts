import { strict as assert } from 'node:assert';
import type Router from '@koa/router';
import { DEFAULT_TASK_LIMITS, type AuthState } from '../../../src/http';
import { API_ROUTE_SPECS } from '../../../src/http/openapi';
import { taskRoutes } from '../../../src/principal/routes';
import { addScheduleRoutes } from '../../../src/principal/schedule-routes';
import { workflowRoutes } from '../../../src/principal/workflow-routes';

/** The API router as the REST server mounts it; the handlers never run, so the deps are empty. */
function mountedApi(): Router<AuthState> {
  const unused = {} as never;
  const api = taskRoutes({ admission: unused, control: unused, cluster: unused, maxBodyBytes: 1, maxBatch: 1 });
  addScheduleRoutes(api, { schedules: unused, limits: DEFAULT_TASK_LIMITS, maxBodyBytes: 1, maxPerOwner: 1 });
  api.use(workflowRoutes({ workflows: unused, maxBodyBytes: 1, maxNodes: 1 }).routes());
  return api;
}

/** `METHOD /path` of every route a router answers (HEAD rides along with GET). */
function mountedRoutes(router: Router<AuthState>): string[] {
  return router.stack.flatMap((layer) => layer.methods.filter((m) => m !== 'HEAD').map((m) => `${m} ${layer.path}`)).sort();
}

describe('the OpenAPI route registry', () => {
  it('describes every route the API router mounts, and no route it does not mount', () => {
    const mounted = mountedRoutes(mountedApi());
    assert.ok(mounted.length >= 20, `found ${mounted.length} routes`);
    const described = API_ROUTE_SPECS.map((r) => `${r.method.toUpperCase()} ${r.path}`).sort();
    assert.deepEqual(described, mounted);
  });
});

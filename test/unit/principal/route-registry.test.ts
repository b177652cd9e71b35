import { strict as assert } from 'node:assert';
import type Router from '@koa/router';
import { DEFAULT_TASK_LIMITS, type AuthState } from '../../../src/http';
import type { z } from 'zod';
import { API_ROUTE_SPECS, type clusterSummarySchema, type metricsSeriesSchema, type nodeSchema, type workflowSummarySchema } from '../../../src/http/openapi';
import type { SeriesColumns } from '../../../src/principal/metrics-series';
import type { ClusterView } from '../../../src/principal/cluster-view';
import type { toApiWorkflow } from '../../../src/principal/workflow-control';
import { taskRoutes } from '../../../src/principal/routes';
import { addScheduleRoutes } from '../../../src/principal/schedule-routes';
import { workflowRoutes } from '../../../src/principal/workflow-routes';
import { addStreamRoute } from '../../../src/principal/stream-route';
import { addTaskRetryRoute } from '../../../src/principal/task-retry-routes';
import { deadLetterRoutes } from '../../../src/principal/dead-letter-routes';
import { nodeRoutes } from '../../../src/principal/node-routes';
import { tenantRoutes } from '../../../src/principal/tenant-routes';
import { seriesRoutes } from '../../../src/principal/series-route';
import { modelRoutes, type toApiModel } from '../../../src/principal/model-routes';
import type { modelSchema } from '../../../src/http/openapi';

/** The API router as the REST server mounts it; the handlers never run, so the deps are empty. */
function mountedApi(): Router<AuthState> {
  const unused = {} as never;
  const api = taskRoutes({ admission: unused, control: unused, cluster: unused, maxBodyBytes: 1, maxBatch: 1 });
  addScheduleRoutes(api, { schedules: unused, limits: DEFAULT_TASK_LIMITS, maxBodyBytes: 1, maxPerOwner: 1 });
  api.use(workflowRoutes({ workflows: unused, maxBodyBytes: 1, maxNodes: 1 }).routes());
  addStreamRoute(api, { control: unused, outputs: unused, maxStreams: 1 });
  addTaskRetryRoute(api, { retry: unused, getTask: unused });
  api.use(deadLetterRoutes({ store: unused, retry: unused, getTask: unused }).routes());
  api.use(nodeRoutes({ cluster: unused, membership: unused, controls: unused }).routes());
  api.use(tenantRoutes({ ledger: unused, tenants: unused, maxBodyBytes: 1 }).routes());
  api.use(seriesRoutes(unused).routes());
  api.use(modelRoutes({ models: unused, catalog: unused, replicas: unused, maxBodyBytes: 1 }).routes());
  return api;
}

/** `METHOD /path` of every route a router answers (HEAD rides along with GET). */
function mountedRoutes(router: Router<AuthState>): string[] {
  return router.stack.flatMap((layer) => layer.methods.filter((m) => m !== 'HEAD').map((m) => `${m} ${layer.path}`)).sort();
}

// Compile-time: what the principal's views build fits the answers the document publishes. (A workflow's
// node tasks carry the store's untyped status, so `GET /workflows/{id}` is checked by the e2e answer check only.)
type Fits<Actual, Published> = Actual extends Published ? true : never;
const viewsFit: [
  Fits<ReturnType<typeof toApiWorkflow>, z.input<typeof workflowSummarySchema>>,
  Fits<ReturnType<ClusterView['nodes']>[number], z.input<typeof nodeSchema>>,
  Fits<Awaited<ReturnType<ClusterView['summary']>>, z.input<typeof clusterSummarySchema>>,
  Fits<SeriesColumns, z.input<typeof metricsSeriesSchema>>,
  Fits<ReturnType<typeof toApiModel>, z.input<typeof modelSchema>>,
] = [true, true, true, true, true];

describe('the OpenAPI route registry', () => {
  it('is checked at compile time against the views the principal builds', () => {
    assert.deepEqual(viewsFit, [true, true, true, true, true]);
  });

  it('describes every route the API router mounts, and no route it does not mount', () => {
    const mounted = mountedRoutes(mountedApi());
    assert.ok(mounted.length >= 20, `found ${mounted.length} routes`);
    const described = API_ROUTE_SPECS.map((r) => `${r.method.toUpperCase()} ${r.path}`).sort();
    assert.deepEqual(described, mounted);
  });
});

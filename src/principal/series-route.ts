import Router from '@koa/router';
import { type AuthState, forbidden } from '../http';
import type { MetricsSeries } from './metrics-series';

/**
 * `GET /metrics/series` (admin, operator): the last 15 minutes of the cluster as the dashboard's
 * charts draw them. The answer is the principal's ring, built once per bucket: fifty dashboards
 * reading it every few seconds cost a lookup each.
 */
export function seriesRoutes(series: Pick<MetricsSeries, 'columnsJson'>): Router<AuthState> {
  const r = new Router<AuthState>();
  r.get('/metrics/series', (ctx) => {
    if (!ctx.state.rights.readNodes) throw forbidden('your role may not read the cluster\'s figures');
    ctx.type = 'application/json';
    ctx.body = series.columnsJson();
  });
  return r;
}

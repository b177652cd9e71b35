import { buildOpenApiDocument, type OpenApiDocument } from './document';
import { PUBLIC_ROUTE_SPECS } from './public-route-specs';
import type { RouteSpec } from './route-spec';
import { SCHEDULE_ROUTE_SPECS } from './schedule-route-specs';
import { TASK_ROUTE_SPECS } from './task-route-specs';
import { WORKFLOW_ROUTE_SPECS } from './workflow-route-specs';

export { buildOpenApiDocument, openApiPath, type OpenApiDocument } from './document';
export type { HttpMethod, ResponseSpec, RouteSpec } from './route-spec';
export * from './response-schemas';

/** Every route the REST port serves. A new route is one entry in one of these lists. */
export const ROUTE_SPECS: readonly RouteSpec[] = [...PUBLIC_ROUTE_SPECS, ...TASK_ROUTE_SPECS, ...SCHEDULE_ROUTE_SPECS, ...WORKFLOW_ROUTE_SPECS];

/**
 * The published document. Its version is the API's (the package version), not the build's, so
 * the committed docs/openapi.json changes only when the API does.
 */
export function apiDocument(version: string): OpenApiDocument {
  return buildOpenApiDocument(ROUTE_SPECS, { version });
}

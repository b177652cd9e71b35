import { buildOpenApiDocument, type OpenApiDocument } from './document';
import { PUBLIC_ROUTE_SPECS } from './public-route-specs';
import type { RouteSpec } from './route-spec';
import { SCHEDULE_ROUTE_SPECS } from './schedule-route-specs';
import { TASK_ROUTE_SPECS } from './task-route-specs';
import { WORKFLOW_ROUTE_SPECS } from './workflow-route-specs';
import { OPERATION_ROUTE_SPECS } from './operation-route-specs';
import { MODEL_ROUTE_SPECS } from './model-route-specs';

export { buildOpenApiDocument, openApiPath, type OpenApiDocument } from './document';
export type { HttpMethod, ResponseSpec, RouteSpec } from './route-spec';
export * from './response-schemas';
export * from './operations-schemas';
export * from './series-schemas';
export * from './model-schemas';

/** The routes of the API router (behind authentication and the rate limit). A new route is one entry in one of these lists. */
export const API_ROUTE_SPECS: readonly RouteSpec[] = [...TASK_ROUTE_SPECS, ...SCHEDULE_ROUTE_SPECS, ...WORKFLOW_ROUTE_SPECS, ...OPERATION_ROUTE_SPECS, ...MODEL_ROUTE_SPECS];

/** Every route the REST port serves: those served before authentication, then the API router's. */
export const ROUTE_SPECS: readonly RouteSpec[] = [...PUBLIC_ROUTE_SPECS, ...API_ROUTE_SPECS];

/** The API's version, published as `info.version`: raise it when the API changes. */
export const API_VERSION = '0.1.0';

let served: string | undefined;
/** The document as `GET /openapi.json` serves it, built on first use (most processes never ask). */
export function apiDocumentJson(): string {
  return (served ??= JSON.stringify(apiDocument()));
}

/**
 * The published document. Its version is the API's (the package version), not the build's, so
 * the committed docs/openapi.json changes only when the API does.
 */
export function apiDocument(version = API_VERSION): OpenApiDocument {
  return buildOpenApiDocument(ROUTE_SPECS, { version });
}

import { z } from 'zod';
import { forbiddenRole, json, problem } from './responses';
import { healthSchema, readinessSchema, streamTicketSchema } from './response-schemas';
import type { RouteSpec } from './route-spec';

const WATCHERS = ['admin', 'operator', 'submitter: own tasks', 'viewer: own tasks'] as const;
const text = (description: string, contentType: string, headers?: RouteSpec['responses'][number]['headers']) => ({ description, contentType, ...(headers ? { headers } : {}) });

/**
 * What the REST port serves besides the API router: health, this document, the dashboard's
 * files and its live feed (src/http/app.ts, src/dashboard, src/principal/live-feed.ts).
 */
export const PUBLIC_ROUTE_SPECS: readonly RouteSpec[] = [
  { method: 'get', path: '/healthz', operationId: 'getHealth', tag: 'operations', auth: 'public', summary: 'Liveness', responses: { 200: json(healthSchema, 'The process answers.') } },
  {
    method: 'get', path: '/readyz', operationId: 'getReadiness', tag: 'operations', auth: 'public', summary: 'Readiness',
    responses: { 200: json(readinessSchema, 'Ready to serve.'), 503: json(readinessSchema, 'Not ready: `failing` names the checks that fail (or `draining`).') },
  },
  {
    method: 'get', path: '/openapi.json', operationId: 'getOpenApiDocument', tag: 'operations', auth: 'public', summary: 'This OpenAPI 3.1 document',
    responses: { 200: text('The document.', 'application/json') },
  },
  {
    method: 'get', path: '/', operationId: 'getDashboard', tag: 'dashboard', auth: 'public', summary: 'The dashboard page',
    responses: { 200: text('index.html.', 'text/html', ['ETag']), 304: { description: 'Not modified since the ETag sent in If-None-Match.' }, 503: text('The dashboard is not installed on this principal.', 'text/plain') },
  },
  {
    method: 'get', path: '/assets/:path', operationId: 'getDashboardAsset', tag: 'dashboard', auth: 'public', summary: 'A file of the dashboard',
    description: 'Under a versioned path (`/assets/<build>/app.js`) the file never changes and may be cached for a year.',
    params: z.object({ path: z.string().describe('The file\'s path under /assets/ (it may hold slashes).') }),
    responses: { 200: text('The file.', 'application/octet-stream', ['ETag']), 304: { description: 'Not modified since the ETag sent in If-None-Match.' }, 404: problem('No such file.') },
  },
  {
    method: 'post', path: '/events/ticket', operationId: 'issueStreamTicket', tag: 'dashboard', auth: 'bearer', rateLimited: false, roles: WATCHERS,
    summary: 'A one-use ticket for the live feed', description: 'Browsers cannot send headers with EventSource: this ticket stands for the bearer token once, for EVENTS_TICKET_TTL_SEC seconds at most.',
    responses: { 200: json(streamTicketSchema, 'The ticket.'), 403: forbiddenRole('read tasks or nodes') },
  },
  {
    method: 'get', path: '/events', operationId: 'watchEvents', tag: 'dashboard', auth: 'bearer-or-ticket', roles: WATCHERS,
    summary: 'The live feed (server-sent events)', description: 'Node snapshots and finished tasks as they happen. A token in the URL (`?token=`) is refused.',
    query: z.object({ ticket: z.string().optional().describe('A ticket of POST /events/ticket; without it, send Authorization: Bearer.') }),
    responses: { 200: text('An event stream until the token expires.', 'text/event-stream'), 403: forbiddenRole('read tasks or nodes') },
  },
];

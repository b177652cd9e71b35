import { z } from 'zod';
import { problemSchema } from './response-schemas';
import type { RequestHeaderName, ResponseHeaderName, ResponseSpec, RouteSpec } from './route-spec';
import { requestSchemas, responseSchemas, type SchemaRegistry } from './schemas';

/** A JSON value of the document; kept loose on purpose, the validator test checks its shape. */
export type OpenApiDocument = Record<string, unknown> & { paths: Record<string, Record<string, unknown>>; components: Record<string, unknown> };

type JsonSchema = Record<string, unknown>;

const SCHEMA_REF = '#/components/schemas/';

/** Request headers, described once. */
const REQUEST_HEADERS: Readonly<Record<RequestHeaderName, JsonSchema>> = {
  'Idempotency-Key': {
    name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,200}$' },
    description: 'Makes a retried submission safe: the same key from the same owner answers the earlier record (200) instead of storing a new one.',
  },
  Prefer: {
    name: 'Prefer', in: 'header', required: false, schema: { type: 'string' }, example: 'wait=30',
    description: '`wait=N`: answer once the task ended, or after N seconds (capped by PRINCIPAL_MAX_WAIT_SEC), whichever comes first.',
  },
};

/** Response headers, described once. */
const RESPONSE_HEADERS: Readonly<Record<ResponseHeaderName, JsonSchema>> = {
  Location: { description: 'The path of the record.', schema: { type: 'string' } },
  'Retry-After': { description: 'Whole seconds to wait before trying again.', schema: { type: 'integer', minimum: 0 } },
  'WWW-Authenticate': { description: '`Bearer`.', schema: { type: 'string' } },
  ETag: { description: 'The file\'s version, for If-None-Match.', schema: { type: 'string' } },
};

/** A copy of `o` without the named members. */
function without(o: JsonSchema, ...keys: string[]): JsonSchema {
  return Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
}

/** The components of one registry, without the `$schema`/`$id` members zod gives each. */
function componentsOf(registry: SchemaRegistry, io: 'input' | 'output'): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(registry, { io, uri: (id) => `${SCHEMA_REF}${id}`, unrepresentable: 'any' }) as { schemas: Record<string, JsonSchema> };
  return Object.fromEntries(Object.entries(schemas).map(([id, schema]) => [id, without(schema, '$schema', '$id')]));
}

function refTo(registry: SchemaRegistry, schema: z.ZodType, where: string): JsonSchema {
  const id = registry.get(schema)?.id;
  if (!id) throw new Error(`${where}: the schema is not registered in src/http/openapi/schemas.ts`);
  return { $ref: `${SCHEMA_REF}${id}` };
}

/** A field's JSON Schema inline (path and query parameters). */
function inlineSchema(schema: z.ZodType): JsonSchema {
  return without(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }), '$schema', 'description');
}

function parametersOf(where: 'path' | 'query', shape: z.ZodObject | undefined): JsonSchema[] {
  if (!shape) return [];
  return Object.entries(shape.shape).map(([name, field]) => {
    const f = field as z.ZodType;
    const description = f.description;
    return { name, in: where, required: where === 'path' || !f.safeParse(undefined).success, schema: inlineSchema(f), ...(description ? { description } : {}) };
  });
}

function responseOf(r: ResponseSpec, where: string): JsonSchema {
  const headers = r.headers ? { headers: Object.fromEntries(r.headers.map((h) => [h, { $ref: `#/components/headers/${h}` }])) } : {};
  if (r.schema) {
    const contentType = r.contentType ?? (r.schema === problemSchema ? 'application/problem+json' : 'application/json');
    return { description: r.description, ...headers, content: { [contentType]: { schema: refTo(responseSchemas, r.schema, where) } } };
  }
  if (r.contentType) {
    const schema = r.contentType === 'application/json' ? { type: 'object' } : { type: 'string' };
    return { description: r.description, ...headers, content: { [r.contentType]: { schema } } };
  }
  return { description: r.description, ...headers };
}

/** Problems every route of a kind may answer, added to its own. */
function commonResponses(route: RouteSpec): Record<number, ResponseSpec> {
  if (route.auth === 'public') return {};
  const out: Record<number, ResponseSpec> = {
    401: { description: 'No bearer token, or one that is invalid or expired.', schema: problemSchema, headers: ['WWW-Authenticate'] },
    503: { description: 'The store, the broker or the identity provider is unavailable: nothing was done; retry after Retry-After.', schema: problemSchema, headers: ['Retry-After'] },
  };
  if (route.rateLimited ?? route.auth === 'bearer') out[429] = { description: 'The caller passed its rate limit (HTTP_RATE_LIMIT_RPS).', schema: problemSchema, headers: ['Retry-After'] };
  return out;
}

/** `/tasks/:id` → `/tasks/{id}`. */
export const openApiPath = (koaPath: string): string => koaPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

function operationOf(route: RouteSpec): JsonSchema {
  const where = `${route.method.toUpperCase()} ${route.path}`;
  const responses = { ...commonResponses(route), ...route.responses };
  const roles = route.roles?.length ? `\n\nWho may call it: ${route.roles.join('; ')}.` : '';
  const parameters = [
    ...parametersOf('path', route.params), ...parametersOf('query', route.query),
    ...(route.headers ?? []).map((h) => ({ $ref: `#/components/parameters/${h}` })),
  ];
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description || roles ? { description: `${route.description ?? ''}${roles}`.trim() } : {}),
    tags: [route.tag],
    ...(route.auth === 'public' ? { security: [] } : route.auth === 'bearer-or-ticket' ? { security: [{ bearer: [] }, {}] } : {}),
    ...(route.roles ? { 'x-roles': route.roles } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: refTo(requestSchemas, route.body, where) } } } } : {}),
    responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b)).map(([status, r]) => [status, responseOf(r, where)])),
  };
}

export interface DocumentInfo {
  version: string;
}

/** The OpenAPI 3.1 document of the given routes, with every schema the routes name. */
export function buildOpenApiDocument(routes: readonly RouteSpec[], info: DocumentInfo): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const route of routes) {
    const item = (paths[openApiPath(route.path)] ??= {});
    if (item[route.method]) throw new Error(`${route.method.toUpperCase()} ${route.path} is registered twice`);
    item[route.method] = operationOf(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'an-ki REST API',
      version: info.version,
      description: 'The principal\'s REST API: tasks, schedules, workflows and the cluster. Errors are application/problem+json (RFC 9457). Roles come from the bearer token (admin, operator, submitter, viewer); another owner\'s record is reported missing.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    security: [{ bearer: [] }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: { ...componentsOf(requestSchemas, 'input'), ...componentsOf(responseSchemas, 'output') },
      parameters: REQUEST_HEADERS,
      headers: RESPONSE_HEADERS,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A client token: `node dist/main.js token --sub NAME --role ROLE`, or one of the configured identity provider.' } },
    },
  };
}

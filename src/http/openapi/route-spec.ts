import type { z } from 'zod';

/** The methods the REST API mounts routes for. */
export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Request headers the document describes once and routes name (components/parameters). */
export type RequestHeaderName = 'Idempotency-Key' | 'Prefer';
/** Response headers the document describes once and responses name (components/headers). */
export type ResponseHeaderName = 'Location' | 'Retry-After' | 'WWW-Authenticate' | 'ETag';

/** One answer of a route: a JSON body (a registered zod schema), other content, or none. */
export interface ResponseSpec {
  description: string;
  /** A schema registered in {@link responseSchemas}; absent: no body (e.g. 204) or `content` says. */
  schema?: z.ZodType;
  /** Defaults to application/json, or application/problem+json for the problem schema. */
  contentType?: string;
  headers?: readonly ResponseHeaderName[];
}

/**
 * One route of the REST port, as the document publishes it. Registering a route is one entry
 * of this shape in a `*-route-specs.ts` file.
 */
export interface RouteSpec {
  method: HttpMethod;
  /** Koa form: `/tasks/:id`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** `public`: no token; `bearer`: `Authorization: Bearer <JWT>`; `bearer-or-ticket`: either that or a one-use `?ticket=`. */
  auth: 'public' | 'bearer' | 'bearer-or-ticket';
  /** Whether the per-caller rate limit applies (a 429 may come). @defaultValue true for `bearer` routes */
  rateLimited?: boolean;
  /** Who may call it, in words per role (`submitter: own tasks`); published as `x-roles` and in the description. */
  roles?: readonly string[];
  /** Path parameters; each key a `:name` of the path. */
  params?: z.ZodObject;
  query?: z.ZodObject;
  headers?: readonly RequestHeaderName[];
  /** A request schema registered in {@link requestSchemas}. */
  body?: z.ZodType;
  /** Answers by status; problems common to every authenticated route (401, 429, 503) are added by the builder. */
  responses: Readonly<Record<number, ResponseSpec>>;
}

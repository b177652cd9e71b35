import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import { apiDocument, type OpenApiDocument } from '../../src/http/openapi';

/**
 * Checks answers of a principal against the published OpenAPI document: the status must be one
 * the route describes, and a JSON body must match that status's schema. Requests to paths the
 * document does not name (metrics ports, unknown routes) and methods it does not list for a path
 * are not the document's business and pass.
 */

type Operation = { responses: Record<string, { content?: Record<string, { schema?: unknown }> }> };

const BASE = 'https://an-ki.dev/openapi.json';

export interface ApiAnswer {
  method: string;
  url: string;
  status: number;
  contentType: string | null;
  /** The body's text; undefined when not read (a stream, or no body). */
  text: string | undefined;
}

/** Why an answer does not fit the document; undefined when it fits or is not described. */
export type ConformanceCheck = (answer: ApiAnswer) => string | undefined;

/** Compiles the document's routes into a checker. */
export function conformanceChecker(doc: OpenApiDocument = apiDocument()): ConformanceCheck {
  // Formats are checked by the patterns zod writes beside them (uuid, date-time).
  const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: false });
  ajv.addSchema({ $id: BASE, components: { schemas: (doc.components as { schemas: unknown }).schemas } });
  const routes = Object.entries(doc.paths).map(([path, item]) => ({
    pattern: new RegExp(`^${path.replace(/[.]/g, '\\.').replace(/\{path\}/g, '.+').replace(/\{[^}]+\}/g, '[^/]+')}$`),
    path, item: item as Record<string, Operation>,
  }));
  // Compiled up front: compiling on a test's first answer would slow that answer, and tests
  // that measure time around a request would see it.
  const validators = new Map<string, ValidateFunction>();
  for (const { path, item } of routes) {
    for (const [method, op] of Object.entries(item)) {
      for (const [status, response] of Object.entries(op.responses)) {
        for (const [type, { schema }] of Object.entries(response.content ?? {})) {
          const ref = (schema as { $ref?: string } | undefined)?.$ref;
          if (type.endsWith('json') && schema) validators.set(`${path} ${method} ${status} ${type}`, ajv.compile(ref ? { $ref: `${BASE}${ref}` } : (schema)));
        }
      }
    }
  }
  return (a) => {
    const { pathname } = new URL(a.url);
    const route = routes.find((r) => r.pattern.test(pathname) && !(r.path === '/assets/{path}' && !pathname.startsWith('/assets/')));
    const op = route?.item[a.method.toLowerCase()];
    if (!route || !op) return undefined;
    const where = `${a.method} ${route.path} → ${a.status}`;
    const response = op.responses[String(a.status)];
    if (!response) return `${where}: status not described (described: ${Object.keys(op.responses).join(', ')})`;
    if (!response.content || a.text === undefined) return undefined;
    const type = (a.contentType ?? '').split(';')[0]!.trim();
    const content = response.content[type];
    if (!content) return `${where}: content type ${type || 'none'} not described (described: ${Object.keys(response.content).join(', ')})`;
    const validate = validators.get(`${route.path} ${a.method.toLowerCase()} ${a.status} ${type}`);
    if (!validate) return undefined;
    let body: unknown;
    try {
      body = JSON.parse(a.text);
    } catch {
      return `${where}: the body is not JSON`;
    }
    if (validate(body)) return undefined;
    const e = validate.errors?.[0];
    return `${where}: body ${e?.instancePath || '/'} ${e?.message ?? 'does not match'} ${e?.params ? JSON.stringify(e.params) : ''} in ${a.text.slice(0, 300)}`;
  };
}

/** Content types whose body is read in full; a stream (text/event-stream) is not. */
const READABLE = /json|text\/plain|text\/html/;

/**
 * Wraps the global fetch so every answer from a loopback server is checked against the document;
 * mismatches are collected, the caller's response is left untouched (its clone is read).
 */
export function watchFetch(check: ConformanceCheck, mismatches: string[]): () => void {
  const original = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const res = await original(input, init);
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    if (!/^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(url)) return res;
    const contentType = res.headers.get('content-type');
    const text = method !== 'HEAD' && READABLE.test(contentType ?? '') ? await res.clone().text().catch(() => undefined) : undefined;
    const problem = check({ method, url, status: res.status, contentType, text });
    if (problem) mismatches.push(problem);
    return res;
  };
  return () => { globalThis.fetch = original; };
}

const mismatches: string[] = [];
let unwatch: (() => void) | undefined;

/**
 * Mocha root hooks (`--require test/helpers/api-conformance.ts`): the run fails in its last hook
 * when any answer of a principal did not fit the published document.
 */
export const mochaHooks = {
  beforeAll(): void {
    unwatch ??= watchFetch(conformanceChecker(), mismatches);
  },
  afterAll(): void {
    unwatch?.();
    unwatch = undefined;
    if (mismatches.length > 0) {
      const distinct = [...new Set(mismatches)];
      throw new Error(`${mismatches.length} answers did not fit docs/openapi.json:\n  ${distinct.slice(0, 30).join('\n  ')}`);
    }
  },
};

import { createServer, type RequestListener, type Server } from 'node:http';
import Koa from 'koa';
import type Router from '@koa/router';
import type { HealthState } from '../lifecycle';
import { type Logger, type Metrics } from '../observability';
import type { ClientTokenVerifier } from '../security';
import { authMiddleware, type AuthState } from './auth';
import { sendJson } from './json-body';
import { apiDocumentJson } from './openapi';
import { HttpProblem, problemMiddleware } from './problem';
import { rateLimitMiddleware, type RateLimitOptions } from './rate-limit';

export interface AppDeps {
  log: Logger;
  metrics: Metrics;
  health: HealthState;
  verifier: ClientTokenVerifier;
  api: Router<AuthState>;
  /** Per-caller limit, applied once the caller is known (after authentication). */
  rateLimit: RateLimitOptions;
  /** Served before authentication (e.g. the dashboard's static files). */
  publicRoutes?: Koa.Middleware;
}

/** The principal's REST application: problem+json errors, security headers, health, auth, routes. */
export function createApp(d: AppDeps): Koa<AuthState> {
  const app = new Koa<AuthState>();
  app.proxy = false;
  app.silent = true;
  app.use(async (ctx, next) => {
    const start = process.hrtime.bigint();
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Cache-Control', 'no-store');
    try {
      await next();
    } finally {
      // A keep-alive client that never pauses would hold a draining server open until its deadline.
      // Checked as the answer leaves, so a request that was running when draining began says so too.
      if (d.health.draining) ctx.set('Connection', 'close');
      const route = (ctx as unknown as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      d.metrics.httpRequests.inc({ method: ctx.method, route, status: String(ctx.status) });
      d.metrics.httpDuration.observe({ method: ctx.method, route }, Number(process.hrtime.bigint() - start) / 1e9);
    }
  });
  app.use(problemMiddleware(d.log));
  app.use(async (ctx, next) => {
    if (ctx.path === '/healthz') { sendJson(ctx, { status: 'ok' }); return; }
    if (ctx.path === '/readyz') {
      const r = d.health.readiness();
      ctx.status = r.ready ? 200 : 503;
      sendJson(ctx, r.ready ? { status: 'ready' } : { status: 'not ready', failing: r.failing });
      return;
    }
    // The API's description is public: a client generator needs it before it has a token.
    if (ctx.path === '/openapi.json' && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      ctx.type = 'application/json';
      ctx.body = apiDocumentJson();
      return;
    }
    await next();
  });
  if (d.publicRoutes) app.use(d.publicRoutes);
  app.use(authMiddleware(d.verifier));
  app.use(rateLimitMiddleware(d.rateLimit));
  app.use(d.api.routes());
  // Unknown and unsupported methods are 405 problem+json, like every other error.
  const notAllowed = () => new HttpProblem(405, 'Method Not Allowed', 'this method is not allowed on this resource');
  app.use(d.api.allowedMethods({ throw: true, methodNotAllowed: notAllowed, notImplemented: notAllowed }));
  return app;
}

/** Listens on host:port; resolves with the bound port (port 0 picks a free one). */
export function listen(handler: RequestListener, port: number, host: string): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer(handler);
    server.keepAliveTimeout = 65_000;
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve({ server, port: typeof addr === 'object' && addr ? addr.port : port });
    });
  });
}

/**
 * Closes the server: no new connections, idle keep-alive sockets closed, in-flight requests
 * finish; whatever is still open after `forceAfterMs` (a stuck client) is cut.
 */
export function closeServer(server: Server, forceAfterMs = 5000): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), forceAfterMs);
    force.unref();
    server.close(() => { clearTimeout(force); resolve(); });
    server.closeIdleConnections();
  });
}

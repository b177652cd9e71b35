import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import type Koa from 'koa';
import { notFound } from '../http';
import type { Logger } from '../observability';

/**
 * Where the dashboard's files are: `static/` beside this module, in `src/dashboard` when run from
 * source and in `dist/dashboard` after `npm run build` (scripts/copy-assets.js puts them there).
 */
export const DEFAULT_STATIC_DIR = join(__dirname, 'static');

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.svg', '.json', '.webmanifest', '.txt']);

/** The page may talk only to its own origin and run only its own files (no inline script or style). */
export const DASHBOARD_CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "font-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

/** Placeholder in index.html replaced by the versioned asset path (`/assets/<buildId>`). */
const ASSETS_PLACEHOLDER = '{{assets}}';
/** Placeholder in index.html replaced by the tracing UI's link template (an attribute value). */
const TRACE_URL_PLACEHOLDER = '{{traceUrl}}';

const escapeAttribute = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

/** One file, read once, with its gzip form when that is smaller. */
export interface StaticFile {
  body: Buffer;
  gzipped: Buffer | undefined;
  type: string;
  etag: string;
}

export interface DashboardFiles {
  /** A hash of every file: a new build gets new asset URLs. */
  buildId: string;
  index: StaticFile;
  /** By path under `/assets/`, e.g. `app.js`. */
  assets: Map<string, StaticFile>;
}

export interface DashboardOptions {
  log?: Logger;
  /** Link template of the tracing UI (`{traceId}` in it), given to the page; empty or absent: no link. */
  traceUrl?: string;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}

function toStaticFile(body: Buffer, ext: string): StaticFile {
  const gzipped = COMPRESSIBLE.has(ext) && body.length > 1024 ? gzipSync(body, { level: 9 }) : undefined;
  return {
    body,
    gzipped: gzipped && gzipped.length < body.length ? gzipped : undefined,
    type: CONTENT_TYPES[ext] ?? 'application/octet-stream',
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
  };
}

/**
 * Reads the dashboard's files once (they are small), with index.html rewritten to point at
 * `/assets/<buildId>/`. Undefined when the folder has no index.html. Hidden files and unknown
 * extensions are never served.
 */
export function loadDashboardFiles(staticDir: string, traceUrl = ''): DashboardFiles | undefined {
  const indexPath = join(staticDir, 'index.html');
  if (!existsSync(indexPath)) return undefined;
  const assets = new Map<string, StaticFile>();
  const hash = createHash('sha256');
  for (const full of filesUnder(staticDir).sort()) {
    const path = relative(staticDir, full).split(sep).join('/');
    const ext = extname(path).toLowerCase();
    if (!(ext in CONTENT_TYPES) || path.split('/').some((p) => p.startsWith('.'))) continue;
    const body = readFileSync(full);
    hash.update(path).update('\0').update(body).update('\0');
    if (path !== 'index.html') assets.set(path, toStaticFile(body, ext));
  }
  const buildId = hash.digest('hex').slice(0, 12);
  const html = readFileSync(indexPath, 'utf8').split(ASSETS_PLACEHOLDER).join(`/assets/${buildId}`).split(TRACE_URL_PLACEHOLDER).join(escapeAttribute(traceUrl));
  return { buildId, index: toStaticFile(Buffer.from(html, 'utf8'), '.html'), assets };
}

/** Which file a path asks for, and whether its URL is versioned (then it never changes). */
function resolvePath(files: DashboardFiles, path: string): { file: StaticFile | undefined; immutable: boolean } | undefined {
  if (path === '/' || path === '/index.html') return { file: files.index, immutable: false };
  if (!path.startsWith('/assets/')) return undefined;
  const rest = path.slice('/assets/'.length);
  const current = `${files.buildId}/`;
  if (rest.startsWith(current)) return { file: files.assets.get(rest.slice(current.length)), immutable: true };
  // A page loaded before a restart with a new build still gets the files it asks for, revalidated.
  const fromOldBuild = /^[0-9a-f]{12}\/(.+)$/.exec(rest)?.[1];
  return { file: files.assets.get(fromOldBuild ?? rest), immutable: false };
}

/**
 * Serves the dashboard: `GET /` (index.html) and `GET /assets/*`, with content types, ETags and
 * gzip. Files under `/assets/<buildId>/` are cached as immutable; the page itself and unversioned
 * asset URLs are revalidated every time (`no-cache` + ETag, so mostly a 304). Mount it before
 * authentication: the files hold no data; the page asks for a token and sends it with each call.
 */
export function dashboardMiddleware(staticDir: string = DEFAULT_STATIC_DIR, options: DashboardOptions = {}): Koa.Middleware {
  const files = loadDashboardFiles(staticDir, options.traceUrl);
  if (!files) options.log?.warn({ staticDir }, 'dashboard files not found; the dashboard is not served (run npm run build)');

  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') { await next(); return; }
    if (!files) {
      if (ctx.path !== '/' && !ctx.path.startsWith('/assets/')) { await next(); return; }
      ctx.status = 503;
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = 'The dashboard is not installed on this principal.\n';
      return;
    }
    const found = resolvePath(files, ctx.path);
    if (!found) { await next(); return; }
    const { file, immutable } = found;
    if (!file) throw notFound(`no dashboard file ${ctx.path.slice(0, 200)}`);
    if (file === files.index) ctx.set('Content-Security-Policy', DASHBOARD_CSP);
    ctx.set('Cache-Control', immutable ? IMMUTABLE : REVALIDATE);
    ctx.set('Cross-Origin-Resource-Policy', 'same-origin');
    if (file.gzipped) ctx.vary('Accept-Encoding');
    const gzip = file.gzipped !== undefined && ctx.acceptsEncodings('gzip', 'identity') === 'gzip';
    // Each encoding is its own representation, so each gets its own strong validator.
    const etag = gzip ? `${file.etag.slice(0, -1)}-gz"` : file.etag;
    ctx.set('ETag', etag);
    ctx.type = file.type;
    const inm = ctx.get('if-none-match');
    if (inm && inm.split(',').some((t) => [etag, `W/${etag}`, '*'].includes(t.trim()))) {
      ctx.status = 304;
      return;
    }
    ctx.status = 200;
    if (gzip) ctx.set('Content-Encoding', 'gzip');
    ctx.body = gzip ? file.gzipped : file.body;
    // Koa would type a Buffer body as octet-stream if the type were unset; keep ours.
    ctx.type = file.type;
  };
}

/**
 * Runs middlewares one after another as one (each one's `next` is the following one); undefined
 * entries are skipped. Lets several public handlers share `createApp`'s single `publicRoutes` slot.
 */
export function chainMiddleware(...middlewares: (Koa.Middleware | undefined)[]): Koa.Middleware {
  const list = middlewares.filter((m): m is Koa.Middleware => m !== undefined);
  return async (ctx, next) => {
    const run = async (i: number): Promise<void> => {
      const m = list[i];
      if (m) await m(ctx, () => run(i + 1));
      else await next();
    };
    await run(0);
  };
}

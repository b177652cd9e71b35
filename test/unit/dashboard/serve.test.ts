import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Koa from 'koa';
import { HttpProblem } from '../../../src/http/problem';
import { chainMiddleware, dashboardMiddleware, DEFAULT_STATIC_DIR, loadDashboardFiles } from '../../../src/dashboard/serve';

const app = new Koa();

/** A Koa context over an unconnected socket: nothing is listened on or sent. */
function contextFor(method: string, url: string, headers: Record<string, string> = {}): Koa.Context {
  const req = new IncomingMessage(new Socket());
  req.method = method;
  req.url = url;
  req.headers = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return app.createContext(req, new ServerResponse(req));
}

async function serve(mw: Koa.Middleware, method: string, url: string, headers: Record<string, string> = {}) {
  const ctx = contextFor(method, url, headers);
  let nextCalled = false;
  await mw(ctx, async () => { nextCalled = true; });
  const body = Buffer.isBuffer(ctx.body) ? ctx.body : Buffer.from(typeof ctx.body === 'string' ? ctx.body : '');
  return { ctx, nextCalled, body, header: (name: string) => ctx.response.get(name) ?? '' };
}

describe('dashboard static files', () => {
  let dir: string;
  let mw: Koa.Middleware;
  const bigScript = `export const big = ${JSON.stringify('abc '.repeat(2000))};\n`;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'anki-dashboard-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><link rel="stylesheet" href="{{assets}}/app.css"><script type="module" src="{{assets}}/app.js"></script>');
    writeFileSync(join(dir, 'app.js'), bigScript);
    writeFileSync(join(dir, 'app.css'), 'body { margin: 0; }');
    writeFileSync(join(dir, 'icon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    writeFileSync(join(dir, '.secret.js'), 'hidden');
    writeFileSync(join(dir, 'notes.md'), 'not a served type');
    mkdirSync(join(dir, 'lib'));
    writeFileSync(join(dir, 'lib', 'util.js'), 'export const x = 1;');
    mw = dashboardMiddleware(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const buildId = () => loadDashboardFiles(dir)!.buildId;

  it('serves index.html at / with its content type, a CSP, revalidation and versioned asset URLs', async () => {
    const r = await serve(mw, 'GET', '/');
    assert.equal(r.ctx.status, 200);
    assert.equal(r.header('Content-Type'), 'text/html; charset=utf-8');
    assert.equal(r.header('Cache-Control'), 'no-cache');
    assert.match(r.header('Content-Security-Policy'), /default-src 'self'/);
    assert.match(r.header('Content-Security-Policy'), /frame-ancestors 'none'/);
    assert.ok(r.header('ETag'));
    const html = r.body.toString('utf8');
    assert.ok(!html.includes('{{assets}}'));
    assert.ok(html.includes(`/assets/${buildId()}/app.js`));
    assert.equal(r.nextCalled, false);
  });

  it('serves versioned assets as immutable and unversioned ones with revalidation', async () => {
    const versioned = await serve(mw, 'GET', `/assets/${buildId()}/app.css`);
    assert.equal(versioned.ctx.status, 200);
    assert.equal(versioned.header('Content-Type'), 'text/css; charset=utf-8');
    assert.equal(versioned.header('Cache-Control'), 'public, max-age=31536000, immutable');
    assert.equal(versioned.body.toString(), 'body { margin: 0; }');
    const plain = await serve(mw, 'GET', '/assets/app.css');
    assert.equal(plain.header('Cache-Control'), 'no-cache');
    const nested = await serve(mw, 'GET', `/assets/${buildId()}/lib/util.js`);
    assert.equal(nested.header('Content-Type'), 'text/javascript; charset=utf-8');
    assert.equal((await serve(mw, 'GET', `/assets/${buildId()}/icon.svg`)).header('Content-Type'), 'image/svg+xml');
  });

  it('still serves a page of an older build, but does not let it cache the files forever', async () => {
    const r = await serve(mw, 'GET', '/assets/0123456789ab/app.css');
    assert.equal(r.ctx.status, 200);
    assert.equal(r.header('Cache-Control'), 'no-cache');
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const first = await serve(mw, 'GET', `/assets/${buildId()}/app.css`);
    const again = await serve(mw, 'GET', `/assets/${buildId()}/app.css`, { 'If-None-Match': first.header('ETag') });
    assert.equal(again.ctx.status, 304);
    const other = await serve(mw, 'GET', `/assets/${buildId()}/app.css`, { 'If-None-Match': '"something-else"' });
    assert.equal(other.ctx.status, 200);
  });

  it('gzips compressible files for clients that accept it, with a separate ETag and Vary', async () => {
    const gz = await serve(mw, 'GET', `/assets/${buildId()}/app.js`, { 'Accept-Encoding': 'gzip, deflate, br' });
    assert.equal(gz.header('Content-Encoding'), 'gzip');
    assert.match(gz.header('Vary'), /Accept-Encoding/);
    assert.equal(gunzipSync(gz.body).toString('utf8'), bigScript);
    const identity = await serve(mw, 'GET', `/assets/${buildId()}/app.js`);
    assert.equal(identity.header('Content-Encoding'), '');
    assert.equal(identity.body.toString('utf8'), bigScript);
    assert.notEqual(gz.header('ETag'), identity.header('ETag'));
    const small = await serve(mw, 'GET', `/assets/${buildId()}/app.css`, { 'Accept-Encoding': 'gzip' });
    assert.equal(small.header('Content-Encoding'), '', 'tiny files are sent as they are');
  });

  it('answers 404 for unknown, hidden, unlisted-type and traversal paths under /assets', async () => {
    for (const path of ['/assets/nope.js', '/assets/.secret.js', '/assets/notes.md', '/assets/../index.html', `/assets/${buildId()}/../../serve.ts`]) {
      await assert.rejects(serve(mw, 'GET', path), (err: unknown) => err instanceof HttpProblem && err.status === 404, path);
    }
  });

  it('leaves other paths and methods to the API', async () => {
    assert.equal((await serve(mw, 'GET', '/tasks')).nextCalled, true);
    assert.equal((await serve(mw, 'GET', '/events')).nextCalled, true);
    assert.equal((await serve(mw, 'POST', '/')).nextCalled, true);
    const head = await serve(mw, 'HEAD', '/');
    assert.equal(head.nextCalled, false);
    assert.equal(head.ctx.status, 200);
  });

  it('answers 503 at / when the files are missing, instead of failing start-up', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'anki-dashboard-empty-'));
    try {
      const missing = dashboardMiddleware(empty);
      const r = await serve(missing, 'GET', '/');
      assert.equal(r.ctx.status, 503);
      assert.equal((await serve(missing, 'GET', '/tasks')).nextCalled, true);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('gives a new build new asset URLs', () => {
    const before = buildId();
    writeFileSync(join(dir, 'app.css'), 'body { margin: 1px; }');
    try {
      assert.notEqual(loadDashboardFiles(dir)!.buildId, before);
    } finally {
      writeFileSync(join(dir, 'app.css'), 'body { margin: 0; }');
    }
  });

  describe('the shipped dashboard', () => {
    it('has every file index.html and the modules refer to', () => {
      const files = loadDashboardFiles(DEFAULT_STATIC_DIR);
      assert.ok(files, `no dashboard under ${DEFAULT_STATIC_DIR}`);
      const html = files.index.body.toString('utf8');
      const referenced = [...html.matchAll(/\/assets\/[0-9a-f]{12}\/([\w./-]+)/g)].map((m) => m[1]!);
      assert.ok(referenced.includes('app.js') && referenced.includes('app.css'));
      for (const js of [...files.assets.keys()].filter((p) => p.endsWith('.js'))) {
        const source = files.assets.get(js)!.body.toString('utf8');
        for (const m of source.matchAll(/from '\.\/([\w.-]+)'/g)) referenced.push(m[1]!);
      }
      // Vendored files are copied from node_modules at build time (scripts/vendored-assets.json).
      const vendored = (JSON.parse(readFileSync(join(__dirname, '../../../scripts/vendored-assets.json'), 'utf8')) as { files: Record<string, string> }).files;
      for (const js of Object.keys(vendored).filter((p) => p.endsWith('.js'))) assert.ok(!/from '\.\.?\//.test(readFileSync(join(__dirname, '../../..', vendored[js]!), 'utf8')), `${js} imports nothing`);
      for (const m of [...files.assets.values()].flatMap((f) => [...f.body.toString('utf8').matchAll(/import\('\.\/([\w./-]+)'\)/g)])) referenced.push(m[1]!);
      for (const path of referenced) {
        const from = vendored[path];
        assert.ok(files.assets.has(path) || (from !== undefined && existsSync(join(__dirname, '../../..', from))), `${path} is referenced but not shipped`);
      }
    });

    it('uses no inline script or style, so the CSP can forbid them', () => {
      const html = readFileSync(join(DEFAULT_STATIC_DIR, 'index.html'), 'utf8');
      assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, 'inline <script>');
      assert.doesNotMatch(html, /<style/i);
      assert.doesNotMatch(html, /\sstyle=/i);
      assert.doesNotMatch(html, /\son[a-z]+=/i, 'inline event handler');
      for (const f of readdirSync(DEFAULT_STATIC_DIR).filter((n) => n.endsWith('.js'))) {
        const src = readFileSync(join(DEFAULT_STATIC_DIR, f), 'utf8');
        assert.doesNotMatch(src, /innerHTML\s*=|insertAdjacentHTML|document\.write|eval\(|new Function/, `${f} builds markup from strings`);
      }
    });
  });
});

describe('chainMiddleware', () => {
  it('runs each middleware in order, skips undefined ones, and ends with next', async () => {
    const seen: string[] = [];
    const step = (name: string): Koa.Middleware => async (_ctx, next) => { seen.push(`${name}>`); await next(); seen.push(`<${name}`); };
    const chained = chainMiddleware(step('a'), undefined, step('b'));
    await chained(contextFor('GET', '/'), async () => { seen.push('next'); });
    assert.deepEqual(seen, ['a>', 'b>', 'next', '<b', '<a']);
  });

  it('stops where a middleware answers without calling next', async () => {
    let reached = false;
    const answer: Koa.Middleware = async (ctx) => { ctx.body = 'done'; };
    await chainMiddleware(answer, async () => { reached = true; })(contextFor('GET', '/'), async () => { reached = true; });
    assert.equal(reached, false);
  });
});

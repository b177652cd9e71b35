import { strict as assert } from 'node:assert';
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import { Api, TestCluster, type NodeProcess } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { freePort } from '../helpers/ports';
import { waitFor } from '../helpers/wait';

/**
 * The principal's REST edge as real processes: per-caller rate limiting, client tokens of an
 * external identity provider (a JWK set served over HTTP here), and a shutdown that does not
 * wait for busy keep-alive clients to go away.
 */

/** A JWK set on a local HTTP server, like an identity provider's `/.well-known/jwks.json`. */
async function identityProvider(keys: object[]): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.url !== '/jwks.json') { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/jwks.json`, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

/** One keep-alive GET; resolves with the status and the Connection header of the answer. */
function keepAliveGet(agent: http.Agent, url: string, token: string): Promise<{ status: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
    });
    req.on('error', reject);
  });
}

/**
 * Starts a POST whose body is only half sent, so the server is busy with it; `finish` sends the
 * rest and resolves with the answer's status and Connection header. It resolves once the server
 * has read the request's head (its `100 Continue`), so the request counts as running there.
 */
async function halfSentPost(url: string, token: string, body: string): Promise<{ finish: () => Promise<{ status: number; connection: string | undefined }> }> {
  const req = http.request(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' },
  });
  const answer = new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
    });
    req.on('error', reject);
  });
  // Settled by the caller through finish(); a failure before that must not go unobserved.
  answer.catch(() => undefined);
  const accepted = new Promise<void>((resolve, reject) => { req.once('continue', () => resolve()); req.once('error', reject); });
  req.flushHeaders();
  await accepted;
  const half = Math.floor(body.length / 2);
  req.write(body.slice(0, half));
  return { finish: () => { req.end(body.slice(half)); return answer; } };
}

describe('the REST edge: rate limits, an identity provider, draining', function () {
  this.timeout(120_000);
  let iso: Isolation;
  let cluster: TestCluster;

  before(async () => {
    iso = await createIsolation('restedge');
    cluster = new TestCluster(iso, { LOG_LEVEL: 'warn' });
  });
  after(async () => {
    await cluster?.stopAll();
    await iso?.destroy();
  });

  it('limits each caller to its own bucket and answers 429 with Retry-After once it is empty', async () => {
    // A refill of one request per 1000 s: the bucket holds exactly its burst during the test.
    const p = await cluster.start('principal', { env: { RATE_LIMIT_RPS: '0.001', RATE_LIMIT_BURST: '3' } });
    await cluster.waitReady(p);
    const alice = new Api(cluster.url(p), cluster.token('alice', 'viewer'));
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<Api['get']>> | undefined;
    for (let i = 0; i < 6; i++) {
      const r = await alice.get('/tasks?limit=1');
      statuses.push(r.status);
      if (r.status === 429) refused = r;
    }
    assert.deepEqual(statuses, [200, 200, 200, 429, 429, 429]);
    assert.match(refused!.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(refused!.body.status, 429);
    assert.ok(Number(refused!.headers.get('retry-after')) >= 1, `Retry-After: ${refused!.headers.get('retry-after')}`);

    const bob = new Api(cluster.url(p), cluster.token('bob', 'viewer'));
    assert.equal((await bob.get('/tasks?limit=1')).status, 200, 'another caller has a bucket of its own');
    assert.equal((await new Api(cluster.url(p)).get('/tasks')).status, 401, 'no token is still a 401, not a 429');
    assert.equal((await alice.get('/healthz')).status, 200, 'health checks are not limited');
    const metrics = await p.metrics();
    assert.match(metrics, /anki_http_requests_total\{[^}]*status="429"[^}]*\} 3/);
    await p.kill('SIGTERM');
  });

  it('accepts client tokens signed by an identity provider from its JWK set, and refuses forged ones', async () => {
    const idpKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const forger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const idp = await identityProvider([{ ...idpKey.publicKey.export({ format: 'jwk' }), kid: 'idp-1', use: 'sig', alg: 'ES256' }]);
    try {
      const p = await cluster.start('principal', { env: { JWKS_URL: idp.url, JWKS_ALLOW_HTTP: 'true', JWKS_ALGORITHMS: 'ES256', JWKS_MIN_REFRESH_INTERVAL_SEC: '0' } });
      await cluster.start('an');
      await cluster.start('ki');
      await cluster.waitReady(p);
      const sign = (key = idpKey.privateKey, sub = 'carol') => jwt.sign({ roles: ['submitter'] }, key, { algorithm: 'ES256', keyid: 'idp-1', subject: sub, expiresIn: 300 });

      const carol = new Api(cluster.url(p), sign());
      const created = await carol.post('/tasks', { type: 'echo', payload: { from: 'idp' } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const done = await waitFor(() => carol.get(`/tasks/${created.body.id}`), (r) => r.body.status === 'succeeded', { timeoutMs: 30_000, what: 'the task of a provider-authenticated caller succeeded' });
      assert.equal(done.body.owner, 'carol', 'the provider\'s subject owns the task');

      const forged = await new Api(cluster.url(p), sign(forger.privateKey, 'root')).get('/tasks');
      assert.equal(forged.status, 401, 'a token with the provider\'s kid but another key is refused');
      const hs = await new Api(cluster.url(p), cluster.token('ops', 'operator')).get('/tasks?limit=1');
      assert.equal(hs.status, 200, 'tokens of the configured secret still work beside the provider');
    } finally {
      await idp.close();
    }
  });

  it('answers 503 (not 401) while the identity provider cannot be reached and no keys are held', async () => {
    const idpKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const nobody = `http://127.0.0.1:${await freePort()}/jwks.json`;
    const p = await cluster.start('principal', { env: { JWKS_URL: nobody, JWKS_ALLOW_HTTP: 'true', JWKS_ALGORITHMS: 'ES256' } });
    await cluster.waitReady(p);
    const token = jwt.sign({ role: 'viewer' }, idpKey.privateKey, { algorithm: 'ES256', keyid: 'idp-1', subject: 'dora', expiresIn: 300 });
    const r = await new Api(cluster.url(p), token).get('/tasks');
    assert.equal(r.status, 503, JSON.stringify(r.body));
    assert.ok(r.headers.get('retry-after'));
    assert.ok(p.alive);
    await p.kill('SIGTERM');
  });

  it('refuses an http:// JWK set URL in production', async () => {
    const p = await cluster.start('principal', {
      waitReady: false,
      env: { NODE_ENV: 'production', JWT_AUDIENCE: 'an-ki', JWT_ISSUER: 'https://idp.example', JWKS_URL: 'http://127.0.0.1:1/jwks.json', JWKS_ALLOW_HTTP: 'true', JWT_SECRET_KEY: 'a-production-secret-that-is-long-enough-0123456789', AES_KEYS: `p1:${Buffer.alloc(32, 7).toString('base64')}`, JOIN_SECRET: 'a-production-join-secret-0123456789abcdef' },
    });
    const code = await p.exited;
    assert.notEqual(code, 0);
    assert.ok(p.logs.some((l) => l.includes('JWKS_URL')), p.logs.slice(-5).join('\n'));
  });

  it('closes busy keep-alive connections when draining instead of waiting out the shutdown grace', async () => {
    // The grace is far longer than the test may take: only closing the connections lets it exit in time.
    const p: NodeProcess = await cluster.start('principal', { env: { SHUTDOWN_GRACE_MS: '300000' } });
    await cluster.waitReady(p);
    const token = cluster.token('kim', 'viewer');
    const url = `${cluster.url(p)}/tasks?limit=1`;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    let stop = false;
    const answers: { status: number; connection: string | undefined }[] = [];
    const client = async () => {
      while (!stop) {
        try {
          answers.push(await keepAliveGet(agent, url, token));
        } catch {
          // The server went away: expected at the end.
          if (!p.alive) return;
        }
      }
    };
    const clients = [client(), client(), client(), client()];
    await waitFor(async () => answers.length, (n) => n >= 20, { what: 'keep-alive traffic flowing' });
    // A request still being read when draining begins: its answer must tell the client to close.
    const busy = await halfSentPost(`${cluster.url(p)}/tasks`, cluster.token('kim', 'submitter'), JSON.stringify({ type: 'echo', payload: { busy: true } }));
    p.proc.kill('SIGTERM');
    try {
      // The metrics port answers until the end; its readiness turns 503 as draining begins.
      await waitFor(async () => (await fetch(`http://127.0.0.1:${p.metricsPort}/readyz`)).status, (status) => status === 503, { what: 'the principal began to drain' });
      const late = await busy.finish();
      assert.equal(late.status, 201, 'a request already being read is still served while draining');
      assert.equal(late.connection, 'close', 'and its answer tells the client to close the connection');
      const code = await waitFor(async () => p.exitCode, (c) => c !== undefined, { timeoutMs: 60_000, what: 'the principal exited while clients kept their connections busy' });
      assert.equal(code, 0);
    } finally {
      stop = true;
      await Promise.all(clients);
      agent.destroy();
    }
    assert.ok(answers.slice(0, 20).every((a) => a.connection !== 'close'), 'keep-alive is kept while serving');
  });
});

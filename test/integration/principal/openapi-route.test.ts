import { strict as assert } from 'node:assert';
import Router from '@koa/router';
import { Registry } from 'prom-client';
import { closeServer, createApp, listen, type AuthState } from '../../../src/http';
import { apiDocument } from '../../../src/http/openapi';
import { HealthState } from '../../../src/lifecycle';
import { createMetrics, silentLogger } from '../../../src/observability';
import { ClientTokenVerifier } from '../../../src/security';

describe('GET /openapi.json', () => {
  it('is served without a token, while the API behind it asks for one', async () => {
    const app = createApp({
      log: silentLogger(), metrics: createMetrics(new Registry(), 'principal'), health: new HealthState(),
      verifier: new ClientTokenVerifier({ secret: 'x'.repeat(32), algorithms: ['HS256'], clockToleranceSec: 0 }), api: new Router<AuthState>(),
      rateLimit: { ratePerSec: 100, burst: 100 },
    });
    const handle = app.callback();
    const { server, port } = await listen((req, res) => { void handle(req, res); }, 0, '127.0.0.1');
    try {
      const doc = await fetch(`http://127.0.0.1:${port}/openapi.json`);
      assert.equal(doc.status, 200);
      assert.match(doc.headers.get('content-type') ?? '', /^application\/json/);
      assert.deepEqual(await doc.json(), apiDocument());
      assert.equal((await fetch(`http://127.0.0.1:${port}/tasks`)).status, 401);
    } finally {
      await closeServer(server, 100);
    }
  });
});

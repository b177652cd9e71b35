import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Api } from '../helpers/cluster';
import { freePort } from '../helpers/ports';
import { waitFor } from '../helpers/wait';

describe('standalone with no broker or database server', function () {
  this.timeout(120_000);
  let dir: string;
  let proc: ChildProcess | undefined;
  let out = '';

  before(() => { dir = mkdtempSync(join(tmpdir(), 'anki-standalone-')); });
  after(async () => {
    if (proc && proc.exitCode === null) {
      proc.kill('SIGTERM');
      await new Promise((r) => proc!.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('boots on the in-process bus and PGlite, prints a token and completes tasks', async () => {
    const port = await freePort();
    const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, HTTP_PORT: String(port), HTTP_HOST: '127.0.0.1', METRICS_PORT: '0', DATA_DIR: join(dir, 'data'), NODE_ID: 'solo', LOG_LEVEL: 'warn' };
    // Unreachable services would be a failure: no AMQP_URL, no DATABASE_URL at all.
    proc = spawn(process.execPath, [join(__dirname, '..', '..', 'dist', 'main.js'), 'standalone'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
    proc.stderr!.on('data', (b: Buffer) => { out += b.toString(); });
    const token = await waitFor(() => /export T=(\S+)/.exec(out)?.[1], (t) => !!t, { timeoutMs: 60_000, what: 'the welcome with a token' });
    assert.match(out, /broker: in-process; store: embedded PGlite/);
    const api = new Api(`http://127.0.0.1:${port}`, token);
    const r = await api.post('/tasks', { type: 'echo', payload: { hello: 'embedded' } });
    assert.equal(r.status, 201);
    const done = await waitFor(() => api.get(`/tasks/${r.body.id}`), (t) => t.body.status === 'succeeded', { timeoutMs: 30_000 });
    assert.deepEqual(done.body.result, { hello: 'embedded' });
    assert.equal(done.body.ki, 'solo');
    const nodes = await api.get('/nodes');
    assert.deepEqual(nodes.body.items.map((n: { role: string }) => n.role).sort(), ['an', 'ki', 'principal']);
  });
});

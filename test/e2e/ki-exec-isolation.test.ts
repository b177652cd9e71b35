import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Api, TestCluster } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { waitFor } from '../helpers/wait';

const FAST = { HEARTBEAT_MS: '200', SUSPECT_AFTER_MS: '600', DEAD_AFTER_MS: '1500', ELECTION_TICK_MS: '300', LEADER_LEASE_MS: '2000' };
const terminal = (s: string) => ['succeeded', 'failed', 'cancelled'].includes(s);

/**
 * A real Ki holds its secrets in its environment. An exec task must get none of them back:
 * neither by a variable that makes an allowed program run the task's code (BASH_ENV), nor by
 * reading the Ki's /proc/<pid>/environ, which a command running as KI_EXEC_USER may not.
 * Starting commands as another user needs root: skipped elsewhere.
 */
describe('Ki exec isolation (real processes)', function () {
  this.timeout(120_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let alice: Api;

  before(function () {
    if (process.getuid?.() !== 0) this.skip();
  });
  afterEach(async () => {
    await cluster?.stopAll();
    await iso?.destroy();
  });

  const until = (id: string) => waitFor(() => alice.get(`/tasks/${id}`), (r) => terminal(r.body.status), { timeoutMs: 30_000, what: `task ${id} finished` }).then((r) => r.body);

  it('returns none of the Ki\'s environment to exec tasks that try BASH_ENV or /proc/<ki>/environ', async () => {
    const canary = `canary-${randomBytes(12).toString('hex')}`;
    iso = await createIsolation('kiexec');
    cluster = new TestCluster(iso, FAST);
    await cluster.start('principal', { id: 'p1' });
    alice = new Api(cluster.url(), cluster.token('alice', 'submitter'));
    const admin = alice.as(cluster.token('root', 'admin'));
    await cluster.start('an', { id: 'an1' });
    await cluster.start('ki', { id: 'ki1', env: { KI_EXEC_ALLOWLIST: JSON.stringify({ bash: '/bin/bash' }), KI_EXEC_USER: 'nobody', ANKI_E2E_SECRET_CANARY: canary } });
    await waitFor(() => admin.get('/nodes'), (r) => r.body.items.some((k: any) => k.id === 'ki1' && k.status === 'alive' && k.group), { what: 'ki1 ready' });

    const injected = await alice.post('/tasks', { type: 'exec', payload: { command: 'bash', args: ['-c', 'echo job'], env: { BASH_ENV: '$(tr \'\\0\' \'\\n\' </proc/$PPID/environ >&2)' } } });
    const t1 = await until(injected.body.id);
    assert.ok(!JSON.stringify(t1).includes(canary), 'nothing of the Ki came back');
    assert.equal(t1.status, 'failed');
    assert.equal(t1.error.code, 'BAD_PAYLOAD');
    assert.match(t1.error.message, /BASH_ENV/);

    const reader = await alice.post('/tasks', { type: 'exec', payload: { command: 'bash', args: ['-c', 'id -u; tr \'\\0\' \'\\n\' </proc/$PPID/environ'] } });
    const t2 = await until(reader.body.id);
    assert.ok(!JSON.stringify(t2).includes(canary), 'the Ki\'s environment cannot be read by its commands');
    assert.equal(t2.status, 'failed');
    assert.equal(t2.error.code, 'EXEC_EXIT');
    assert.equal(t2.error.details.stdout.split('\n')[0], execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim(), 'the command ran as nobody');
    assert.match(t2.error.details.stderr, /Permission denied/);
  });
});

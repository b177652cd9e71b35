import { strict as assert } from 'node:assert';
import { connect } from 'node:net';
import { Api, TestCluster, type NodeProcess } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { waitFor } from '../helpers/wait';

const GRACE_MS = 1500;
/** Time a node may take beyond its grace to close connections and exit; a deadline, not a measurement. */
const EXIT_MARGIN_MS = 10_000;
const TERMINAL = ['succeeded', 'failed', 'cancelled'];
/** Dispatched to a Ki or running there. */
const ACTIVE = ['dispatched', 'running'];

interface Task {
  id: string;
  status: string;
  an: string | null;
  ki: string | null;
  attempts: number;
  error: unknown;
}

/** Sends `signal` and resolves with the exit code, or fails when the node is still running at the deadline. */
async function stopWithin(node: NodeProcess, signal: NodeJS.Signals, deadlineMs: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${node.id} still running ${deadlineMs} ms after ${signal}:\n${node.logs.slice(-10).join('\n')}`)), deadlineMs);
  });
  try {
    return await Promise.race([node.kill(signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** True when a TCP connection to 127.0.0.1:`port` is refused. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(false); });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

function assertLoggedShutdown(node: NodeProcess, signal: NodeJS.Signals): void {
  const lines = node.jsonLogs();
  assert.ok(lines.some((l) => l['msg'] === 'shutting down' && l['signal'] === signal), `${node.id} logged "shutting down" with signal ${signal}`);
  assert.equal(lines.at(-1)?.['msg'], 'stopped', `${node.id}'s last log line is "stopped" (written before exit): ${JSON.stringify(lines.slice(-2))}`);
  assert.ok(!lines.some((l) => l['msg'] === 'stop failed'), `every stop step of ${node.id} finished within its deadline: ${JSON.stringify(lines.filter((l) => l['msg'] === 'stop failed'))}`);
}

describe('graceful shutdown on SIGTERM and SIGINT (real processes)', function () {
  this.timeout(120_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let admin: Api;

  const newCluster = async (label: string) => {
    iso = await createIsolation(label);
    cluster = new TestCluster(iso, { KI_SLOTS: '4', HEARTBEAT_MS: '200', SUSPECT_AFTER_MS: '600', DEAD_AFTER_MS: '1500', SWEEP_INTERVAL_MS: '500' });
  };
  const dropCluster = async () => {
    await cluster?.stopAll();
    await iso?.destroy();
  };

  async function startPrincipal(id?: string): Promise<NodeProcess> {
    const principal = await cluster.start('principal', id ? { id } : {});
    admin = new Api(cluster.url(principal), cluster.token('root', 'admin'));
    await waitFor(() => admin.get('/healthz'), (r) => r.status === 200, { what: 'REST port answering' });
    return principal;
  }

  async function aliveKis(n: number): Promise<void> {
    await waitFor(() => admin.get('/nodes'), (r) => r.body.items.filter((m: { role: string; status: string; group: string }) => m.role === 'ki' && m.status === 'alive' && m.group).length === n, { what: `${n} Kis alive in a group` });
  }

  async function submitSleeps(n: number, ms: number): Promise<string[]> {
    const r = await admin.post('/tasks/batch', { tasks: Array.from({ length: n }, () => ({ type: 'sleep', payload: { ms } })) });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.ids;
  }

  async function tasks(ids: string[]): Promise<Task[]> {
    return Promise.all(ids.map(async (id) => (await admin.get(`/tasks/${id}`)).body as Task));
  }

  describe('of a node that is running tasks', () => {
    beforeEach(() => newCluster('shutdown'));
    afterEach(dropCluster);

    it('hands the running tasks of a Ki that receives SIGTERM to the other Ki, exits 0, and every task succeeds', async () => {
      await startPrincipal();
      await cluster.start('an', { id: 'an1' });
      const ki1 = await cluster.start('ki', { id: 'ki1', env: { SHUTDOWN_GRACE_MS: String(GRACE_MS) } });
      await cluster.start('ki', { id: 'ki2' });
      await aliveKis(2);
      const ids = await submitSleeps(8, 3000);

      const onKi = (ts: Task[], ki: string) => ts.filter((t) => ACTIVE.includes(t.status) && t.ki === ki);
      const running = await waitFor(() => tasks(ids), (ts) => onKi(ts, 'ki1').length === 4 && onKi(ts, 'ki2').length === 4 && ts.some((t) => t.status === 'running'), { what: 'four tasks on each Ki' });
      const onKi1 = onKi(running, 'ki1').map((t) => t.id);

      const code = await stopWithin(ki1, 'SIGTERM', GRACE_MS + EXIT_MARGIN_MS);
      assert.equal(code, 0, `ki1 exits 0 after SIGTERM:\n${ki1.logs.slice(-10).join('\n')}`);
      assertLoggedShutdown(ki1, 'SIGTERM');

      const done = await waitFor(() => tasks(ids), (ts) => ts.every((t) => TERMINAL.includes(t.status)), { timeoutMs: 60_000, intervalMs: 300, what: 'all tasks terminal' });
      assert.deepEqual(done.filter((t) => t.status !== 'succeeded').map((t) => `${t.id} ${t.status} ${JSON.stringify(t.error)}`), [], 'nothing failed');
      for (const t of done.filter((x) => onKi1.includes(x.id))) {
        assert.equal(t.ki, 'ki2', `task ${t.id} that ran on ki1 was handed back and finished on ki2`);
        assert.ok(t.attempts >= 2, `task ${t.id} took another attempt (${t.attempts})`);
      }
    });

    it('hands the running tasks of an An that receives SIGTERM back, exits 0, and a second An finishes them', async () => {
      await startPrincipal();
      const an1 = await cluster.start('an', { id: 'an1', env: { SHUTDOWN_GRACE_MS: String(GRACE_MS) } });
      await cluster.start('ki', { id: 'ki1' });
      await cluster.start('ki', { id: 'ki2' });
      await aliveKis(2);
      const ids = await submitSleeps(8, 4000);
      await waitFor(() => tasks(ids), (ts) => ts.every((t) => ACTIVE.includes(t.status) && t.an === 'an1') && ts.some((t) => t.status === 'running'), { what: 'eight tasks under an1' });

      const code = await stopWithin(an1, 'SIGTERM', GRACE_MS + EXIT_MARGIN_MS);
      assert.equal(code, 0, `an1 exits 0 after SIGTERM:\n${an1.logs.slice(-10).join('\n')}`);
      assertLoggedShutdown(an1, 'SIGTERM');
      const handedBack = await tasks(ids);
      assert.deepEqual(handedBack.filter((t) => t.status === 'failed' || t.status === 'cancelled').map((t) => t.id), [], 'no task failed or was cancelled by the shutdown');

      await cluster.start('an', { id: 'an2' });
      const done = await waitFor(() => tasks(ids), (ts) => ts.every((t) => TERMINAL.includes(t.status)), { timeoutMs: 60_000, intervalMs: 300, what: 'all tasks terminal' });
      assert.deepEqual(done.filter((t) => t.status !== 'succeeded').map((t) => `${t.id} ${t.status} ${JSON.stringify(t.error)}`), [], 'nothing failed');
      for (const t of done) assert.equal(t.an, 'an2', `task ${t.id}, handed back by an1, finished under the second An`);
    });
  });

  describe('of an idle node', () => {
    before(() => newCluster('shutdownidle'));
    after(dropCluster);

    it('closes the REST and metrics ports of a principal that receives SIGTERM and exits 0', async () => {
      const principal = await startPrincipal('principal-c');
      const created = await admin.post('/tasks', { type: 'echo', payload: 'before shutdown' });
      assert.equal(created.status, 201);

      const code = await stopWithin(principal, 'SIGTERM', GRACE_MS + EXIT_MARGIN_MS);
      assert.equal(code, 0, `the principal exits 0 after SIGTERM:\n${principal.logs.slice(-10).join('\n')}`);
      assertLoggedShutdown(principal, 'SIGTERM');
      assert.ok(await refused(principal.httpPort!), 'the REST port refuses connections');
      assert.ok(await refused(principal.metricsPort), 'the metrics port refuses connections');
    });

    it('logs a "shutting down" line naming the signal and the node, and exits 0, on SIGINT too', async () => {
      const ki = await cluster.start('ki', { id: 'ki-d' });
      await waitFor(() => ki.jsonLogs(), (l) => l.some((x) => x['msg'] === 'node started'), { what: 'ki-d started' });
      const code = await stopWithin(ki, 'SIGINT', GRACE_MS + EXIT_MARGIN_MS);
      assert.equal(code, 0);
      assertLoggedShutdown(ki, 'SIGINT');
      const line = ki.jsonLogs().find((l) => l['msg'] === 'shutting down')!;
      assert.equal(line['nodeId'], 'ki-d', 'the line names the node');
    });
  });
});

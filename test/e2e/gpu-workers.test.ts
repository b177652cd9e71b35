import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { Api, TestCluster, type NodeProcess } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { waitFor } from '../helpers/wait';

const FAST = { HEARTBEAT_MS: '200', SUSPECT_AFTER_MS: '600', DEAD_AFTER_MS: '1500', ELECTION_TICK_MS: '300', LEADER_LEASE_MS: '2000' };
const PLUGIN = join(__dirname, '..', 'fixtures', 'ki', 'plugins', 'gpu-worker.js');
const GPUS = [0, 1].map((i) => ({ index: i, uuid: `GPU-fake-w-${i}`, name: 'Fake 24G', memoryMiB: 24576 }));
const terminal = (s: string) => ['succeeded', 'failed', 'cancelled'].includes(s);

interface WhoAmI { cuda: string | null; pid: number; calls: number; gpus: number[] }

describe('GPU plug-in workers (real processes, fake GPUs)', function () {
  this.timeout(180_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let alice: Api;
  let ki: NodeProcess;

  afterEach(async () => {
    await cluster?.stopAll();
    await iso?.destroy();
  });

  const submit = async (type: string, gpus: number, extra: Record<string, unknown> = {}): Promise<string> => {
    const r = await alice.post('/tasks', { type, payload: {}, ...(gpus > 0 ? { requirements: { gpus } } : {}), ...extra });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.id as string;
  };
  const settled = (id: string) => waitFor(() => alice.get(`/tasks/${id}`), (r) => terminal(r.body.status), { timeoutMs: 30_000, what: `task ${id} ends` }).then((r) => r.body);
  const whoami = async (gpus: number): Promise<WhoAmI> => {
    const t = await settled(await submit('whoami', gpus));
    assert.equal(t.status, 'succeeded', JSON.stringify(t.error));
    return t.result as WhoAmI;
  };
  const restarts = async (reason: string) => Number(new RegExp(`anki_ki_gpu_worker_restarts_total\\{reason="${reason}"\\} (\\d+)`).exec(await ki.metrics())?.[1] ?? 0);

  it('runs GPU plug-in tasks in a reused worker per reservation that sees only its GPUs, CPU tasks in the Ki, and survives workers that hang or exit', async () => {
    iso = await createIsolation('gpuworkers');
    cluster = new TestCluster(iso, FAST);
    await cluster.start('principal', { id: 'p1' });
    alice = new Api(cluster.url(), cluster.token('alice', 'submitter'));
    const admin = alice.as(cluster.token('root', 'admin'));
    await cluster.start('an', { id: 'an1' });
    ki = await cluster.start('ki', { id: 'wki', env: { KI_GPUS: JSON.stringify(GPUS), KI_HANDLERS: PLUGIN, KI_SLOTS: '4', KI_KILL_GRACE_MS: '500' } });
    await waitFor(() => admin.get('/nodes'), (r) => r.body.items.some((n: any) => n.id === 'wki' && n.status === 'alive' && n.group), { what: 'the Ki in a group' });
    const kiPid = ki.proc.pid;

    // Two one-GPU tasks on the same GPU (of three run one after another, two share one) reuse a worker.
    const singles: WhoAmI[] = [];
    for (let i = 0; i < 3; i++) singles.push(await whoami(1));
    const byGpu = new Map<number, WhoAmI[]>();
    for (const s of singles) byGpu.set(s.gpus[0] ?? -1, [...(byGpu.get(s.gpus[0] ?? -1) ?? []), s]);
    const [gpu, [first, second] = []] = [...byGpu.entries()].find(([, runs]) => runs.length >= 2) ?? [];
    assert.ok(gpu !== undefined && first && second);
    assert.equal(first.cuda, `GPU-fake-w-${gpu}`, 'CUDA_VISIBLE_DEVICES holds the reserved GPU only');
    assert.notEqual(first.pid, kiPid, 'not in the Ki\'s own process');
    assert.equal(second.pid, first.pid, 'the same worker serves the next task on that GPU');
    assert.equal(second.calls, first.calls + 1, 'and keeps its state between tasks');

    const pair = await whoami(2);
    assert.equal(pair.cuda, 'GPU-fake-w-0,GPU-fake-w-1');
    assert.notEqual(pair.pid, kiPid);
    assert.notEqual(pair.pid, first.pid, 'a two-GPU reservation has a worker of its own');

    const cpu = await whoami(0);
    assert.equal(cpu.pid, kiPid, 'a CPU task runs in the Ki\'s process');
    assert.equal(cpu.cuda, null);

    // A handler that never returns: timed out, its worker killed after the grace; the GPU works on.
    const timedOut = await settled(await submit('hang', 1, { timeoutMs: 1500, maxAttempts: 1 }));
    assert.equal(timedOut.status, 'failed');
    assert.equal(timedOut.error.code, 'TIMEOUT');
    await waitFor(() => restarts('killed'), (n) => n === 1, { what: 'the hung worker killed' });
    const hungGpu = (ki.jsonLogs().find((l) => l['msg'] === 'plug-in call did not end after its cancel; killing its worker')?.['gpus']) as string;
    let after: WhoAmI | undefined;
    for (let i = 0; i < 6 && !after; i++) {
      const r = await whoami(1);
      if (String(r.gpus[0]) === hungGpu) after = r;
    }
    assert.ok(after, `a task ran on GPU ${hungGpu} again`);
    if (hungGpu === String(gpu)) assert.notEqual(after.pid, first.pid, 'a fresh worker replaced the killed one');

    // Cancelled while it hangs: cancelled, and its worker killed too.
    const hanging = await submit('hang', 1);
    await waitFor(() => alice.get(`/tasks/${hanging}`), (r) => r.body.status === 'running', { what: 'the hanging task runs' });
    assert.equal((await alice.post(`/tasks/${hanging}/cancel`)).body.status, 'cancelled');
    await waitFor(() => restarts('killed'), (n) => n === 2, { what: 'the cancelled worker killed' });

    // process.exit in a worker: the task fails retryably, the Ki lives on and the next task runs.
    const exited = await settled(await submit('exit', 1, { maxAttempts: 1 }));
    assert.equal(exited.status, 'failed');
    assert.equal(exited.error.code, 'WORKER_EXITED');
    assert.equal(exited.error.retryable, true);
    assert.equal(await restarts('exited'), 1);
    assert.ok(ki.alive, 'the Ki is still running');
    assert.notEqual((await whoami(1)).pid, kiPid);
  });
});

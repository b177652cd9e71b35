import { strict as assert } from 'node:assert';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Api, TestCluster } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { waitFor } from '../helpers/wait';

const FAST = { HEARTBEAT_MS: '200', SUSPECT_AFTER_MS: '600', DEAD_AFTER_MS: '1500', ELECTION_TICK_MS: '300', LEADER_LEASE_MS: '2000' };
const PLUGIN = join(__dirname, '..', 'fixtures', 'ki', 'plugins', 'square.js');
const terminal = (s: string) => ['succeeded', 'failed', 'cancelled'].includes(s);

/**
 * A stand-in for nvidia-smi on the Ki's PATH: it prints what the test last wrote (the query's CSV,
 * as the real one prints it) or, when told to, fails as a driver that stopped answering does.
 */
class FakeNvidiaSmi {
  readonly dir = mkdtempSync(join(tmpdir(), 'anki-nvidia-smi-'));
  readonly #out = join(this.dir, 'out.csv');
  readonly #failing = join(this.dir, 'failing');

  constructor() {
    writeFileSync(join(this.dir, 'nvidia-smi'), `#!/bin/sh\nif [ -e '${this.#failing}' ]; then echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."; exit 9; fi\ncat '${this.#out}'\n`);
    chmodSync(join(this.dir, 'nvidia-smi'), 0o755);
  }

  /** Two 80 GiB GPUs; `ecc` holds each one's uncorrected ECC count. */
  answer(ecc: [number, number]): void {
    rmSync(this.#failing, { force: true });
    writeFileSync(this.#out, ecc.map((n, i) => `${i}, GPU-fake-health-${i}, NVIDIA H100 80GB HBM3, 81559, 0, 0, ${n}\n`).join(''));
  }

  fail(): void {
    writeFileSync(this.#failing, '');
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe('GPU health (real processes, a fake nvidia-smi on the Ki\'s PATH)', function () {
  this.timeout(120_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let smi: FakeNvidiaSmi;

  afterEach(async () => {
    await cluster?.stopAll();
    await iso?.destroy();
    smi?.remove();
  });

  it('takes a GPU that fails out of placement, shows why, and puts it back when it recovers', async () => {
    smi = new FakeNvidiaSmi();
    smi.answer([0, 0]);
    iso = await createIsolation('gpuhealth');
    cluster = new TestCluster(iso, FAST);
    await cluster.start('principal', { id: 'p1' });
    const alice = new Api(cluster.url(), cluster.token('alice', 'submitter'));
    const admin = alice.as(cluster.token('root', 'admin'));
    await cluster.start('an', { id: 'an1' });
    await cluster.start('ki', { id: 'gpu-ki', env: { PATH: `${smi.dir}:${process.env['PATH'] ?? '/usr/bin:/bin'}`, KI_GPUS: 'auto', KI_GPU_REFRESH_MS: '200', KI_HANDLERS: PLUGIN, KI_SLOTS: '4' } });
    const gpusShown = (pred: (gpus: any[]) => boolean, what: string) => waitFor(() => admin.get('/nodes'), (r) => {
      const ki = r.body.items.find((n: any) => n.id === 'gpu-ki' && n.status === 'alive' && n.group);
      return Boolean(ki && pred(ki.gpus));
    }, { what }).then((r) => r.body.items.find((n: any) => n.id === 'gpu-ki').gpus as any[]);
    const run = async (gpus: number) => {
      const posted = await alice.post('/tasks', { type: 'square', payload: { n: gpus }, requirements: { gpus } });
      assert.equal(posted.status, 201);
      return posted.body.id as string;
    };
    const until = (id: string, pred: (t: any) => boolean, what: string) => waitFor(() => alice.get(`/tasks/${id}`), (r) => pred(r.body), { timeoutMs: 30_000, what }).then((r) => r.body);

    const found = await gpusShown((g) => g.length === 2, 'two GPUs found by nvidia-smi');
    assert.deepEqual(found.map((g) => g.health ?? 'ok'), ['ok', 'ok']);

    // An uncorrectable ECC error on GPU 0: it is shown failed, and GPU work goes to GPU 1 only.
    smi.answer([1, 0]);
    const failed = await gpusShown((g) => g[0]?.health === 'failed', 'GPU 0 shown failed');
    assert.match(failed[0].healthReason, /1 uncorrected ECC error/);
    assert.equal(failed[1].health, 'ok');
    const ids = [await run(1), await run(1), await run(1)];
    for (const id of ids) {
      const t = await until(id, (x) => terminal(x.status), 'a one-GPU task ends');
      assert.equal(t.status, 'succeeded');
      assert.deepEqual(t.result.gpus, [1], 'never placed on the failed GPU');
    }

    // A two-GPU task cannot run while one of two GPUs is failed; it waits (not fails) and runs once
    // the GPU is reset.
    const pair = await run(2);
    await sleep(1500);
    assert.equal((await alice.get(`/tasks/${pair}`)).body.status, 'queued', 'waits while a GPU it needs is failed');
    smi.answer([0, 0]);
    await gpusShown((g) => g.every((x) => x.health === 'ok'), 'GPU 0 healthy again');
    const both = await until(pair, (x) => terminal(x.status), 'the two-GPU task ends');
    assert.equal(both.status, 'succeeded');
    assert.deepEqual(both.result.gpus, [0, 1]);

    // nvidia-smi stops answering: after a few readings every GPU is out of placement, with the reason.
    smi.fail();
    const wedged = await gpusShown((g) => g.every((x) => x.health === 'failed'), 'every GPU failed while nvidia-smi fails');
    assert.match(wedged[0].healthReason, /couldn't communicate with the NVIDIA driver/);
    const waiting = await run(1);
    await sleep(1500);
    assert.equal((await alice.get(`/tasks/${waiting}`)).body.status, 'queued');
    smi.answer([0, 0]);
    assert.equal((await until(waiting, (x) => terminal(x.status), 'the task waiting for a GPU ends')).status, 'succeeded');
  });
});

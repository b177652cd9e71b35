import { strict as assert } from 'node:assert';
import { TaskAdmission } from '../../../src/principal/admission';
import { FairReleaser } from '../../../src/principal/fair-releaser';
import { GpuAccounting } from '../../../src/principal/gpu-accounting';
import { Sweeper } from '../../../src/principal/sweeper';
import { TenantLedger } from '../../../src/principal/tenant-ledger';
import { TenantRepository, type TaskRecord } from '../../../src/store';
import { collectPending, PrincipalHarness, queuedTask, until } from './principal-harness';

const WINDOW = 4;

describe('FairReleaser: tasks past a tenant\'s share wait in the store, and the leader publishes them fairly', () => {
  let h: PrincipalHarness;
  let tenants: TenantRepository;
  let ledger: TenantLedger;
  let admission: TaskAdmission;
  let pending: string[];

  beforeEach(async () => {
    h = new PrincipalHarness();
    await h.start();
    tenants = new TenantRepository(h.db, h.repo);
    ledger = new TenantLedger({ tenants, window: () => WINDOW, gpuPeriod: 'month' });
    admission = new TaskAdmission({ config: h.config, repo: h.repo, bus: h.bus('p1', 'principal', h.metrics), names: h.names, metrics: h.metrics, log: h.log, tenancy: { ledger, tenants } });
    pending = [];
    await collectPending(h, pending);
  });

  afterEach(async () => {
    await admission.drain().catch(() => undefined);
    await h.stop();
  });

  const tasksOf = (tenant: string, n: number): TaskRecord[] => Array.from({ length: n }, () => queuedTask({ owner: tenant, tenant }));
  /** A's tasks in the broker start: the An dispatched them. */
  const start = (ids: readonly string[]) => h.db.query("UPDATE tasks SET status = 'running' WHERE id = ANY($1::uuid[])", [ids]);

  it('holds what passes the share, leaves held tasks to the releaser (not the sweeper), and releases them by weight as tasks start', async () => {
    const a = tasksOf('a', 10);
    await admission.submit(a);
    await until(() => pending, (p) => p.length === WINDOW, 'a\'s share published at once');
    assert.deepEqual(pending, a.slice(0, WINDOW).map((t) => t.id), 'the oldest first');
    const b = tasksOf('b', 3);
    await ledger.refresh();
    await admission.submit(b);
    await until(() => pending, (p) => p.length === WINDOW + 2, 'b\'s half of the window published at once');
    await admission.drain();
    // Held rows are marked published: the sweeper, even with no grace, republishes none of them.
    const sweeper = new Sweeper({ repo: h.repo, admission, metrics: h.metrics, log: h.log, unpublishedGraceMs: 0, selfId: 'p1' });
    assert.equal(await sweeper.republishUnpublished(), 0);

    const releaser = new FairReleaser({ tenants, repo: h.repo, admission, ledger, log: h.log });
    assert.equal(await releaser.release(), 0, 'the window is full: nothing more goes to the broker');
    await start([...pending]);
    // 4 free places, a (6 held) and b (1 held) with equal weights: 2 for a, 1 for b (all it has left)
    assert.equal(await releaser.release(), 3);
    await until(() => pending, (p) => p.length === WINDOW + 2 + 3, 'the released tasks');
    const released = pending.slice(WINDOW + 2);
    assert.ok(released.includes(b[2]!.id), 'b\'s held task');
    assert.equal(released.filter((id) => a.slice(WINDOW).some((t) => t.id === id)).length, 2, 'two of a\'s held tasks');
    const counts = await tenants.counts();
    assert.deepEqual(counts.get('a'), { queued: 6, held: 4, running: 4 });
  });

  it('drops the hold of a task cancelled while held, and keeps a hold until its publish was confirmed', async () => {
    const a = tasksOf('a', WINDOW + 2);
    await admission.submit(a);
    await admission.drain();
    await h.repo.cancel(a[WINDOW]!.id, 'no longer wanted');
    await start(a.slice(0, WINDOW).map((t) => t.id));
    const failing = new FairReleaser({ tenants, repo: h.repo, admission: { publish: () => Promise.resolve(false) }, ledger, log: h.log });
    assert.equal(await failing.release(), 0);
    assert.deepEqual(await tenants.heldOf('a', 10), [a[WINDOW + 1]!.id], 'the cancelled task\'s hold is gone; the unpublished one stays');
    const releaser = new FairReleaser({ tenants, repo: h.repo, admission, ledger, log: h.log });
    assert.equal(await releaser.release(), 1);
    assert.deepEqual(await tenants.heldOf('a', 10), []);
  });

  it('accounts a finished task\'s GPU-seconds to its tenant once, however often it is offered', async () => {
    const t = queuedTask({ owner: 'alice', tenant: 'vision', requirements: { gpus: 2, gpuMemoryMiB: 0, labels: [] } });
    await h.repo.insertMany([t]);
    await h.db.query("UPDATE tasks SET status = 'succeeded', started_at = now() - interval '3 seconds', finished_at = now() WHERE id = $1", [t.id]);
    const counted: [string, number][] = [];
    const accounting = new GpuAccounting({ tenants, counter: h.metrics.tenantGpuSeconds, period: 'month', log: h.log, onAccounted: (tenant, s) => counted.push([tenant, s]) });
    accounting.onFinished(t.id);
    accounting.onFinished(t.id);
    await accounting.account(true);
    assert.deepEqual(counted.map(([tenant, s]) => [tenant, Math.round(s)]), [['vision', 6]], '3 s × 2 GPUs, once');
    await ledger.refresh();
    assert.equal(Math.round(ledger.status(['vision'])[0]!.gpuSeconds), 6);
  });
});

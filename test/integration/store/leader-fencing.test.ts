import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { createIsolation, type Isolation } from '../../helpers/isolation';
import { migrate, PgDatabase, TaskRepository } from '../../../src/store';
import { DbLeaseLeadership } from '../../../src/principal/db-lease-leadership';
import { createMetrics, silentLogger } from '../../../src/observability';

describe('leader lease and term fencing on PostgreSQL', function () {
  this.timeout(30_000);
  let iso: Isolation;
  let db: PgDatabase;

  before(async () => {
    iso = await createIsolation('fence');
    db = new PgDatabase({ url: iso.databaseUrl, poolSize: 4, statementTimeoutMs: 5000, connectTimeoutMs: 2000, maxTxAttempts: 3, applicationName: 'test' });
    await migrate(db, 'test');
  });
  after(async () => {
    await db?.close();
    await iso?.destroy();
  });

  const lead = (id: string, leaseMs: number, wants = true) => new DbLeaseLeadership({ db, nodeId: id, leaseMs, tickMs: 50, metrics: createMetrics(new Registry(), 'principal'), log: silentLogger(), wantsLead: () => wants });

  it('refuses the writes of a deposed leader while the new leader writes under a higher term', async () => {
    const a = lead('pa', 300);
    await a.tick();
    assert.ok(a.isLeader());
    const fenceA = a.fence()!;
    const b = lead('pb', 5000);
    await b.tick();
    assert.equal(b.isLeader(), false, 'a live lease is not taken over');
    await new Promise((r) => setTimeout(r, 350)); // let A's lease run out: A stalls and does not renew
    await b.tick();
    assert.ok(b.isLeader());
    assert.ok(b.term > fenceA.term, 'the new leader has a higher term');

    const repo = new TaskRepository(db);
    const now = new Date();
    const id = randomUUID();
    await repo.insertMany([{ id, type: 'echo', payload: null, status: 'queued', priority: 5, requirements: { gpus: 0, gpuMemoryMiB: 0, labels: [] }, redundancy: null, attempts: 0, maxAttempts: 3, timeoutMs: 1000, result: null, error: null, progress: null, owner: 'o', an: null, ki: null, traceContext: null, createdAt: now, updatedAt: now, startedAt: null, finishedAt: null }]);
    const stale = await repo.applyTransitions([{ id, name: 'failUnplaceable', expectedAttempts: 0 }], fenceA);
    assert.equal(stale.length, 0, 'the stale term is refused by the store');
    const fresh = await repo.applyTransitions([{ id, name: 'dispatch', expectedAttempts: 0 }], b.fence()!);
    assert.equal(fresh.length, 1, 'the current leader writes');
    await a.tick();
    assert.equal(a.isLeader(), false, 'the old leader steps down when it sees the lease gone');
    await b.stop();
    await a.stop();
  });
});

import { strict as assert } from 'node:assert';
import { Registry } from 'prom-client';
import { createMetrics } from '../../../src/observability/metrics';
import { silentLogger } from '../../../src/observability/logger';
import { DbLeaseLeadership } from '../../../src/principal/db-lease-leadership';
import { migrate } from '../../../src/store/migrate';
import { PgliteDatabase } from '../../../src/store/pglite-database';
import { until } from './principal-harness';

describe('DbLeaseLeadership (PGlite)', () => {
  let db: PgliteDatabase;

  beforeEach(async () => {
    db = new PgliteDatabase();
    await db.ready();
    await migrate(db, 'unit');
  });
  afterEach(() => db.close());

  const principal = (nodeId: string, wantsLead: () => boolean = () => true) =>
    new DbLeaseLeadership({ db, nodeId, leaseMs: 60_000, tickMs: 100, metrics: createMetrics(new Registry(), 'principal'), log: silentLogger(), wantsLead });

  it('lets one principal take the lease; the other sees it as leader and gets no fence', async () => {
    const p1 = principal('p1');
    const p2 = principal('p2');
    await p1.tick();
    await p2.tick();
    assert.equal(p1.isLeader(), true);
    assert.deepEqual(p1.fence(), { holder: 'p1', term: 1 });
    assert.equal(p2.isLeader(), false);
    assert.equal(p2.fence(), null);
    assert.deepEqual(p2.leader(), { id: 'p1', term: 1 });
    assert.equal(p2.term, 1);
  });

  it('renews its own lease without raising the term', async () => {
    const p1 = principal('p1');
    await p1.tick();
    await p1.tick();
    assert.deepEqual(p1.fence(), { holder: 'p1', term: 1 });
  });

  it('hands the lease over at once on stop, and the next holder leads under a higher term', async () => {
    const p1 = principal('p1');
    const p2 = principal('p2');
    await p1.tick();
    await p1.stop();
    // The lease ended "now": the next tick whose now() is later takes it.
    await until(async () => { await p2.tick(); return p2.fence(); }, (f) => f !== null, 'p2 leads');
    assert.deepEqual(p2.fence(), { holder: 'p2', term: 2 });
  });

  it('does not try to take a free lease while the broker names another candidate', async () => {
    const p2 = principal('p2', () => false);
    await p2.tick();
    assert.equal(p2.isLeader(), false);
    assert.equal(p2.leader(), null);
  });

  it('rethrows a store error, counts it, and does not lead', async () => {
    const metrics = createMetrics(new Registry(), 'principal');
    const p1 = new DbLeaseLeadership({ db, nodeId: 'p1', leaseMs: 60_000, tickMs: 100, metrics, log: silentLogger() });
    await db.close();
    await assert.rejects(p1.tick());
    assert.equal(p1.isLeader(), false);
    assert.equal((await metrics.dbErrors.get()).values[0]?.value, 1);
    db = new PgliteDatabase();
  });
});

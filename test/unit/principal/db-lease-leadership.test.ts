import { strict as assert } from 'node:assert';
import { Registry } from 'prom-client';
import { createMetrics } from '../../../src/observability/metrics';
import { silentLogger } from '../../../src/observability/logger';
import { DbLeaseLeadership, TAKE_LEASE_SQL } from '../../../src/principal/db-lease-leadership';
import type { Queryable } from '../../../src/store/db';
import { PgliteDatabase } from '../../../src/store/pglite-database';
import { until } from './principal-harness';
import { migratedPglite } from '../../helpers/migrated-pglite';

describe('DbLeaseLeadership (PGlite)', () => {
  let db: PgliteDatabase;

  beforeEach(async () => {
    db = await migratedPglite();
  });
  afterEach(() => db.close());

  const principal = (nodeId: string, wantsLead: () => boolean = () => true, canLead: () => boolean = () => true, leaseMs = 60_000, store: Queryable = db) =>
    new DbLeaseLeadership({ db: store, nodeId, leaseMs, tickMs: 100, metrics: createMetrics(new Registry(), 'principal'), log: silentLogger(), wantsLead, canLead });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

  it('takes a lease it reads free even when the broker names another candidate: a frozen candidate must not leave the cluster without a leader', async () => {
    const p2 = principal('p2', () => false);
    await p2.tick();
    assert.equal(p2.isLeader(), true);
    assert.deepEqual(p2.leader(), { id: 'p2', term: 1 });
  });

  it('does not take a live lease another principal holds, candidate or not', async () => {
    const p1 = principal('p1');
    const p2 = principal('p2');
    const p3 = principal('p3', () => false);
    await p1.tick();
    await p2.tick();
    await p3.tick();
    assert.deepEqual([p1.isLeader(), p2.isLeader(), p3.isLeader()], [true, false, false]);
    assert.deepEqual(p3.leader(), { id: 'p1', term: 1 });
  });

  it('takes over a released lease without waiting for the broker to name it, even behind a candidate', async () => {
    const p1 = principal('p1');
    const p2 = principal('p2', () => false);
    await p1.tick();
    await p2.tick();
    assert.deepEqual(p2.leader(), { id: 'p1', term: 1 });
    await p1.stop();
    await until(async () => { await p2.tick(); return p2.fence(); }, (f) => f !== null, 'p2 leads');
    assert.deepEqual(p2.fence(), { holder: 'p2', term: 2 });
  });

  it('releases the lease at once when it stops hearing the cluster, and takes none while it does not hear', async () => {
    let hears = true;
    const p1 = principal('p1', () => true, () => hears);
    const p2 = principal('p2');
    await p1.tick();
    assert.equal(p1.isLeader(), true);
    hears = false;
    await p1.tick();
    assert.equal(p1.isLeader(), false);
    assert.equal(p1.fence(), null);
    await until(async () => { await p2.tick(); return p2.fence(); }, (f) => f !== null, 'p2 takes the released lease');
    assert.deepEqual(p2.fence(), { holder: 'p2', term: 2 });
    await p2.stop();
    await sleep(5);
    for (let i = 0; i < 3; i++) await p1.tick();
    assert.equal(p1.isLeader(), false, 'a principal that does not hear the cluster takes no lease, free or not');
    hears = true;
    await until(async () => { await p1.tick(); return p1.fence(); }, (f) => f !== null, 'p1 leads again once it hears');
  });

  it('stops calling itself the leader once its lease ran out, renewed or not (a frozen leader wakes up a follower)', async () => {
    const p1 = principal('p1', () => true, () => true, 300);
    await p1.tick();
    assert.deepEqual(p1.leader(), { id: 'p1', term: 1 });
    await sleep(250);
    assert.equal(p1.isLeader(), false);
    assert.equal(p1.leader(), null, 'not itself: another principal may lead by now');
  });

  it('counts its lease from before the statement: an answer that comes late (the process was frozen) does not make it leader', async () => {
    const late: Queryable = {
      query: async (text, params) => {
        const r = await db.query(text, params);
        if (text === TAKE_LEASE_SQL) await sleep(250);
        return r as never;
      },
    };
    const p1 = principal('p1', () => true, () => true, 300, late);
    await p1.tick();
    assert.equal(p1.isLeader(), false);
    assert.equal(p1.fence(), null);
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

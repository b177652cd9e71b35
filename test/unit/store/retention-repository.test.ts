import { strict as assert } from 'node:assert';
import type { PgliteDatabase } from '../../../src/store/pglite-database';
import { RetentionRepository } from '../../../src/store/retention-repository';
import { RETENTION_CASE_AGE_MS, seedRetentionCase, storedIds, storedKeys, type RetentionCase } from '../../helpers/retention-seed';
import { migratedPglite } from '../../helpers/migrated-pglite';

describe('RetentionRepository on embedded PostgreSQL', function () {
  this.timeout(180_000);
  let db: PgliteDatabase;
  let retention: RetentionRepository;
  let seeded: RetentionCase;
  const fence = { holder: 'leader-1', term: 1 };

  before(async () => {
    db = await migratedPglite();
    retention = new RetentionRepository(db);
  });
  after(() => db?.close());

  // One database for the file (a WASM PostgreSQL takes long to boot), emptied before each test.
  beforeEach(async () => {
    for (const table of ['tasks', 'task_idempotency', 'workflows']) await db.query(`DELETE FROM ${table}`);
    seeded = await seedRetentionCase(db, fence.holder);
  });

  it('finds only tasks finished before the age that no running workflow needs, oldest first', async () => {
    const ids = await retention.expiredTaskIds(RETENTION_CASE_AGE_MS, 100);
    assert.deepEqual(new Set(ids), new Set(seeded.old));
    const full = await retention.expiredTasks(RETENTION_CASE_AGE_MS, 100);
    assert.deepEqual(new Set(full.map((t) => t.id)), new Set(seeded.old));
    assert.ok(full.every((t) => t.finishedAt instanceof Date && t.owner === 'alice'), 'the full rows come back for the export');
  });

  it('returns at most the batch size', async () => {
    assert.equal((await retention.expiredTaskIds(RETENTION_CASE_AGE_MS, 2)).length, 2);
  });

  it('deletes the expired tasks it is given and keeps young, unfinished and running-workflow ones, even when named', async () => {
    const everyId = [...seeded.old, ...seeded.young, ...seeded.unfinished, ...seeded.ofRunningWorkflow];
    const deleted = await retention.deleteExpiredTasks(everyId, RETENTION_CASE_AGE_MS, fence);
    assert.deepEqual(new Set(deleted), new Set(seeded.old));
    assert.deepEqual(await storedIds(db, everyId), new Set([...seeded.young, ...seeded.unfinished, ...seeded.ofRunningWorkflow]));
  });

  it('deletes nothing for a leader whose term is no longer the lease', async () => {
    const deleted = await retention.deleteExpiredTasks(seeded.old, RETENTION_CASE_AGE_MS, { holder: fence.holder, term: 0 });
    assert.deepEqual(deleted, []);
    assert.equal((await storedIds(db, seeded.old)).size, seeded.old.length);
    assert.equal(await retention.deleteExpiredKeys(RETENTION_CASE_AGE_MS, 100, { holder: 'someone-else', term: 1 }), 0);
    assert.ok((await storedKeys(db)).has(seeded.oldKey));
  });

  it('deletes idempotency keys older than the age, in batches, and keeps young ones', async () => {
    for (let i = 0; i < 3; i++) {
      await db.query("INSERT INTO task_idempotency (owner, key, task_ids, created_at) VALUES ('alice', $1::text, '[]'::jsonb, now() - interval '90 days')", [`extra-${i}`]);
    }
    assert.equal(await retention.deleteExpiredKeys(RETENTION_CASE_AGE_MS, 3, fence), 3, 'one batch takes at most its size');
    assert.equal(await retention.deleteExpiredKeys(RETENTION_CASE_AGE_MS, 3, fence), 1);
    assert.deepEqual(await storedKeys(db), new Set([seeded.youngKey]));
  });
});

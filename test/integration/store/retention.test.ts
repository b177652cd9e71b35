import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { createMetrics, silentLogger } from '../../../src/observability';
import { LeaderHousekeeping } from '../../../src/principal/leader-housekeeping';
import type { Leadership } from '../../../src/principal/leadership';
import type { PgDatabase } from '../../../src/store';
import { createIsolation, type Isolation } from '../../helpers/isolation';
import { RETENTION_CASE_AGE_MS, seedRetentionCase, storedIds, storedKeys } from '../../helpers/retention-seed';
import { openTestDatabase } from '../../helpers/test-database';
import { waitFor } from '../../helpers/wait';

describe('retention on PostgreSQL', function () {
  this.timeout(60_000);
  let iso: Isolation;
  let db: PgDatabase;
  let dir: string;

  before(async () => {
    iso = await createIsolation('retention');
    db = await openTestDatabase(iso);
    dir = mkdtempSync(join(tmpdir(), 'retention-export-'));
  });
  after(async () => {
    await db?.close();
    await iso?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the leader exports then deletes old finished tasks and keys, keeps young, unfinished and running-workflow tasks, and reports table sizes', async () => {
    const seeded = await seedRetentionCase(db, 'leader-1');
    const fence = { holder: 'leader-1', term: 1 };
    const leadership: Leadership = { isLeader: () => true, term: 1, leader: () => ({ id: 'leader-1', term: 1 }), fence: () => fence };
    const exportDir = join(dir, 'archive');
    const metrics = createMetrics(new Registry(), 'principal');
    const housekeeping = new LeaderHousekeeping({
      db, leadership, metrics, log: silentLogger(),
      // Batches of 3 for 4 old tasks: the pass takes two.
      config: {
        retention: { maxAgeMs: RETENTION_CASE_AGE_MS, batch: 3, intervalMs: 50, maxBatchesPerPass: 10, exportDir },
        storeStats: { countCap: 10, countTtlMs: 0, tableStatsIntervalMs: 50 },
      },
    });
    await housekeeping.start();
    try {
      await waitFor(() => storedIds(db, seeded.old), (s) => s.size === 0, { what: 'old finished tasks deleted' });
      await waitFor(() => storedKeys(db), (k) => !k.has(seeded.oldKey), { what: 'old idempotency key deleted' });
      const bytes = await waitFor(async () => (await metrics.storeTableBytes.get()).values, (v) => v.length > 0, { what: 'table sizes reported' });
      assert.ok((bytes.find((v) => v.labels['table'] === 'tasks')?.value ?? 0) > 0, 'the leader reports the size of the tasks table');
    } finally {
      await housekeeping.stop();
    }
    const kept = [...seeded.young, ...seeded.unfinished, ...seeded.ofRunningWorkflow];
    assert.deepEqual(await storedIds(db, kept), new Set(kept), 'young, unfinished and running-workflow tasks stay');
    assert.ok((await storedKeys(db)).has(seeded.youngKey));

    const files = readdirSync(exportDir);
    assert.equal(files.length, 1);
    const exported = readFileSync(join(exportDir, files[0]!), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { id: string; finishedAt: string });
    assert.deepEqual(new Set(exported.map((t) => t.id)), new Set(seeded.old), 'every deleted task is in the export, and only those');
    assert.ok(exported.every((t) => Date.parse(t.finishedAt) < Date.now() - RETENTION_CASE_AGE_MS));
  });
});

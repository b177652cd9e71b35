import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PgDatabase } from '../../src/store';
import { Api, TestCluster } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { RETENTION_CASE_AGE_MS, seedRetentionCase, storedIds } from '../helpers/retention-seed';
import { openTestDatabase } from '../helpers/test-database';
import { waitFor } from '../helpers/wait';

/** A real principal, as leader, runs retention on its database and reports table sizes and counts. */
describe('retention and store statistics in a running principal', function () {
  this.timeout(60_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let db: PgDatabase;
  let exportDir: string;

  before(async () => {
    iso = await createIsolation('retention');
    exportDir = mkdtempSync(join(tmpdir(), 'retention-e2e-'));
    cluster = new TestCluster(iso, {
      RETENTION_MAX_AGE_MS: String(RETENTION_CASE_AGE_MS), RETENTION_INTERVAL_MS: '300', RETENTION_BATCH: '2', RETENTION_EXPORT_DIR: exportDir,
      STORE_TABLE_STATS_INTERVAL_MS: '300', CLUSTER_TASK_COUNT_TTL_MS: '0',
    });
    db = await openTestDatabase(iso, { migrated: false, poolSize: 2 });
  });
  after(async () => {
    await cluster?.stopAll();
    await db?.close();
    await iso?.destroy();
    if (exportDir) rmSync(exportDir, { recursive: true, force: true });
  });

  it('deletes and exports only the old finished tasks, and shows table sizes and bounded counts', async () => {
    const p1 = await cluster.start('principal', { id: 'p1' }); // migrates the database
    const seeded = await seedRetentionCase(db, null);
    await waitFor(() => storedIds(db, seeded.old), (s) => s.size === 0, { what: 'old finished tasks deleted by the leader' });
    const kept = [...seeded.young, ...seeded.unfinished, ...seeded.ofRunningWorkflow];
    assert.deepEqual(await storedIds(db, kept), new Set(kept));
    const exported = readdirSync(exportDir).flatMap((f) => readFileSync(join(exportDir, f), 'utf8').trimEnd().split('\n')).map((l) => (JSON.parse(l) as { id: string }).id);
    assert.deepEqual(new Set(exported), new Set(seeded.old));

    const metrics = await waitFor(() => p1.metrics(), (m) => /anki_store_table_bytes\{table="tasks"\} [1-9]/.test(m), { what: 'table sizes in the metrics' });
    assert.match(metrics, new RegExp(`anki_retention_deleted_total\\{kind="task"\\} ${seeded.old.length}\\b`));
    const summary = await new Api(cluster.url(p1), cluster.token('ops', 'operator')).get('/cluster');
    assert.equal(summary.status, 200);
    assert.deepEqual(summary.body.tasks, { succeeded: 2, failed: 1, queued: 1, running: 1, scheduled: 1 });
    assert.deepEqual(summary.body.tasksCapped, []);
    assert.ok(Date.parse(summary.body.tasksCountedAt) > 0);
  });
});

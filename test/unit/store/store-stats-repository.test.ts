import { strict as assert } from 'node:assert';
import type { PgliteDatabase } from '../../../src/store/pglite-database';
import { StoreStatsRepository } from '../../../src/store/store-stats-repository';
import { TaskRepository } from '../../../src/store/task-repository';
import type { Database, QueryResult } from '../../../src/store/db';
import { queuedTaskRecord } from '../../helpers/task-record';
import { migratedPglite } from '../../helpers/migrated-pglite';

describe('StoreStatsRepository', function () {
  this.timeout(180_000);

  describe('on embedded PostgreSQL', () => {
    let db: PgliteDatabase;
    let stats: StoreStatsRepository;
    before(async () => {
      db = await migratedPglite();
      stats = new StoreStatsRepository(db);
      await new TaskRepository(db).insertMany([
        ...Array.from({ length: 5 }, () => queuedTaskRecord()),
        queuedTaskRecord({ status: 'succeeded' }), queuedTaskRecord({ status: 'failed' }),
      ]);
    });
    after(() => db?.close());

    it('counts each status up to the cap, leaves out empty ones and lists the capped', async () => {
      assert.deepEqual(await stats.countTasksUpTo(3), { counts: { queued: 3, succeeded: 1, failed: 1 }, capped: ['queued'] });
      assert.deepEqual(await stats.countTasksUpTo(1000), { counts: { queued: 5, succeeded: 1, failed: 1 }, capped: [] });
    });

    it('reads every table of the schema with its estimated rows and total bytes', async () => {
      await db.query('ANALYZE tasks');
      const tables = await stats.tableStats();
      const tasks = tables.find((t) => t.table === 'tasks');
      assert.ok(tasks, `tables seen: ${tables.map((t) => t.table).join(', ')}`);
      assert.equal(tasks.rows, 7, 'the estimate is exact right after ANALYZE');
      assert.ok((tasks.bytes ?? 0) > 0);
      assert.ok(tables.some((t) => t.table === 'task_idempotency'));
    });
  });

  it('falls back to CockroachDB\'s row statistics where the PostgreSQL catalog functions are missing', async () => {
    const seen: string[] = [];
    const crdb: Pick<Database, 'query'> = {
      query<R>(sql: string): Promise<QueryResult<R>> {
        seen.push(sql);
        if (sql.includes('pg_total_relation_size')) return Promise.reject(Object.assign(new Error('unknown function: pg_total_relation_size()'), { code: '42883' }));
        return Promise.resolve({ rows: [{ table_name: 'tasks', row_estimate: 42, total_bytes: null }] as R[], rowCount: 1 });
      },
    };
    assert.deepEqual(await new StoreStatsRepository(crdb).tableStats(), [{ table: 'tasks', rows: 42, bytes: null }]);
    assert.equal(seen.length, 2);
  });

  it('reports the PostgreSQL error when neither catalog answers', async () => {
    const broken: Pick<Database, 'query'> = { query: (sql: string) => Promise.reject(new Error(sql.includes('crdb_internal') ? 'no crdb' : 'pg catalog refused')) };
    await assert.rejects(new StoreStatsRepository(broken).tableStats(), /pg catalog refused/);
  });
});

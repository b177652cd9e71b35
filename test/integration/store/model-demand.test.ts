import { strict as assert } from 'node:assert';
import { queuedTaskRecord } from '../../helpers/task-record';
import { createIsolation, type Isolation } from '../../helpers/isolation';
import { migrate, ModelRepository, PgDatabase, TaskRepository } from '../../../src/store';

const ago = (ms: number) => new Date(Date.now() - ms);
const SETTINGS = { type: 'llm', requirements: { gpus: 1, gpuMemoryMiB: 8000, labels: ['a100'] }, warm: { min: 1, max: 3 }, config: { weights: '/m/llama' } };

describe('deployed models and their demand, in the store on PostgreSQL', function () {
  this.timeout(60_000);
  let iso: Isolation;
  let db: PgDatabase;
  let repo: TaskRepository;
  let models: ModelRepository;

  before(async () => {
    iso = await createIsolation('modeldemand');
    db = new PgDatabase({ url: iso.databaseUrl, poolSize: 2, statementTimeoutMs: 5000, connectTimeoutMs: 2000, maxTxAttempts: 5, applicationName: 'test' });
    await migrate(db, 'test');
    repo = new TaskRepository(db);
    models = new ModelRepository(db);
  });

  after(async () => {
    await db?.close();
    await iso?.destroy();
  });

  it('deploys, redeploys, lists and deletes a model, keeping who deployed it first', async () => {
    const first = await models.upsert('llama', SETTINGS, 'ops');
    assert.equal(first.created, true);
    assert.deepEqual({ ...first.model, createdAt: undefined, updatedAt: undefined }, { name: 'llama', ...SETTINGS, createdBy: 'ops', createdAt: undefined, updatedAt: undefined });
    const again = await models.upsert('llama', { ...SETTINGS, warm: { min: 2, max: 4 } }, 'root');
    assert.equal(again.created, false);
    assert.deepEqual([again.model.warm, again.model.createdBy], [{ min: 2, max: 4 }, 'ops']);
    assert.deepEqual((await models.list()).map((m) => m.name), ['llama']);
    assert.equal(await models.delete('llama'), true);
    assert.equal(await models.delete('llama'), false);
    assert.deepEqual(await models.list(), []);
  });

  it('measures each model\'s arrivals and completions in the window, its waiting tasks and its oldest queued one', async () => {
    const served = queuedTaskRecord({ model: 'a', status: 'succeeded', createdAt: ago(8_000) });
    const servedLongAgo = queuedTaskRecord({ model: 'a', status: 'succeeded', createdAt: ago(50_000) });
    await repo.insertMany([
      queuedTaskRecord({ model: 'a', createdAt: ago(20_000) }),
      queuedTaskRecord({ model: 'a', createdAt: ago(2_000) }),
      queuedTaskRecord({ model: 'a', status: 'dispatched', createdAt: ago(1_000) }),
      served, servedLongAgo,
      queuedTaskRecord({ model: 'b', status: 'running', createdAt: ago(3_000) }),
      // Older than the look-back: not read at all.
      queuedTaskRecord({ model: 'b', createdAt: ago(120_000) }),
      queuedTaskRecord({ createdAt: ago(1_000) }),
      queuedTaskRecord({ model: 'not-asked', createdAt: ago(1_000) }),
    ]);
    await db.query('UPDATE tasks SET finished_at = now() - interval \'1 second\' WHERE id = $1::uuid', [served.id]);
    await db.query('UPDATE tasks SET finished_at = now() - interval \'40 seconds\' WHERE id = $1::uuid', [servedLongAgo.id]);
    const rows = await models.demand(['a', 'b', 'c'], 10_000, 60_000);
    const byModel = new Map(rows.map((r) => [r.model, r]));
    assert.deepEqual([...byModel.keys()].sort(), ['a', 'b']);
    const a = byModel.get('a')!;
    assert.deepEqual([a.arrived, a.served, a.waiting], [3, 1, 3]);
    const oldestAgeMs = Date.now() - a.oldestQueuedAt!.getTime();
    assert.ok(oldestAgeMs >= 19_000 && oldestAgeMs < 30_000, `the oldest queued task of a waited about 20 s: ${oldestAgeMs}`);
    assert.deepEqual([byModel.get('b')!.arrived, byModel.get('b')!.waiting, byModel.get('b')!.oldestQueuedAt], [1, 0, null]);
    assert.deepEqual(await models.demand([], 10_000, 60_000), []);
  });
});

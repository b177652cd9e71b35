import { strict as assert } from 'node:assert';
import { Registry } from 'prom-client';
import { queuedTaskRecord } from '../../helpers/task-record';
import { createIsolation, type Isolation } from '../../helpers/isolation';
import { createMetrics } from '../../../src/observability/metrics';
import { WaitingReport } from '../../../src/principal/waiting-report';
import { migrate, PgDatabase, TaskRepository } from '../../../src/store';

const ago = (ms: number) => new Date(Date.now() - ms);
const gpu = { gpus: 1, gpuMemoryMiB: 0, labels: [] };

describe('waiting tasks for autoscalers, counted in the store on PostgreSQL', function () {
  this.timeout(60_000);
  let iso: Isolation;
  let db: PgDatabase;
  let repo: TaskRepository;

  before(async () => {
    iso = await createIsolation('waiting');
    db = new PgDatabase({ url: iso.databaseUrl, poolSize: 2, statementTimeoutMs: 5000, connectTimeoutMs: 2000, maxTxAttempts: 5, applicationName: 'test' });
    await migrate(db, 'test');
    repo = new TaskRepository(db);
  });

  after(async () => {
    await db?.close();
    await iso?.destroy();
  });

  it('counts queued tasks per type, resource and model, with the age of the oldest since it became due', async () => {
    await repo.insertMany([
      queuedTaskRecord({ type: 'llm', requirements: gpu, createdAt: ago(40_000) }),
      queuedTaskRecord({ type: 'llm', requirements: gpu, createdAt: ago(1000) }),
      // Released from a delay 5 s ago: it has waited 5 s, not the 60 s since its submission.
      queuedTaskRecord({ type: 'llm', requirements: gpu, createdAt: ago(60_000), runAt: ago(5000) }),
      queuedTaskRecord({ type: 'resize', createdAt: ago(2000) }),
      queuedTaskRecord({ type: 'llm', requirements: gpu, model: 'llama-8b', createdAt: ago(3000) }),
      queuedTaskRecord({ type: 'resize', status: 'running' }),
      queuedTaskRecord({ type: 'resize', status: 'scheduled', runAt: new Date(Date.now() + 60_000) }),
      queuedTaskRecord({ type: 'resize', status: 'succeeded' }),
    ]);
    const groups = await repo.waitingTasks(10);
    assert.deepEqual(groups.map((g) => [g.type, g.resource, g.model, g.count]), [['llm', 'gpu', '', 3], ['llm', 'gpu', 'llama-8b', 1], ['resize', 'cpu', '', 1]]);
    assert.ok(groups[0]!.oldestSec >= 39 && groups[0]!.oldestSec < 100, `oldest llm task waited about 40 s: ${groups[0]!.oldestSec}`);

    const metrics = createMetrics(new Registry(), 'principal');
    const report = new WaitingReport({ read: (n) => repo.waitingTasks(n), metrics });
    await report.report(true);
    const text = await metrics.registry.metrics();
    assert.match(text, /^anki_tasks_waiting\{type="llm",resource="gpu",model=""\} 3$/m);
    assert.match(text, /^anki_tasks_waiting\{type="llm",resource="gpu",model="llama-8b"\} 1$/m);
    assert.match(text, /^anki_tasks_waiting\{type="resize",resource="cpu",model=""\} 1$/m);
    assert.match(text, /^anki_task_oldest_waiting_seconds\{type="llm",resource="gpu",model=""\} (39|[4-9]\d)(\.\d+)?$/m);
    // A principal that is not the leader reports nothing, so a sum over principals counts each task once.
    await report.report(false);
    assert.doesNotMatch(await metrics.registry.metrics(), /^anki_tasks_waiting\{/m);
  });
});

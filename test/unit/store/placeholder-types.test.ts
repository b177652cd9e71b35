import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Registry } from 'prom-client';
import { silentLogger } from '../../../src/observability/logger';
import { createMetrics } from '../../../src/observability/metrics';
import { DbLeaseLeadership } from '../../../src/principal/db-lease-leadership';
import type { Database, Queryable, QueryResult } from '../../../src/store/db';
import { migrate } from '../../../src/store/migrate';
import { NodeControlRepository } from '../../../src/store/node-control-repository';
import { ReputationRepository } from '../../../src/store/reputation-repository';
import { TenantRepository } from '../../../src/store/tenant-repository';
import { ModelRepository } from '../../../src/store/model-repository';
import { RetentionRepository } from '../../../src/store/retention-repository';
import { StoreStatsRepository } from '../../../src/store/store-stats-repository';
import { ScheduleRepository } from '../../../src/store/schedule-repository';
import type { ScheduleRecord } from '../../../src/store/schedule-record';
import { TaskRepository } from '../../../src/store/task-repository';
import { WorkflowRepository } from '../../../src/store/workflow-repository';
import { DeadLetterRepository } from '../../../src/store/dead-letter-repository';
import { TaskRetryRepository } from '../../../src/store/task-retry';
import { queuedTaskRecord } from '../../helpers/task-record';

/** Records every statement; answers each with `rows` and `rowCount`. Never opens a socket. */
class RecordingDatabase implements Database {
  readonly statements: string[] = [];
  constructor(private readonly answer: { rows?: (sql: string) => unknown[]; rowCount: number }) {}

  async query<R>(text: string): Promise<QueryResult<R>> {
    this.statements.push(text);
    return { rows: (this.answer.rows?.(text) ?? []) as R[], rowCount: this.answer.rowCount };
  }

  transaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    return fn(this);
  }

  async close(): Promise<void> {}
}

/**
 * Placeholders whose type CockroachDB cannot infer. PostgreSQL types an unknown placeholder from
 * any operator it fits (`$1 * interval` becomes float8); CockroachDB refuses what is ambiguous
 * (int8, float8 and decimal all multiply an interval) or lacks context (a VALUES list in FROM, a
 * LIMIT). The rule kept here is simple enough to check: a placeholder carries a cast, unless it
 * is compared with or assigned to a column (`col = $1`), whose type it takes.
 */
function untypedPlaceholders(sql: string): string[] {
  const found: string[] = [];
  for (const m of sql.matchAll(/\$\d+/g)) {
    const at = m.index;
    if (sql.startsWith('::', at + m[0].length)) continue;
    if (/[\w.]+\s*=\s*$/.test(sql.slice(0, at))) continue;
    found.push(`${m[0]} in "…${sql.slice(Math.max(0, at - 50), at + 20).replace(/\s+/g, ' ')}…"`);
  }
  return found;
}

/** Every public method of a repository, each called once with arguments that reach all its SQL. */
type EveryMethod<T> = { [K in keyof T]: () => Promise<unknown> };

/** The statements of every store method, of migrations and of the leader lease. */
async function everyStatement(): Promise<string[]> {
  const db = new RecordingDatabase({ rowCount: 1, rows: (sql) => (sql.includes('RETURNING term') ? [{ term: 1 }] : []) });
  const missed = new RecordingDatabase({ rowCount: 0 }); // the other branch of insert-or-read statements
  const repo = new TaskRepository(db);
  const t = queuedTaskRecord();
  const tasks: EveryMethod<TaskRepository> = {
    insertMany: () => repo.insertMany([t, queuedTaskRecord()]),
    insertIdempotent: async () => {
      await repo.insertIdempotent('alice', 'k', [t]);
      await new TaskRepository(missed).insertIdempotent('alice', 'k', [t]);
    },
    get: () => repo.get(t.id),
    getMany: () => repo.getMany([t.id]),
    list: async () => {
      await repo.list({ limit: 10 });
      await repo.list({ status: 'queued', type: 'echo', owner: 'alice', limit: 10, cursor: { createdAt: new Date(), id: t.id } });
    },
    applyTransitions: () => repo.applyTransitions([
      { id: t.id, name: 'dispatch', expectedAttempts: 0, an: 'an-1', ki: 'ki-1', leaseMs: 1000 },
      { id: t.id, name: 'succeed', expectedAttempts: 1, outcome: { result: 1, error: null }, finishedAt: new Date(), leaseMs: null, clearPublished: true },
      { id: t.id, name: 'retry', expectedAttempts: 1, an: null, ki: null, leaseMs: null, runAfterMs: 500 },
    ], { holder: 'p1', term: 3 }),
    markPublished: () => repo.markPublished([{ id: t.id, attempts: 0 }]),
    markUnpublished: () => repo.markUnpublished([t.id]),
    findUnpublished: () => repo.findUnpublished(1000, 10),
    waitingTasks: () => repo.waitingTasks(50),
    renewLeases: () => repo.renewLeases('an-1', [t.id], 1000),
    findByAn: () => repo.findByAn('an-1', 10),
    findExpiredLeases: () => repo.findExpiredLeases(10),
    findDue: () => repo.findDue(10),
    countScheduled: () => repo.countScheduled(),
    setPriority: () => repo.setPriority(t.id, 3),
    cancel: () => repo.cancel(t.id, 'stop'),
    saveProgress: () => repo.saveProgress([{ id: t.id, attempts: 1, progress: { fraction: 0.5, atMs: 1 } }]),
    delete: () => repo.delete(t.id),
    countByStatus: () => repo.countByStatus(),
  };
  const reputation = new ReputationRepository(db);
  const votes: EveryMethod<ReputationRepository> = {
    record: () => reputation.record(['ki-1'], ['ki-2'], 5, 0),
    quarantined: () => reputation.quarantined(),
    all: () => reputation.all(),
    release: () => reputation.release('ki-2'),
  };
  const schedules = new ScheduleRepository(db, repo);
  const now = new Date();
  const s: ScheduleRecord = {
    id: t.id, owner: 'alice', name: 'n', cron: '* * * * *', timezone: 'UTC', task: { type: 'echo' }, overlap: 'skip', catchup: 'none', paused: false, revision: 0,
    nextRunAt: now, lastRun: null, runsCreated: 0, runsSkipped: 0, createdAt: now, updatedAt: now,
  };
  const fence = { holder: 'p1', term: 3 };
  const schedule: EveryMethod<ScheduleRepository> = {
    insert: async () => {
      await schedules.insert(s, 10, 'k');
      await new ScheduleRepository(missed, repo).insert(s, 10, 'k');
    },
    get: () => schedules.get(s.id),
    list: async () => {
      await schedules.list({ limit: 10 });
      await schedules.list({ owner: 'alice', limit: 10, cursor: { createdAt: now, id: s.id } });
    },
    update: () => schedules.update(s.id, { name: 'm', cron: '* * * * * *', timezone: 'UTC', task: { type: 'echo' }, overlap: 'allow', catchup: 'latest', nextRunAt: now, paused: true }),
    delete: () => schedules.delete(s.id),
    findDue: () => schedules.findDue(now, 10),
    claimTick: () => schedules.claimTick({ scheduleId: s.id, revision: 0, lastTickAt: null, tickAt: now, nextRunAt: now, outcome: 'created', task: { ...t, scheduleId: s.id, scheduleTickAt: now } }, fence),
    skipTo: () => schedules.skipTo({ scheduleId: s.id, revision: 0, lastTickAt: now, nextRunAt: now }, fence),
    countByState: () => schedules.countByState(),
  };
  const wfs = new WorkflowRepository(db);
  const wf = { id: t.id, owner: 'alice', name: 'w', status: 'running' as const, reason: null, createdAt: now, updatedAt: now, finishedAt: null };
  const node = { workflowId: t.id, key: 'a', position: 0, spec: { type: 'echo' }, dependsOn: [], mapOver: null, status: 'running' as const, reason: null, taskIds: [t.id], startedAt: now, finishedAt: null };
  const workflows: EveryMethod<WorkflowRepository> = {
    create: async () => {
      await wfs.create(wf, [node], [t], 'k');
      await new WorkflowRepository(missed).create(wf, [node], [t], 'k');
    },
    get: () => wfs.get(t.id),
    nodes: () => wfs.nodes(t.id),
    tasks: () => wfs.tasks(t.id),
    list: async () => {
      await wfs.list({ limit: 10 });
      await wfs.list({ owner: 'alice', status: 'running', limit: 10, cursor: { createdAt: now, id: t.id } });
    },
    runningWorkflowsOf: () => wfs.runningWorkflowsOf([t.id]),
    running: async () => {
      await wfs.running(10);
      await wfs.running(10, t.id);
    },
    countByStatus: () => wfs.countByStatus(),
    applyAdvance: () => wfs.applyAdvance(t.id, [
      { key: 'a', from: 'running', to: 'succeeded', reason: null },
      { key: 'b', from: 'pending', to: 'running', runs: [{ index: 0, inputs: { a: 1 } }], tasks: [t] },
    ], 'succeeded', fence),
    cancel: () => wfs.cancel(t.id, 'stop'),
  };
  const retention = new RetentionRepository(db);
  const retained: EveryMethod<RetentionRepository> = {
    expiredTaskIds: () => retention.expiredTaskIds(1000, 10),
    expiredTasks: () => retention.expiredTasks(1000, 10),
    deleteExpiredTasks: () => retention.deleteExpiredTasks([t.id], 1000, fence),
    deleteExpiredKeys: () => retention.deleteExpiredKeys(1000, 10, fence),
  };
  const storeStats = new StoreStatsRepository(db);
  const statsCalls: EveryMethod<StoreStatsRepository> = {
    countTasksUpTo: () => storeStats.countTasksUpTo(10),
    tableStats: () => storeStats.tableStats(),
  };
  const nodes = new NodeControlRepository(db);
  // The recording database answers no rows: a method that reads back its row may throw after its SQL was recorded.
  const controls: EveryMethod<NodeControlRepository> = {
    setState: () => nodes.setState('ki-1', 'cordoned', 'maintenance', 'alice').catch(() => undefined),
    all: () => nodes.all(),
    bench: () => nodes.bench('ki-1', 'timeouts', 1000, 60_000),
    resetBench: () => nodes.resetBench('ki-1'),
  };
  const retries = new TaskRetryRepository(db);
  const retry: EveryMethod<TaskRetryRepository> = { retry: () => retries.retry({ ...t, status: 'failed', attempts: 1 }, 'alice') };
  const letters = new DeadLetterRepository(db);
  const deadLetters: EveryMethod<DeadLetterRepository> = {
    record: () => letters.record({ dedupKey: 'task:x', taskId: t.id, claimedTaskIds: [t.id], messageType: 'task.failed', reason: 'failed', errorCode: 'X', errorMessage: 'm', sourceQueue: null, sender: 'an1', attempts: 1, bodyBytes: 1 }),
    get: () => letters.get(t.id),
    list: async () => {
      await letters.list({ limit: 10 });
      await letters.list({ limit: 10, cursor: { createdAt: now, id: t.id } });
    },
    delete: () => letters.delete(t.id),
    deleteForTask: () => letters.deleteForTask(t.id),
    count: () => letters.count(),
    trim: () => letters.trim(10),
  };
  const tenantRepo = new TenantRepository(db, repo);
  const tenancy: EveryMethod<TenantRepository> = {
    upsert: () => tenantRepo.upsert('team-a', { weight: 2, maxRunning: 4, maxQueued: 100, gpuSecondsBudget: 3600 }).catch(() => undefined),
    list: () => tenantRepo.list(),
    counts: () => tenantRepo.counts(),
    insertWithHolds: () => tenantRepo.insertWithHolds([t, queuedTaskRecord()], new Set([t.id])),
    addHolds: () => tenantRepo.addHolds([t], db),
    heldOf: () => tenantRepo.heldOf('team-a', 10),
    dropHolds: () => tenantRepo.dropHolds('team-a', [t.id]),
    accountGpuSeconds: () => tenantRepo.accountGpuSeconds([t.id], new Date()),
    gpuSecondsIn: () => tenantRepo.gpuSecondsIn(new Date()),
  };
  const modelRepo = new ModelRepository(db);
  const modelCalls: EveryMethod<ModelRepository> = {
    upsert: () => modelRepo.upsert('llama', { type: 'llm', requirements: { gpus: 1, gpuMemoryMiB: 0, labels: [] }, warm: { min: 1, max: 2 }, config: {} }, 'ops').catch(() => undefined),
    list: () => modelRepo.list(),
    delete: () => modelRepo.delete('llama'),
    demand: () => modelRepo.demand(['llama'], 30_000, 600_000),
  };
  for (const call of [...Object.values(tenancy), ...Object.values(tasks), ...Object.values(votes), ...Object.values(schedule), ...Object.values(workflows), ...Object.values(retained), ...Object.values(statsCalls), ...Object.values(controls), ...Object.values(retry), ...Object.values(deadLetters), ...Object.values(modelCalls)]) await call();
  await migrate(db, 'node-a');
  const lease = (wantsLead: boolean) => new DbLeaseLeadership({
    db: wantsLead ? db : missed, nodeId: 'p1', leaseMs: 1000, tickMs: 100, metrics: createMetrics(new Registry(), 'principal'), log: silentLogger(), wantsLead: () => wantsLead,
  });
  const leader = lease(true);
  await leader.tick();
  await leader.stop();
  await lease(false).tick();
  return [...db.statements, ...missed.statements];
}

/** Source files that send SQL; a new one must be added to {@link everyStatement} and here. */
const FILES_WITH_SQL = [
  'src/node.ts', 'src/principal/db-lease-leadership.ts', 'src/store/db.ts', 'src/store/dead-letter-repository.ts', 'src/store/ensure-database.ts', 'src/store/migrate.ts', 'src/store/model-repository.ts',
  'src/store/node-control-repository.ts', 'src/store/pglite-database.ts', 'src/store/reputation-repository.ts', 'src/store/retention-repository.ts', 'src/store/schedule-repository.ts',
  'src/store/store-stats-repository.ts', 'src/store/task-repository.ts', 'src/store/task-retry.ts', 'src/store/tenant-repository.ts', 'src/store/waiting-tasks.ts', 'src/store/workflow-repository.ts',
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

describe('SQL placeholders carry the types CockroachDB cannot infer', () => {
  it('casts every placeholder of the store, the migrations and the leader lease that is not compared with a column', async () => {
    const statements = await everyStatement();
    assert.ok(statements.length > 30, `only ${statements.length} statements recorded`);
    const untyped = [...new Set(statements.flatMap(untypedPlaceholders))];
    assert.deepEqual(untyped, []);
  });

  it('knows every source file that sends SQL', () => {
    const root = join(__dirname, '../../..');
    const withSql = sourceFiles(join(root, 'src')).filter((f) => /\.query[<(]/.test(readFileSync(f, 'utf8'))).map((f) => relative(root, f)).sort();
    assert.deepEqual(withSql, FILES_WITH_SQL);
  });

  it('finds the placeholders CockroachDB refuses', () => {
    assert.deepEqual(untypedPlaceholders("SELECT now() + $1 * interval '1 millisecond' LIMIT $2").length, 2);
    assert.deepEqual(untypedPlaceholders('SELECT v.id FROM (VALUES ($1, $2::int)) AS v(id, n) WHERE id = $3'), ['$1 in "…SELECT v.id FROM (VALUES ($1, $2::int)) AS v(i…"']);
    assert.deepEqual(untypedPlaceholders("UPDATE t SET a = $1 WHERE t.b = $2 AND c = ANY($3::uuid[])"), []);
  });
});

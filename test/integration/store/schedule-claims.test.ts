import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { createIsolation, type Isolation } from '../../helpers/isolation';
import { migrate, PgDatabase, ScheduleRepository, TaskRepository, type LeaderFence, type ScheduleRecord, type TaskRecord, type TickClaim } from '../../../src/store';

const FENCE: LeaderFence = { holder: 'p1', term: 7 };

function scheduleRecord(owner = 'alice'): ScheduleRecord {
  const now = new Date();
  return {
    id: randomUUID(), owner, name: 'every second', cron: '* * * * * *', timezone: 'UTC', task: { type: 'echo' }, overlap: 'allow', catchup: 'none',
    paused: false, revision: 0, nextRunAt: new Date(Math.ceil(Date.now() / 1000) * 1000), lastRun: null, runsCreated: 0, runsSkipped: 0, createdAt: now, updatedAt: now,
  };
}

function taskOf(s: ScheduleRecord, tickAt: Date, id: string = randomUUID()): TaskRecord {
  const now = new Date();
  return {
    id, type: 'echo', payload: null, status: 'queued', priority: 5, requirements: { gpus: 0, gpuMemoryMiB: 0, labels: [] }, redundancy: null, attempts: 0, maxAttempts: 3,
    timeoutMs: 1000, result: null, error: null, progress: null, owner: s.owner, an: null, ki: null, traceContext: null, createdAt: now, updatedAt: now, startedAt: null,
    finishedAt: null, scheduleId: s.id, scheduleTickAt: tickAt,
  };
}

describe('schedule tick claims on PostgreSQL', function () {
  this.timeout(30_000);
  let iso: Isolation;
  let db: PgDatabase;
  /** A second pool: racing claims run on connections of their own, as two leaders' would. */
  let db2: PgDatabase;
  let tasks: TaskRepository;
  let schedules: ScheduleRepository;
  let schedules2: ScheduleRepository;

  before(async () => {
    iso = await createIsolation('schedclaim');
    const options = { url: iso.databaseUrl, poolSize: 4, statementTimeoutMs: 5000, connectTimeoutMs: 2000, maxTxAttempts: 5, applicationName: 'test' };
    db = new PgDatabase(options);
    db2 = new PgDatabase(options);
    await migrate(db, 'test');
    tasks = new TaskRepository(db);
    schedules = new ScheduleRepository(db, tasks);
    schedules2 = new ScheduleRepository(db2, new TaskRepository(db2));
    await db.query("INSERT INTO leader_lease (name, holder, term, expires_at) VALUES ('principal', $1, $2, now() + interval '1 hour')", [FENCE.holder, FENCE.term]);
  });
  after(async () => {
    await db2?.close();
    await db?.close();
    await iso?.destroy();
  });

  const stored = async (s: ScheduleRecord) => {
    assert.deepEqual(await schedules.insert(s, 100), {});
    return s;
  };
  const tasksOf = async (id: string) => (await db.query<{ id: string; schedule_tick_at: Date }>('SELECT id, schedule_tick_at FROM tasks WHERE schedule_id = $1::uuid', [id])).rows;
  const claimOf = (s: ScheduleRecord, tickAt: Date, task?: TaskRecord): TickClaim => ({
    scheduleId: s.id, revision: s.revision, lastTickAt: s.lastRun?.tickAt ?? null, tickAt, nextRunAt: new Date(tickAt.getTime() + 1000),
    outcome: task ? 'created' : 'skipped-overlap', ...(task ? { task } : {}),
  });

  it('lets one of many racing claimers of a tick create its task', async () => {
    const s = await stored(scheduleRecord());
    const tick = s.nextRunAt;
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? schedules2 : schedules).claimTick(claimOf(s, tick, taskOf(s, tick)), FENCE)));
    assert.equal(results.filter(Boolean).length, 1, `one claim holds: ${JSON.stringify(results)}`);
    const rows = await tasksOf(s.id);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.schedule_tick_at.getTime(), tick.getTime());
    const after = (await schedules.get(s.id))!;
    assert.equal(after.lastRun?.tickAt.getTime(), tick.getTime());
    assert.equal(after.lastRun?.taskId, rows[0]!.id);
    assert.equal(after.runsCreated, 1);
  });

  it('refuses a claim of a tick at or before the last one, even from a fresh read', async () => {
    const s = await stored(scheduleRecord());
    const tick = s.nextRunAt;
    assert.ok(await schedules.claimTick(claimOf(s, tick, taskOf(s, tick)), FENCE));
    const fresh = (await schedules.get(s.id))!;
    assert.equal(await schedules.claimTick(claimOf(fresh, tick, taskOf(fresh, tick)), FENCE), false);
    assert.equal(await schedules.claimTick(claimOf(fresh, new Date(tick.getTime() - 1000), taskOf(fresh, new Date(tick.getTime() - 1000))), FENCE), false);
    assert.equal((await tasksOf(s.id)).length, 1);
  });

  it('keeps one task per (schedule, tick) in the table itself', async () => {
    const s = await stored(scheduleRecord());
    const tick = s.nextRunAt;
    await tasks.insertMany([taskOf(s, tick)]);
    await assert.rejects(tasks.insertMany([taskOf(s, tick)]), (err: { code?: string }) => err.code === '23505');
  });

  it('leaves neither claim nor task when the task insert fails', async () => {
    const s = await stored(scheduleRecord());
    const tick = s.nextRunAt;
    // A task id that exists already: the insert fails after the claim's UPDATE in the same transaction.
    const clash = taskOf(scheduleRecord(), new Date());
    await tasks.insertMany([clash]);
    await assert.rejects(schedules.claimTick(claimOf(s, tick, taskOf(s, tick, clash.id)), FENCE));
    const after = (await schedules.get(s.id))!;
    assert.equal(after.lastRun, null, 'the claim was rolled back with the insert');
    assert.equal(after.runsCreated, 0);
    assert.equal((await tasksOf(s.id)).length, 0);
    assert.ok(await schedules.claimTick(claimOf(s, tick, taskOf(s, tick)), FENCE), 'the tick can be claimed again');
    assert.equal((await tasksOf(s.id)).length, 1);
  });

  it('refuses the claim of a deposed leader and of a read older than a pause or change', async () => {
    const s = await stored(scheduleRecord());
    const tick = s.nextRunAt;
    assert.equal(await schedules.claimTick(claimOf(s, tick, taskOf(s, tick)), { holder: FENCE.holder, term: FENCE.term - 1 }), false);
    assert.equal(await schedules.claimTick(claimOf(s, tick, taskOf(s, tick)), { holder: 'p2', term: FENCE.term }), false);
    await schedules.update(s.id, { paused: true });
    assert.equal(await schedules.claimTick(claimOf(s, tick, taskOf(s, tick)), FENCE), false, 'paused since the read');
    await schedules.update(s.id, { paused: false });
    assert.equal(await schedules.claimTick(claimOf(s, tick, taskOf(s, tick)), FENCE), false, 'changed since the read (revision)');
    assert.equal((await tasksOf(s.id)).length, 0);
  });

  it('records a skipped run without a task', async () => {
    const s = await stored(scheduleRecord());
    assert.ok(await schedules.claimTick(claimOf(s, s.nextRunAt), FENCE));
    const after = (await schedules.get(s.id))!;
    assert.equal(after.lastRun?.outcome, 'skipped-overlap');
    assert.equal(after.lastRun?.taskId, null);
    assert.equal(after.runsSkipped, 1);
    assert.equal((await tasksOf(s.id)).length, 0);
  });

  it('caps schedules per owner and answers a repeated Idempotency-Key with the first schedule', async () => {
    const owner = `cap-${randomUUID()}`;
    const first = scheduleRecord(owner);
    assert.deepEqual(await schedules.insert(first, 2, 'k1'), {});
    assert.deepEqual(await schedules.insert(scheduleRecord(owner), 2, 'k1'), { existing: first.id });
    assert.deepEqual(await schedules.insert(scheduleRecord(owner), 2), {});
    assert.deepEqual(await schedules.insert(scheduleRecord(owner), 2, 'k2'), { capped: 2 });
    // The refused insert did not keep its key.
    await schedules.delete(first.id);
    const again = scheduleRecord(owner);
    assert.deepEqual(await schedules.insert(again, 2, 'k2'), {});
  });
});

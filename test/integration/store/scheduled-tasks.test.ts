import { strict as assert } from 'node:assert';
import { queuedTaskRecord } from '../../helpers/task-record';
import { createIsolation, type Isolation } from '../../helpers/isolation';
import { TAKE_LEASE_SQL } from '../../../src/principal/db-lease-leadership';
import { migrate, PgDatabase, TaskRepository, type LeaderFence, type TaskRecord } from '../../../src/store';

/** A task due at `runAt`: scheduled while it is ahead (the store does not judge), as admission stores it. */
function scheduledTask(runAt: Date, over: Partial<TaskRecord> = {}): TaskRecord {
  return queuedTaskRecord({ status: 'scheduled', runAt, ...over });
}

const inMs = (ms: number) => new Date(Date.now() + ms);

describe('scheduled tasks in the store on PostgreSQL: due reads, fenced release, retry backoff', function () {
  this.timeout(60_000);
  let iso: Isolation;
  let db: PgDatabase;
  let repo: TaskRepository;
  let fence: LeaderFence;

  const open = () => new PgDatabase({ url: iso.databaseUrl, poolSize: 4, statementTimeoutMs: 5000, connectTimeoutMs: 2000, maxTxAttempts: 5, applicationName: 'test' });

  before(async () => {
    iso = await createIsolation('sched');
    db = open();
    await migrate(db, 'test');
    repo = new TaskRepository(db);
    const term = (await db.query<{ term: number }>(TAKE_LEASE_SQL, ['principal', 'p1', 600_000])).rows[0]!.term;
    fence = { holder: 'p1', term: Number(term) };
  });

  after(async () => {
    await db?.close();
    await iso?.destroy();
  });

  /** Forgets every task, so each test reads only its own due ones. */
  beforeEach(() => db.query('DELETE FROM tasks'));

  const release = (t: TaskRecord, f: LeaderFence = fence, expectedAttempts = t.attempts) =>
    repo.applyTransitions([{ id: t.id, name: 'release', expectedAttempts, clearPublished: true }], f);

  it('keeps runAt, and finds only the due scheduled tasks, the most overdue first', async () => {
    const late = scheduledTask(inMs(-5000));
    const due = scheduledTask(inMs(-1000));
    const ahead = scheduledTask(inMs(60_000));
    const queued = queuedTaskRecord({ runAt: inMs(-9000) });
    await repo.insertMany([due, ahead, late, queued]);
    const found = await repo.findDue(10);
    assert.deepEqual(found.map((f) => f.task.id), [late.id, due.id]);
    assert.ok(found[0]!.lateMs >= 4500 && found[0]!.lateMs < 30_000, `late by about 5 s, by the database's clock: ${found[0]!.lateMs}`);
    assert.equal((await repo.get(ahead.id))?.runAt?.getTime(), ahead.runAt!.getTime(), 'runAt read back as written');
    assert.equal((await repo.get(queued.id))?.runAt?.getTime(), queued.runAt!.getTime());
    assert.equal(await repo.countScheduled(), 3);
    assert.equal((await repo.findDue(1)).length, 1, 'a batch is bounded');
  });

  it('has a partial index of scheduled rows by run_at for the due read', async () => {
    const r = await db.query<{ indexdef: string }>("SELECT indexdef FROM pg_indexes WHERE tablename = 'tasks' AND indexname = 'tasks_scheduled_run_at_idx'");
    assert.match(r.rows[0]?.indexdef ?? '', /\(run_at\) WHERE \(status = 'scheduled'::text\)/);
  });

  it('releases a due task to the queue under the live leader\'s fence, forgetting any publish mark', async () => {
    const t = scheduledTask(inMs(-10), { createdAt: inMs(-60_000) });
    await repo.insertMany([t]);
    await db.query('UPDATE tasks SET published_at = now() WHERE id = $1', [t.id]);
    assert.deepEqual((await release(t)).map((r) => [r.id, r.status, r.attempts]), [[t.id, 'queued', 0]]);
    const row = await repo.get(t.id);
    assert.equal(row?.status, 'queued');
    assert.equal(row?.runAt?.getTime(), t.runAt!.getTime(), 'runAt stays: when it was due');
    assert.deepEqual((await repo.findUnpublished(5000, 10)).map((x) => x.id), [], 'a task just released is being published: not the sweeper\'s yet, however old');
    const published = await db.query<{ published_at: Date | null }>('SELECT published_at FROM tasks WHERE id = $1', [t.id]);
    assert.equal(published.rows[0]?.published_at, null, 'the sweeper republishes it if its publish is never confirmed');
    assert.equal((await release(t)).length, 0, 'released once: a second release finds it queued');
    assert.equal((await repo.findDue(10)).length, 0);
  });

  it('refuses a release under a stale term or a stale attempts value', async () => {
    const t = scheduledTask(inMs(-10), { attempts: 2 });
    await repo.insertMany([t]);
    assert.equal((await release(t, { holder: 'p1', term: fence.term - 1 })).length, 0, 'a deposed leader\'s term');
    assert.equal((await release(t, { holder: 'p2', term: fence.term })).length, 0, 'another holder');
    assert.equal((await release(t, fence, 1)).length, 0, 'an older attempts value');
    assert.equal((await repo.get(t.id))?.status, 'scheduled');
    assert.equal((await release(t)).length, 1);
  });

  it('releases each task once when two releasers race over the same due tasks', async () => {
    const tasks = Array.from({ length: 200 }, (_, i) => scheduledTask(inMs(-1000 - i)));
    await repo.insertMany(tasks);
    const other = open();
    try {
      const repos = [repo, new TaskRepository(other)];
      const rounds = await Promise.all(repos.flatMap((r) => [0, 1].map(async () => {
        const due = await r.findDue(500);
        return r.applyTransitions(due.map(({ task }) => ({ id: task.id, name: 'release' as const, expectedAttempts: task.attempts, clearPublished: true })), fence);
      })));
      const ids = rounds.flat().map((a) => a.id);
      assert.equal(ids.length, 200, `every task released, and only once: ${rounds.map((r) => r.length).join(' + ')}`);
      assert.equal(new Set(ids).size, 200);
      assert.equal(await repo.countScheduled(), 0);
    } finally {
      await other.close();
    }
  });

  it('schedules a retryable failure for now + its backoff by the database\'s clock, clearing An, Ki and lease', async () => {
    const t = queuedTaskRecord();
    await repo.insertMany([t]);
    await repo.applyTransitions([{ id: t.id, name: 'dispatch', expectedAttempts: 0, an: 'an-1', ki: 'ki-1', leaseMs: 60_000 }]);
    const error = { code: 'KI_LOST', message: 'gone', retryable: true };
    const before = Date.now();
    const [back] = await repo.applyTransitions([{ id: t.id, name: 'retry', expectedAttempts: 1, an: null, ki: null, leaseMs: null, runAfterMs: 2000, outcome: { result: null, error } }]);
    assert.deepEqual([back?.status, back?.attempts], ['scheduled', 1]);
    const row = await repo.get(t.id);
    assert.deepEqual({ an: row?.an, ki: row?.ki, lease: row?.leaseExpiresAt, code: row?.error?.code }, { an: null, ki: null, lease: null, code: 'KI_LOST' });
    const runAtMs = row!.runAt!.getTime();
    assert.ok(runAtMs >= before + 1500 && runAtMs <= Date.now() + 2500, `runAt is now + 2 s: ${row!.runAt!.toISOString()}`);
    assert.equal((await repo.findDue(10)).length, 0, 'not due during its backoff');
    assert.deepEqual(await repo.findExpiredLeases(10), [], 'no lease to sweep');
    assert.deepEqual(await repo.findByAn('an-1', 10), [], 'the An that ran it no longer names it');
    assert.equal((await repo.applyTransitions([{ id: t.id, name: 'dispatch', expectedAttempts: 1, an: 'an-2', ki: 'ki-2', leaseMs: 60_000 }])).length, 0, 'no An dispatches it before its release');
  });

  it('cancels a scheduled task, and changes its priority without publishing anything', async () => {
    const a = scheduledTask(inMs(60_000));
    const b = scheduledTask(inMs(60_000));
    await repo.insertMany([a, b]);
    assert.equal((await repo.setPriority(a.id, 8))?.priority, 8);
    assert.equal((await repo.get(a.id))?.status, 'scheduled');
    const out = await repo.cancel(b.id, 'no longer needed');
    assert.deepEqual([out?.before.status, out?.after.status], ['scheduled', 'cancelled']);
    assert.equal((await release(b)).length, 0, 'a cancelled task is never released');
    assert.equal(await repo.countScheduled(), 1);
  });
});

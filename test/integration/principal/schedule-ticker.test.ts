import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { createMetrics, silentLogger } from '../../../src/observability';
import { ScheduleTicker } from '../../../src/principal/schedule-ticker';
import { migrate, PgDatabase, ScheduleRepository, TaskRepository, type LeaderFence, type ScheduleRecord, type TaskRecord } from '../../../src/store';
import { createIsolation, type Isolation } from '../../helpers/isolation';

const FENCE: LeaderFence = { holder: 'p1', term: 3 };
const at = (iso: string) => new Date(iso);

/** Builds tasks as admission would and keeps what it was handed to publish. */
class RecordingAdmission {
  readonly published: TaskRecord[] = [];
  build(body: { type?: string; payload?: unknown }, owner: string): TaskRecord {
    const now = new Date();
    return {
      id: randomUUID(), type: body.type ?? 'echo', payload: body.payload ?? null, status: 'queued', priority: 5, requirements: { gpus: 0, gpuMemoryMiB: 0, labels: [] },
      redundancy: null, attempts: 0, maxAttempts: 3, timeoutMs: 1000, result: null, error: null, progress: null, owner, an: null, ki: null, traceContext: null,
      createdAt: now, updatedAt: now, startedAt: null, finishedAt: null,
    };
  }
  assertRoomFor(): void {}
  admitStored(task: TaskRecord): void {
    this.published.push(task);
  }
}

describe('ScheduleTicker on PostgreSQL', function () {
  this.timeout(30_000);
  let iso: Isolation;
  let db: PgDatabase;
  let tasks: TaskRepository;
  let schedules: ScheduleRepository;

  before(async () => {
    iso = await createIsolation('schedtick');
    db = new PgDatabase({ url: iso.databaseUrl, poolSize: 4, statementTimeoutMs: 5000, connectTimeoutMs: 2000, maxTxAttempts: 5, applicationName: 'test' });
    await migrate(db, 'test');
    tasks = new TaskRepository(db);
    schedules = new ScheduleRepository(db, tasks);
    await db.query("INSERT INTO leader_lease (name, holder, term, expires_at) VALUES ('principal', $1, $2, now() + interval '1 hour')", [FENCE.holder, FENCE.term]);
  });
  after(async () => {
    await db?.close();
    await iso?.destroy();
  });

  const tickerWith = (admission: RecordingAdmission) => new ScheduleTicker({
    schedules, admission, metrics: createMetrics(new Registry(), 'principal'), log: silentLogger(), duePerPass: 100, failoverGraceMs: 30_000,
  });
  /** A schedule every minute whose next tick, as stored, is `nextRunAt`. */
  const stored = async (nextRunAt: Date, extra: Partial<ScheduleRecord> = {}): Promise<ScheduleRecord> => {
    const s: ScheduleRecord = {
      id: randomUUID(), owner: `o-${randomUUID()}`, name: 'n', cron: '* * * * *', timezone: 'UTC', task: { type: 'echo' }, overlap: 'allow', catchup: 'none', paused: false,
      revision: 0, nextRunAt, lastRun: null, runsCreated: 0, runsSkipped: 0, createdAt: new Date(), updatedAt: new Date(), ...extra,
    };
    await schedules.insert(s, 100);
    return s;
  };
  const ticksOf = async (id: string) => (await db.query<{ t: Date }>('SELECT schedule_tick_at AS t FROM tasks WHERE schedule_id = $1::uuid ORDER BY 1', [id])).rows.map((r) => r.t.toISOString());

  it('runs a tick that is due once, however many passes see it', async () => {
    const s = await stored(at('2026-01-01T00:05:00Z'));
    const admission = new RecordingAdmission();
    const ticker = tickerWith(admission);
    await ticker.runDue(FENCE, at('2026-01-01T00:05:00.300Z'));
    await ticker.runDue(FENCE, at('2026-01-01T00:05:00.500Z'));
    await tickerWith(new RecordingAdmission()).runDue(FENCE, at('2026-01-01T00:05:00.700Z'));
    assert.deepEqual(await ticksOf(s.id), ['2026-01-01T00:05:00.000Z']);
    assert.deepEqual(admission.published.map((t) => t.scheduleId), [s.id]);
    const after = (await schedules.get(s.id))!;
    assert.equal(after.nextRunAt.toISOString(), '2026-01-01T00:06:00.000Z');
  });

  it('runs every tick a failover held back, once each and in order, over the next passes', async () => {
    const s = await stored(at('2026-01-01T00:05:01Z'), { cron: '* * * * * *', catchup: 'none' });
    const now = at('2026-01-01T00:05:04.300Z');
    for (let pass = 0; pass < 6; pass++) await tickerWith(new RecordingAdmission()).runDue(FENCE, now);
    assert.deepEqual(await ticksOf(s.id), [1, 2, 3, 4].map((n) => `2026-01-01T00:05:0${n}.000Z`));
    assert.equal((await schedules.get(s.id))!.nextRunAt.toISOString(), '2026-01-01T00:05:05.000Z');
  });

  it('with catchup latest, runs only the latest of the ticks missed while no leader ran', async () => {
    const s = await stored(at('2026-01-01T00:05:00Z'), { catchup: 'latest' });
    await tickerWith(new RecordingAdmission()).runDue(FENCE, at('2026-01-01T00:42:30Z'));
    assert.deepEqual(await ticksOf(s.id), ['2026-01-01T00:42:00.000Z']);
    assert.equal((await schedules.get(s.id))!.nextRunAt.toISOString(), '2026-01-01T00:43:00.000Z');
  });

  it('with catchup none, runs none of the missed ticks and goes on from now', async () => {
    const s = await stored(at('2026-01-01T00:05:00Z'), { catchup: 'none', cron: '0 * * * *' });
    await tickerWith(new RecordingAdmission()).runDue(FENCE, at('2026-01-01T03:02:00Z'));
    assert.deepEqual(await ticksOf(s.id), []);
    assert.equal((await schedules.get(s.id))!.nextRunAt.toISOString(), '2026-01-01T04:00:00.000Z');
  });

  it('with overlap skip, records a skipped run while the last task is unfinished and creates one once it finished', async () => {
    const s = await stored(at('2026-01-01T00:05:00Z'), { overlap: 'skip' });
    const ticker = tickerWith(new RecordingAdmission());
    await ticker.runDue(FENCE, at('2026-01-01T00:05:00.100Z'));
    await ticker.runDue(FENCE, at('2026-01-01T00:06:00.100Z'));
    let view = (await schedules.get(s.id))!;
    assert.equal(view.lastRun?.outcome, 'skipped-overlap');
    assert.equal(view.lastRun?.tickAt.toISOString(), '2026-01-01T00:06:00.000Z');
    assert.deepEqual([view.runsCreated, view.runsSkipped], [1, 1]);
    await db.query("UPDATE tasks SET status = 'succeeded' WHERE schedule_id = $1::uuid", [s.id]);
    await ticker.runDue(FENCE, at('2026-01-01T00:07:00.100Z'));
    view = (await schedules.get(s.id))!;
    assert.equal(view.lastRun?.outcome, 'created');
    assert.deepEqual(await ticksOf(s.id), ['2026-01-01T00:05:00.000Z', '2026-01-01T00:07:00.000Z']);
  });

  it('claims nothing under a stale term', async () => {
    const s = await stored(at('2026-01-01T00:05:00Z'));
    await tickerWith(new RecordingAdmission()).runDue({ holder: FENCE.holder, term: FENCE.term - 1 }, at('2026-01-01T00:05:00.100Z'));
    assert.deepEqual(await ticksOf(s.id), []);
    assert.equal((await schedules.get(s.id))!.lastRun, null);
  });
});

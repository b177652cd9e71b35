import { strict as assert } from 'node:assert';
import { TaskAdmission } from '../../../src/principal/admission';
import { TAKE_LEASE_SQL } from '../../../src/principal/db-lease-leadership';
import { Sweeper } from '../../../src/principal/sweeper';
import type { MessageOf } from '../../../src/protocol/messages';
import type { LeaderFence } from '../../../src/store';
import type { TaskRecord } from '../../../src/store/task-record';
import type { Received } from '../../../src/transport';
import { PrincipalHarness, queuedTask, until } from './principal-harness';

const GRACE_MS = 1000;

describe('Sweeper: the leader takes back what was lost', () => {
  let h: PrincipalHarness;
  let admission: TaskAdmission;
  let sweeper: Sweeper;
  let fence: LeaderFence;
  /** What reached the pending queues, as an An would take it: task id and attempts. */
  let pending: { id: string; attempts: number }[];
  /** Tasks the sweep reported failed for good (for their dead letters). */
  let failedIds: string[];

  beforeEach(async () => {
    h = new PrincipalHarness();
    await h.start();
    admission = new TaskAdmission({ config: h.config, repo: h.repo, bus: h.bus('p1', 'principal', h.metrics), names: h.names, metrics: h.metrics, log: h.log });
    failedIds = [];
    sweeper = new Sweeper({ repo: h.repo, admission, metrics: h.metrics, log: h.log, unpublishedGraceMs: GRACE_MS, selfId: 'p1', onFailed: (id) => failedIds.push(id) });
    const term = (await h.db.query<{ term: number }>(TAKE_LEASE_SQL, ['principal', 'p1', 60_000])).rows[0]!.term;
    fence = { holder: 'p1', term: Number(term) };
    pending = [];
    const an = h.bus('an-9', 'an');
    for (const queue of h.names.pendingBands) {
      await an.subscribe({ name: queue, kind: 'durable' }, 64, ['task.pending'], ({ msg, delivery }: Received) => {
        delivery.ack();
        pending.push(...(msg.payload as MessageOf<'task.pending'>).items.map((i) => ({ id: i.task.id, attempts: i.attempts })));
      });
    }
  });

  afterEach(async () => {
    await admission.drain().catch(() => undefined);
    await h.stop();
  });

  /** A task dispatched by `an` to `ki` (attempt 1), running when `running`, its lease expired when `expired`. */
  async function held(over: Partial<TaskRecord> & { an?: string; ki?: string; running?: boolean; expired?: boolean } = {}): Promise<TaskRecord> {
    const { an = 'an-1', ki = 'ki-1', running = false, expired = false, ...record } = over;
    const t = queuedTask(record);
    await h.repo.insertMany([t]);
    const [dispatched] = await h.repo.applyTransitions([{ id: t.id, name: 'dispatch', expectedAttempts: t.attempts, an, ki, leaseMs: 60_000 }]);
    assert.ok(dispatched, 'dispatched');
    if (running) assert.equal((await h.repo.applyTransitions([{ id: t.id, name: 'start', expectedAttempts: dispatched.attempts, startedAt: new Date() }])).length, 1);
    if (expired) await h.db.query("UPDATE tasks SET lease_expires_at = now() - interval '1 second' WHERE id = $1", [t.id]);
    return (await h.repo.get(t.id))!;
  }

  /**
   * A task whose attempt failed retryably under `an`, as an An of an earlier version left it while
   * it waited out the backoff in memory: queued, its row still naming the An and the lease (the
   * lease expired when `expired`). A mixed-version cluster during an upgrade has such rows.
   */
  async function inBackoff(over: { an?: string; expired?: boolean } = {}): Promise<TaskRecord> {
    const t = await held({ an: over.an ?? 'an-1', running: true });
    const error = { code: 'TASK_FAILED', message: 'failed on purpose', retryable: true };
    await h.db.query(
      `UPDATE tasks SET status = 'queued', ki = NULL, error = $2::jsonb, lease_expires_at = now() + $3::int8 * interval '1 millisecond' WHERE id = $1`,
      [t.id, JSON.stringify(error), over.expired ? -1000 : 60_000],
    );
    return (await h.repo.get(t.id))!;
  }

  /** A task whose attempt failed retryably: scheduled for its retry, naming no An (as `OutcomeHandler` writes it). */
  async function scheduledRetry(over: { an?: string } = {}): Promise<TaskRecord> {
    const t = await held({ an: over.an ?? 'an-1', running: true });
    const error = { code: 'TASK_FAILED', message: 'failed on purpose', retryable: true };
    const [back] = await h.repo.applyTransitions([{ id: t.id, name: 'retry', expectedAttempts: t.attempts, an: null, ki: null, leaseMs: null, runAfterMs: 60_000, outcome: { result: null, error } }]);
    assert.equal(back?.status, 'scheduled');
    return (await h.repo.get(t.id))!;
  }

  const retried = async (reason: string) => (await h.metrics.tasksRetried.get()).values.find((v) => v.labels['reason'] === reason)?.value ?? 0;
  const waitPublished = (id: string) => until(() => pending, (p) => p.some((x) => x.id === id), `the pending message of ${id}`);

  describe('requeueExpiredLeases', () => {
    it('puts a task whose An stopped renewing its lease back in the queue and publishes it again, attempts kept', async () => {
      const lost = await held({ running: true, expired: true });
      const alive = await held();
      assert.equal(await sweeper.requeueExpiredLeases(fence), 1);
      const row = await h.repo.get(lost.id);
      assert.equal(row?.status, 'queued');
      assert.equal(row?.an, null);
      assert.equal(row?.ki, null);
      assert.equal(row?.attempts, 1, 'the attempt that was lost still counts');
      await waitPublished(lost.id);
      assert.deepEqual(pending.find((p) => p.id === lost.id), { id: lost.id, attempts: 1 });
      assert.equal((await h.repo.get(alive.id))?.status, 'dispatched', 'a live lease is left alone');
      assert.equal(await retried('LEASE_EXPIRED'), 1);
    });

    it('fails a task whose lease expired on its last attempt with LEASE_EXPIRED, and publishes nothing', async () => {
      const last = await held({ maxAttempts: 1, expired: true });
      assert.equal(await sweeper.requeueExpiredLeases(fence), 0);
      const row = await h.repo.get(last.id);
      assert.equal(row?.status, 'failed');
      assert.equal(row?.error?.code, 'LEASE_EXPIRED');
      assert.equal(row?.error?.retryable, false);
      assert.match(row?.error?.message ?? '', /an-1/);
      assert.ok(row?.finishedAt, 'finished');
      assert.deepEqual(failedIds, [last.id], 'reported for its dead letter');
      await admission.drain();
      assert.deepEqual(pending, []);
    });

    it('changes nothing under a fence that is no longer the live leader lease', async () => {
      const lost = await held({ expired: true });
      const last = await held({ maxAttempts: 1, expired: true });
      const deposed = { holder: 'p1', term: fence.term + 1 };
      assert.equal(await sweeper.requeueExpiredLeases(deposed), 0);
      assert.equal((await h.repo.get(lost.id))?.status, 'dispatched');
      assert.equal((await h.repo.get(last.id))?.status, 'dispatched');
      assert.deepEqual(failedIds, [], 'nothing failed, nothing reported');
      await admission.drain();
      assert.deepEqual(pending, []);
    });

    it('takes back a task in retry backoff whose An stopped renewing its lease, and republishes it', async () => {
      const stranded = await inBackoff({ expired: true });
      const waiting = await inBackoff();
      assert.equal(stranded.an, 'an-1', 'the backoff keeps the An');
      assert.equal(await sweeper.requeueExpiredLeases(fence), 1);
      const row = await h.repo.get(stranded.id);
      assert.equal(row?.status, 'queued');
      assert.equal(row?.an, null);
      assert.equal(row?.leaseExpiresAt, null);
      assert.equal(row?.attempts, 1);
      await waitPublished(stranded.id);
      assert.equal((await h.repo.get(waiting.id))?.an, 'an-1', 'a backoff under a live lease is left to its An');
    });

    it('leaves a task in backoff whose An renews its lease (the renewal covers queued rows that name the An)', async () => {
      const t = await inBackoff({ expired: true });
      assert.equal(await h.repo.renewLeases('an-2', [t.id], 60_000), 0, 'only the An the row names renews it');
      assert.equal(await h.repo.renewLeases('an-1', [t.id], 60_000), 1);
      assert.equal(await sweeper.requeueExpiredLeases(fence), 0);
      assert.equal((await h.repo.get(t.id))?.an, 'an-1');
    });

    it('requeues, never fails, a task in backoff whose lease expired: the attempt it used had already ended', async () => {
      const t = await held({ maxAttempts: 2, running: true });
      await h.db.query("UPDATE tasks SET status = 'queued', ki = NULL, attempts = 2, lease_expires_at = now() - interval '1 second' WHERE id = $1", [t.id]);
      assert.equal(await sweeper.requeueExpiredLeases(fence), 1);
      assert.equal((await h.repo.get(t.id))?.status, 'queued');
    });

    it('never touches a task scheduled for its retry: it holds no lease, the release brings it back', async () => {
      const t = await scheduledRetry();
      // Even a stray expired lease on a scheduled row is not the lease sweep's: scheduled is not a leased state.
      await h.db.query("UPDATE tasks SET lease_expires_at = now() - interval '1 second' WHERE id = $1", [t.id]);
      assert.equal(await sweeper.requeueExpiredLeases(fence), 0);
      assert.equal((await h.repo.get(t.id))?.status, 'scheduled');
      await admission.drain();
      assert.equal(pending.some((p) => p.id === t.id), false);
    });

    it('does nothing when no lease expired', async () => {
      await held();
      assert.equal(await sweeper.requeueExpiredLeases(fence), 0);
      assert.equal(await retried('LEASE_EXPIRED'), 0);
    });
  });

  describe('requeueOfAn', () => {
    it('requeues at once every unfinished task of a dead An, live leases included, and leaves other Ans\' tasks', async () => {
      const dispatched = await held({ an: 'an-dead' });
      const running = await held({ an: 'an-dead', running: true });
      const other = await held({ an: 'an-live' });
      assert.equal(await sweeper.requeueOfAn('an-dead', fence), 2);
      for (const t of [dispatched, running]) {
        const row = await h.repo.get(t.id);
        assert.equal(row?.status, 'queued');
        assert.equal(row?.an, null);
        await waitPublished(t.id);
      }
      assert.equal((await h.repo.get(other.id))?.status, 'dispatched');
      assert.equal(pending.some((p) => p.id === other.id), false);
      assert.equal(await retried('AN_LOST'), 2);
    });

    it('requeues the tasks a dead An held in retry backoff, live lease or not', async () => {
      const backoff = await inBackoff({ an: 'an-dead' });
      const other = await inBackoff({ an: 'an-live' });
      assert.equal(await sweeper.requeueOfAn('an-dead', fence), 1);
      const row = await h.repo.get(backoff.id);
      assert.equal(row?.status, 'queued');
      assert.equal(row?.an, null);
      await waitPublished(backoff.id);
      assert.equal((await h.repo.get(other.id))?.an, 'an-live');
      assert.equal(pending.some((p) => p.id === other.id), false);
    });

    it('leaves a task scheduled for its retry after the An that ran it died', async () => {
      const t = await scheduledRetry({ an: 'an-dead' });
      assert.equal(await sweeper.requeueOfAn('an-dead', fence), 0);
      assert.equal((await h.repo.get(t.id))?.status, 'scheduled');
    });

    it('changes nothing for an An that held no task, or under a stale fence', async () => {
      const t = await held({ an: 'an-dead' });
      assert.equal(await sweeper.requeueOfAn('an-unknown', fence), 0);
      assert.equal(await sweeper.requeueOfAn('an-dead', { holder: 'p2', term: fence.term }), 0);
      assert.equal((await h.repo.get(t.id))?.status, 'dispatched');
    });
  });

  describe('republishUnpublished', () => {
    it('republishes queued tasks older than the grace whose publish was never confirmed, and no others', async () => {
      const old = new Date(Date.now() - GRACE_MS * 5);
      const lost = queuedTask({ createdAt: old });
      const young = queuedTask();
      const published = queuedTask({ createdAt: old });
      await h.repo.insertMany([lost, young, published]);
      await h.repo.markPublished([{ id: published.id, attempts: published.attempts }]);
      const taken = await held({ createdAt: old });
      assert.equal(await sweeper.republishUnpublished(), 1);
      await waitPublished(lost.id);
      await admission.drain();
      assert.deepEqual(pending.map((p) => p.id), [lost.id]);
      assert.equal((await h.repo.get(taken.id))?.status, 'dispatched');
    });
  });

  describe('reconcileAdmitted', () => {
    it('forgets admitted tasks that finished or vanished without this principal hearing it, keeping unfinished and recent ones', async () => {
      const longAgo = Date.now() - 120_000;
      const finished = queuedTask();
      const waiting = queuedTask();
      const recentFinished = queuedTask();
      await h.repo.insertMany([finished, waiting, recentFinished]);
      await h.repo.cancel(finished.id, 'test');
      await h.repo.cancel(recentFinished.id, 'test');
      const vanished = queuedTask();
      await admission.map.admit([
        { id: finished.id, owner: 'alice', createdAtMs: longAgo },
        { id: waiting.id, owner: 'alice', createdAtMs: longAgo },
        { id: vanished.id, owner: 'alice', createdAtMs: longAgo },
        { id: recentFinished.id, owner: 'alice', createdAtMs: Date.now() },
      ], () => Promise.resolve());
      await sweeper.reconcileAdmitted(60_000);
      assert.equal(admission.map.has(finished.id), false);
      assert.equal(admission.map.has(vanished.id), false, 'a deleted task is no longer held either');
      assert.equal(admission.map.has(waiting.id), true);
      assert.equal(admission.map.has(recentFinished.id), true, 'only entries older than the age are checked');
    });
  });
});

import { queuedTaskRecord } from '../../helpers/task-record';
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TAKE_LEASE_SQL } from '../../../src/principal/db-lease-leadership';
import { migrate } from '../../../src/store/migrate';
import { MIGRATIONS } from '../../../src/store/migrations';
import { PgliteDatabase } from '../../../src/store/pglite-database';
import { ReputationRepository } from '../../../src/store/reputation-repository';
import type { TaskRecord } from '../../../src/store/task-record';
import { TaskRepository } from '../../../src/store/task-repository';

function newTask(over: Partial<TaskRecord> = {}): TaskRecord {
  return queuedTaskRecord({ payload: { a: [1, 2], s: 'héllo' }, ...over });
}

const sqlError = (code: string) => Object.assign(new Error(`sqlstate ${code}`), { code });

describe('PgliteDatabase runs the store SQL unchanged on embedded PostgreSQL', function () {
  this.timeout(60_000);
  let db: PgliteDatabase;
  let repo: TaskRepository;

  before(async () => {
    db = new PgliteDatabase();
    await db.ready();
    assert.deepEqual(await migrate(db, 'node-a'), MIGRATIONS.map((m) => m.version));
    assert.deepEqual(await migrate(db, 'node-b'), [], 'a second migrate finds nothing to do');
    repo = new TaskRepository(db);
  });

  after(() => db?.close());

  describe('query', () => {
    it('returns BIGINT as numbers, timestamptz as Dates and jsonb as values', async () => {
      const r = await db.query<{ n: number; at: Date; j: unknown; b: boolean }>("SELECT 9007199254740991::bigint AS n, now() AS at, '{\"x\":[1]}'::jsonb AS j, true AS b");
      assert.equal(r.rows[0]!.n, Number.MAX_SAFE_INTEGER);
      assert.ok(r.rows[0]!.at instanceof Date);
      assert.deepEqual(r.rows[0]!.j, { x: [1] });
      assert.equal(r.rows[0]!.b, true);
      assert.equal(r.rowCount, 1);
    });

    it('counts the rows a write changed in rowCount', async () => {
      await db.query('CREATE TABLE IF NOT EXISTS pglite_counts (k TEXT PRIMARY KEY)');
      const ins = await db.query("INSERT INTO pglite_counts (k) VALUES ('a'), ('b'), ('c')");
      assert.equal(ins.rowCount, 3);
      const conflict = await db.query("INSERT INTO pglite_counts (k) VALUES ('a') ON CONFLICT (k) DO NOTHING RETURNING k");
      assert.equal(conflict.rowCount, 0);
      const del = await db.query('DELETE FROM pglite_counts WHERE k = ANY($1::text[])', [['a', 'b', 'zz']]);
      assert.equal(del.rowCount, 2);
    });

    it('passes undefined as NULL, as pg does', async () => {
      const r = await db.query<{ v: string | null }>('SELECT $1::text AS v', [undefined]);
      assert.equal(r.rows[0]!.v, null);
    });

    it('surfaces SQL errors with their SQLSTATE in code', async () => {
      await assert.rejects(db.query('SELECT 1/0'), (err: { code?: string }) => err.code === '22012');
    });

    it('runs a single statement again when it fails with 40001 or 40P01, and tells onRetry', async () => {
      const heard: string[] = [];
      const flaky = new PgliteDatabase({ maxTxAttempts: 4, onRetry: (code) => heard.push(code) });
      try {
        // A sequence is not rolled back with the failed statement: it counts the tries.
        await flaky.query('CREATE SEQUENCE tries');
        await flaky.query(`CREATE FUNCTION refuse_first(n int, state text) RETURNS bigint LANGUAGE plpgsql AS $$
          DECLARE t bigint := nextval('tries');
          BEGIN IF t <= n THEN RAISE EXCEPTION 'refused %', t USING ERRCODE = state; END IF; RETURN t; END $$`);
        const ok = await flaky.query<{ t: number }>('SELECT refuse_first(2, $1::text) AS t', ['40001']);
        assert.deepEqual(ok.rows, [{ t: 3 }]);
        assert.deepEqual(heard, ['40001', '40001']);
        await flaky.query('ALTER SEQUENCE tries RESTART');
        await assert.rejects(flaky.query('SELECT refuse_first(100, $1::text)', ['40P01']), (err: { code?: string; message: string }) =>
          err.code === 'DB_RETRIES_EXHAUSTED' && /40P01.*4 attempts/.test(err.message));
        assert.equal((await flaky.query<{ v: number }>('SELECT last_value AS v FROM tries')).rows[0]!.v, 4, 'tried maxTxAttempts times');
      } finally {
        await flaky.close();
      }
    });
  });

  describe('transactions', () => {
    before(() => db.query('CREATE TABLE IF NOT EXISTS pglite_tx (k TEXT PRIMARY KEY, v BIGINT NOT NULL)'));

    it('commits what the callback wrote and returns its value', async () => {
      const out = await db.transaction(async (q) => {
        await q.query('INSERT INTO pglite_tx (k, v) VALUES ($1, $2)', ['commit', 1]);
        return 'done';
      });
      assert.equal(out, 'done');
      assert.equal((await db.query('SELECT 1 FROM pglite_tx WHERE k = $1', ['commit'])).rowCount, 1);
    });

    it('rolls back everything when the callback throws', async () => {
      await assert.rejects(db.transaction(async (q) => {
        await q.query('INSERT INTO pglite_tx (k, v) VALUES ($1, $2)', ['rollback', 1]);
        throw new Error('boom');
      }), /boom/);
      assert.equal((await db.query('SELECT 1 FROM pglite_tx WHERE k = $1', ['rollback'])).rowCount, 0);
    });

    it('retries the whole transaction on a serialization failure (40001) and on a deadlock (40P01)', async () => {
      let attempts = 0;
      const out = await db.transaction(async (q) => {
        attempts++;
        await q.query('INSERT INTO pglite_tx (k, v) VALUES ($1, $2)', ['retried', attempts]);
        if (attempts === 1) throw sqlError('40001');
        if (attempts === 2) throw sqlError('40P01');
        return attempts;
      });
      assert.equal(out, 3);
      const rows = (await db.query<{ v: number }>('SELECT v FROM pglite_tx WHERE k = $1', ['retried'])).rows;
      assert.deepEqual(rows, [{ v: 3 }], 'the failed attempts left nothing behind');
    });

    it('gives up after maxTxAttempts serialization failures (5 by default)', async () => {
      let attempts = 0;
      await assert.rejects(
        db.transaction(async () => { attempts++; throw sqlError('40001'); }),
        (err: { code?: string; cause?: { code?: string } }) => err.code === 'DB_RETRIES_EXHAUSTED' && err.cause?.code === '40001',
      );
      assert.equal(attempts, 5);
    });

    it('keeps statements of other callers out of a running transaction', async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => { release = r; });
      let entered!: () => void;
      const inside = new Promise<void>((r) => { entered = r; });
      const tx = db.transaction(async (q) => {
        await q.query('INSERT INTO pglite_tx (k, v) VALUES ($1, $2)', ['isolated', 1]);
        entered();
        await gate;
        throw new Error('abort after the other statement was issued');
      });
      await inside;
      // Issued while the transaction is open: it must wait, not run inside it and vanish with the rollback.
      const outside = db.query('INSERT INTO pglite_tx (k, v) VALUES ($1, $2)', ['outside', 2]);
      let outsideDone = false;
      void outside.then(() => { outsideDone = true; });
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(outsideDone, false, 'the other statement waited for the transaction');
      release();
      await assert.rejects(tx, /abort/);
      await outside;
      const keys = (await db.query<{ k: string }>("SELECT k FROM pglite_tx WHERE k IN ('isolated', 'outside') ORDER BY k")).rows.map((r) => r.k);
      assert.deepEqual(keys, ['outside']);
    });

    it('refuses a statement on a transaction that is over', async () => {
      let leaked: { query: (t: string) => Promise<unknown> } | undefined;
      await db.transaction(async (q) => { leaked = q; });
      await assert.rejects(leaked!.query('SELECT 1'), /transaction is over/);
    });
  });

  describe('TaskRepository', () => {
    it('inserts many tasks and reads them back with every column as written', async () => {
      const created = new Date(Date.now() - 1000);
      const t = newTask({ redundancy: { replicas: 3, quorum: 2 }, requirements: { gpus: 1, gpuMemoryMiB: 2048, labels: ['a100'] }, traceContext: '00-abc-def-01', timeoutMs: 86_400_000, createdAt: created, updatedAt: created });
      const u = newTask({ payload: 'just a string' });
      const v = newTask({ payload: [1, 'two'] });
      await repo.insertMany([t, u, v]);
      const got = await repo.get(t.id);
      assert.ok(got);
      assert.deepEqual(got.payload, { a: [1, 2], s: 'héllo' });
      assert.deepEqual(got.requirements, { gpus: 1, gpuMemoryMiB: 2048, labels: ['a100'] });
      assert.deepEqual(got.redundancy, { replicas: 3, quorum: 2 });
      assert.equal(got.timeoutMs, 86_400_000);
      assert.equal(typeof got.timeoutMs, 'number');
      assert.equal(got.traceContext, '00-abc-def-01');
      assert.equal(got.createdAt.getTime(), created.getTime());
      assert.equal(got.status, 'queued');
      assert.equal(got.attempts, 0);
      assert.equal(got.startedAt, null);
      assert.equal((await repo.get(u.id))?.payload, 'just a string');
      assert.deepEqual((await repo.get(v.id))?.payload, [1, 'two']);
      assert.equal(await repo.get(randomUUID()), undefined);
    });

    it('inserts under an idempotency key once and returns the first ids on a repeat', async () => {
      const first = [newTask({ owner: 'idem' }), newTask({ owner: 'idem' })];
      assert.deepEqual(await repo.insertIdempotent('idem', 'key-1', first), { existing: null });
      const again = await repo.insertIdempotent('idem', 'key-1', [newTask({ owner: 'idem' })]);
      assert.deepEqual(again.existing, first.map((t) => t.id));
      assert.equal((await repo.getMany(first.map((t) => t.id))).length, 2);
      assert.deepEqual(await repo.insertIdempotent('other-owner', 'key-1', [newTask({ owner: 'other-owner' })]), { existing: null }, 'keys are per owner');
    });

    it('gets many by id (uuid[] parameter)', async () => {
      const tasks = [newTask(), newTask(), newTask()];
      await repo.insertMany(tasks);
      const got = await repo.getMany([tasks[0]!.id, tasks[2]!.id, randomUUID()]);
      assert.deepEqual(got.map((t) => t.id).sort(), [tasks[0]!.id, tasks[2]!.id].sort());
      assert.deepEqual(await repo.getMany([]), []);
    });

    it('lists newest first, filters, and pages with a (created_at, id) cursor', async () => {
      const base = Date.now() - 60_000;
      const tasks = Array.from({ length: 7 }, (_, i) => newTask({ owner: 'lister', type: i % 2 ? 'sleep' : 'echo', createdAt: new Date(base + i * 1000), updatedAt: new Date(base + i * 1000) }));
      // Two with the same created_at: the id breaks the tie.
      const twin = newTask({ owner: 'lister', type: 'echo', createdAt: tasks[3]!.createdAt, updatedAt: tasks[3]!.createdAt });
      await repo.insertMany([...tasks, twin]);
      const all = await repo.list({ owner: 'lister', limit: 100 });
      assert.equal(all.length, 8);
      for (let i = 1; i < all.length; i++) {
        const a = all[i - 1]!;
        const b = all[i]!;
        assert.ok(a.createdAt > b.createdAt || (a.createdAt.getTime() === b.createdAt.getTime() && a.id > b.id), 'newest first, then id descending');
      }
      const pages: string[] = [];
      let cursor: { createdAt: Date; id: string } | undefined;
      for (;;) {
        const page = await repo.list({ owner: 'lister', limit: 3, ...(cursor ? { cursor } : {}) });
        pages.push(...page.map((t) => t.id));
        const last = page[page.length - 1];
        if (page.length < 3 || !last) break;
        cursor = { createdAt: last.createdAt, id: last.id };
      }
      assert.deepEqual(pages, all.map((t) => t.id), 'pages cover every task once, in order');
      const sleeps = await repo.list({ owner: 'lister', type: 'sleep', status: 'queued', limit: 100 });
      assert.equal(sleeps.length, 3);
      assert.ok(sleeps.every((t) => t.type === 'sleep'));
    });

    it('applies guarded transitions once: a duplicate or an older attempt changes nothing', async () => {
      const t = newTask();
      await repo.insertMany([t]);
      const dispatched = await repo.applyTransitions([{ id: t.id, name: 'dispatch', expectedAttempts: 0, an: 'an1', ki: 'ki1', leaseMs: 5000, clearPublished: true }]);
      assert.deepEqual(dispatched, [{ id: t.id, attempts: 1, status: 'dispatched' }]);
      assert.deepEqual(await repo.applyTransitions([{ id: t.id, name: 'dispatch', expectedAttempts: 0 }]), [], 'duplicate dispatch refused');
      const running = await repo.get(t.id);
      assert.ok(running?.leaseExpiresAt && running.leaseExpiresAt.getTime() > Date.now(), 'lease set');
      assert.equal(running?.an, 'an1');

      const startedAt = new Date();
      await repo.applyTransitions([{ id: t.id, name: 'start', expectedAttempts: 1, startedAt }]);
      const finishedAt = new Date();
      const done = await repo.applyTransitions([{ id: t.id, name: 'succeed', expectedAttempts: 1, outcome: { result: { ok: [1] }, error: null }, finishedAt, leaseMs: null }]);
      assert.equal(done.length, 1);
      assert.equal((await repo.applyTransitions([{ id: t.id, name: 'fail', expectedAttempts: 0, outcome: { result: null, error: { code: 'X', message: 'late', retryable: false } } }])).length, 0, 'an older attempt is refused');
      const row = await repo.get(t.id);
      assert.equal(row?.status, 'succeeded');
      assert.deepEqual(row?.result, { ok: [1] });
      assert.equal(row?.error, null);
      assert.equal(row?.leaseExpiresAt, null, 'lease cleared');
      assert.equal(row?.startedAt?.getTime(), startedAt.getTime());
      assert.equal(row?.finishedAt?.getTime(), finishedAt.getTime());
      assert.equal(row?.ki, 'ki1', 'ki kept when not given');
    });

    it('applies many transitions in one statement and reports which held', async () => {
      const tasks = Array.from({ length: 40 }, () => newTask());
      await repo.insertMany(tasks);
      const applied = await repo.applyTransitions(tasks.map((t, i) => ({ id: t.id, name: 'dispatch', expectedAttempts: i % 2 === 0 ? 0 : 7 })));
      assert.equal(applied.length, 20);
    });

    it('applies a fenced transition only while the leader lease holds at that term', async () => {
      const t = newTask();
      await repo.insertMany([t]);
      await db.query(
        `INSERT INTO leader_lease (name, holder, term, expires_at) VALUES ('principal', $1, $2, now() + $3 * interval '1 millisecond')
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, term = excluded.term, expires_at = excluded.expires_at`,
        ['leader-1', 4, 60_000],
      );
      await repo.applyTransitions([{ id: t.id, name: 'dispatch', expectedAttempts: 0 }]);
      const requeue = { id: t.id, name: 'requeueLost' as const, expectedAttempts: 1 };
      assert.equal((await repo.applyTransitions([requeue], { holder: 'leader-1', term: 3 })).length, 0, 'a stale term is refused');
      assert.equal((await repo.applyTransitions([requeue], { holder: 'someone-else', term: 4 })).length, 0, 'another holder is refused');
      assert.equal((await repo.applyTransitions([requeue], { holder: 'leader-1', term: 4 })).length, 1);
    });

    it('marks published tasks and finds the unpublished ones past the grace', async () => {
      const old = new Date(Date.now() - 60_000);
      const a = newTask({ owner: 'pub', createdAt: old, updatedAt: old });
      const b = newTask({ owner: 'pub', createdAt: old, updatedAt: old });
      const fresh = newTask({ owner: 'pub' });
      await repo.insertMany([a, b, fresh]);
      await repo.markPublished([{ id: a.id, attempts: a.attempts }, { id: b.id, attempts: b.attempts + 1 }]);
      const found = (await repo.findUnpublished(30_000, 1000)).map((t) => t.id);
      assert.ok(found.includes(b.id), 'a confirm of another attempt does not mark it');
      assert.ok(!found.includes(a.id), 'published');
      assert.ok(!found.includes(fresh.id), 'within the grace');
      await repo.markPublished([]);
    });

    it('renews leases of running tasks of one An and finds expired ones', async () => {
      const t = newTask();
      const other = newTask();
      await repo.insertMany([t, other]);
      await repo.applyTransitions([
        { id: t.id, name: 'dispatchStarted', expectedAttempts: 0, an: 'an-lease', leaseMs: -1000 },
        { id: other.id, name: 'dispatchStarted', expectedAttempts: 0, an: 'an-other', leaseMs: -1000 },
      ]);
      const expired = (await repo.findExpiredLeases(1000)).map((x) => x.id);
      assert.ok(expired.includes(t.id) && expired.includes(other.id));
      assert.equal(await repo.renewLeases('an-lease', [t.id, other.id], 60_000), 1, 'only its own task');
      const after = (await repo.findExpiredLeases(1000)).map((x) => x.id);
      assert.ok(!after.includes(t.id));
      assert.ok(after.includes(other.id));
      assert.deepEqual((await repo.findByAn('an-lease', 10)).map((x) => x.id), [t.id]);
      assert.equal(await repo.renewLeases('an-lease', [], 1000), 0);
    });

    it('changes the priority of a queued task only', async () => {
      const t = newTask();
      const moved = newTask();
      await repo.insertMany([t, moved]);
      await repo.applyTransitions([{ id: moved.id, name: 'dispatch', expectedAttempts: 0 }]);
      assert.equal((await repo.setPriority(t.id, 9))?.priority, 9);
      assert.equal(await repo.setPriority(moved.id, 9), undefined);
    });

    it('cancels an unfinished task once and reports its status before', async () => {
      const t = newTask();
      await repo.insertMany([t]);
      await repo.applyTransitions([{ id: t.id, name: 'dispatchStarted', expectedAttempts: 0, leaseMs: 5000 }]);
      const out = await repo.cancel(t.id, 'by test');
      assert.equal(out?.before.status, 'running');
      assert.equal(out?.after.status, 'cancelled');
      assert.deepEqual(out?.after.error, { code: 'CANCELLED', message: 'by test', retryable: false });
      assert.ok(out?.after.finishedAt instanceof Date);
      assert.equal(out?.after.leaseExpiresAt, null);
      assert.equal(await repo.cancel(t.id, 'again'), undefined, 'already terminal');
      assert.equal(await repo.cancel(randomUUID(), 'unknown'), undefined);
    });

    it('saves progress of the current attempt only', async () => {
      const t = newTask();
      await repo.insertMany([t]);
      await repo.applyTransitions([{ id: t.id, name: 'dispatchStarted', expectedAttempts: 0 }]);
      await repo.saveProgress([{ id: t.id, attempts: 1, progress: { fraction: 0.5, message: 'half', atMs: 123 } }]);
      await repo.saveProgress([{ id: t.id, attempts: 0, progress: { fraction: 0.9, atMs: 124 } }]);
      assert.deepEqual((await repo.get(t.id))?.progress, { fraction: 0.5, message: 'half', atMs: 123 });
      await repo.saveProgress([]);
    });

    it('deletes a task', async () => {
      const t = newTask();
      await repo.insertMany([t]);
      assert.equal(await repo.delete(t.id), true);
      assert.equal(await repo.delete(t.id), false);
      assert.equal(await repo.get(t.id), undefined);
    });

    it('counts tasks by status as numbers', async () => {
      const counts = await repo.countByStatus();
      assert.ok(counts['queued']! > 0);
      assert.equal(typeof counts['queued'], 'number');
      assert.ok(counts['succeeded']! >= 1);
      assert.ok(counts['cancelled']! >= 1);
    });
  });

  describe('other statements of standalone', () => {
    it('takes, renews and hands over the leader lease by compare-and-set with a term', async () => {
      await db.query("DELETE FROM leader_lease WHERE name = 'principal'");
      // The statement the principals run, so a change to it is checked on PGlite too.
      const take = (holder: string) => db.query<{ term: number }>(TAKE_LEASE_SQL, ['principal', holder, 60_000]);
      assert.deepEqual((await take('p1')).rows, [{ term: 1 }]);
      assert.deepEqual((await take('p1')).rows, [{ term: 1 }], 'renewal keeps the term');
      assert.equal((await take('p2')).rowCount, 0, 'a live lease is not taken');
      await db.query('UPDATE leader_lease SET expires_at = now() WHERE name = $1 AND holder = $2', ['principal', 'p1']);
      // PGlite's clock has millisecond resolution: in the same millisecond `expires_at < now()` is still false.
      await new Promise((r) => setTimeout(r, 5));
      assert.deepEqual((await take('p2')).rows, [{ term: 2 }]);
      const cur = await db.query<{ holder: string; term: number; live: boolean }>('SELECT holder, term, expires_at > now() AS live FROM leader_lease WHERE name = $1', ['principal']);
      assert.deepEqual(cur.rows, [{ holder: 'p2', term: 2, live: true }]);
    });

    it('records reputation votes and quarantines a Ki that keeps disagreeing', async () => {
      const rep = new ReputationRepository(db);
      assert.deepEqual(await rep.record(['k1', 'k2'], ['k3'], 6, 0), []);
      assert.deepEqual(await rep.record(['k1', 'k2'], ['k3'], 6, 0), ['k3']);
      assert.deepEqual([...(await rep.quarantined())], ['k3']);
      const all = await rep.all();
      assert.deepEqual(all.find((r) => r.nodeId === 'k1'), { nodeId: 'k1', score: 10, agreed: 2, disagreed: 0, quarantined: false });
      assert.equal(await rep.release('k3'), true);
      assert.equal(await rep.release('nobody'), false);
    });
  });
});

describe('PgliteDatabase with a data folder', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'anki-pglite-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps tasks across a close and a reopen', async () => {
    const dataDir = join(dir, 'data');
    const first = new PgliteDatabase({ dataDir });
    const t = newTask();
    try {
      await migrate(first, 'node-a');
      await new TaskRepository(first).insertMany([t]);
    } finally {
      // Twice at once: both wait for the one close.
      await Promise.all([first.close(), first.close()]);
    }
    const second = new PgliteDatabase({ dataDir });
    try {
      assert.deepEqual(await migrate(second, 'node-a'), [], 'migrations were kept');
      assert.equal((await new TaskRepository(second).get(t.id))?.id, t.id);
    } finally {
      await second.close();
    }
  });

  it('starts an in-memory database from a dump of another, with its migrations and rows', async () => {
    const original = new PgliteDatabase();
    const t = newTask();
    let dump: Blob;
    try {
      await migrate(original, 'node-a');
      await new TaskRepository(original).insertMany([t]);
      dump = await original.dump();
    } finally {
      await original.close();
    }
    const copy = new PgliteDatabase({ from: dump });
    try {
      assert.deepEqual(await migrate(copy, 'node-a'), [], 'migrations came with the copy');
      assert.equal((await new TaskRepository(copy).get(t.id))?.id, t.id);
    } finally {
      await copy.close();
    }
  });
});

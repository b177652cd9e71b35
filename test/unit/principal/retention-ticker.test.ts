import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { createMetrics, silentLogger } from '../../../src/observability';
import { exportFileName, RetentionExporter } from '../../../src/principal/retention-export';
import { RetentionTicker, type RetentionTickerDeps } from '../../../src/principal/retention-ticker';
import type { LeaderFence, TaskRecord } from '../../../src/store';
import { queuedTaskRecord } from '../../helpers/task-record';

const FENCE: LeaderFence = { holder: 'p1', term: 3 };

type RetentionPort = RetentionTickerDeps['retention'];

/** Expired tasks in memory; deletes succeed only under {@link FENCE} unless `lost`. */
class FakeRetention implements RetentionPort {
  tasks: TaskRecord[];
  keys: number;
  lost = false;
  readonly calls: string[] = [];
  constructor(tasks: number, keys: number) {
    this.tasks = Array.from({ length: tasks }, () => queuedTaskRecord({ status: 'succeeded', finishedAt: new Date(0) }));
    this.keys = keys;
  }
  expiredTaskIds(_age: number, limit: number) { this.calls.push('ids'); return Promise.resolve(this.tasks.slice(0, limit).map((t) => t.id)); }
  expiredTasks(_age: number, limit: number) { this.calls.push('rows'); return Promise.resolve(this.tasks.slice(0, limit)); }
  deleteExpiredTasks(ids: readonly string[], _age: number, fence: LeaderFence) {
    this.calls.push('delete');
    if (this.lost || fence.term !== FENCE.term) return Promise.resolve([]);
    const gone = new Set(ids);
    this.tasks = this.tasks.filter((t) => !gone.has(t.id));
    return Promise.resolve([...gone]);
  }
  deleteExpiredKeys(_age: number, limit: number) {
    if (this.lost) return Promise.resolve(0);
    const n = Math.min(limit, this.keys);
    this.keys -= n;
    return Promise.resolve(n);
  }
}

function ticker(retention: FakeRetention, over: Partial<RetentionTickerDeps> = {}) {
  const metrics = createMetrics(new Registry(), 'principal');
  const t = new RetentionTicker({ retention, metrics, log: silentLogger(), maxAgeMs: 1000, batch: 10, maxBatchesPerPass: 3, ...over });
  return { t, metrics };
}

describe('RetentionTicker', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'retention-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('deletes in batches until a batch is not full, then the old idempotency keys, and counts both', async () => {
    const repo = new FakeRetention(25, 12);
    const { t, metrics } = ticker(repo);
    assert.deepEqual(await t.runPass(FENCE), { tasks: 25, idempotencyKeys: 12 });
    assert.equal(repo.tasks.length, 0);
    assert.deepEqual(repo.calls, ['ids', 'delete', 'ids', 'delete', 'ids', 'delete'], 'ids only: without an export the rows are not read');
    const counted = (await metrics.retentionDeleted.get()).values;
    assert.equal(counted.find((v) => v.labels['kind'] === 'task')?.value, 25);
    assert.equal(counted.find((v) => v.labels['kind'] === 'idempotency_key')?.value, 12);
  });

  it('stops after the most batches a pass may take; the rest waits for the next pass', async () => {
    const repo = new FakeRetention(100, 0);
    const { t } = ticker(repo);
    assert.equal((await t.runPass(FENCE)).tasks, 30);
    assert.equal(repo.tasks.length, 70);
  });

  it('stops at once when the delete is refused (the lease was lost)', async () => {
    const repo = new FakeRetention(100, 50);
    repo.lost = true;
    const { t } = ticker(repo);
    assert.deepEqual(await t.runPass(FENCE), { tasks: 0, idempotencyKeys: 0 });
    assert.deepEqual(repo.calls, ['ids', 'delete']);
  });

  it('does nothing with an age of 0 (keep forever)', async () => {
    const repo = new FakeRetention(5, 5);
    const { t } = ticker(repo, { maxAgeMs: 0 });
    assert.equal(t.enabled, false);
    assert.deepEqual(await t.runPass(FENCE), { tasks: 0, idempotencyKeys: 0 });
    assert.deepEqual(repo.calls, []);
  });

  it('appends each batch to the day\'s JSON-lines file before deleting it', async () => {
    const repo = new FakeRetention(15, 0);
    const before = repo.tasks.map((x) => x.id);
    const day = new Date('2026-03-04T23:59:00Z');
    const exporter = new RetentionExporter(join(dir, 'export'), () => day);
    const order: string[] = [];
    const { t } = ticker(repo, { exporter: { append: async (ts) => { order.push(`export:${ts.length}`); await exporter.append(ts); } } });
    const del = repo.deleteExpiredTasks.bind(repo);
    repo.deleteExpiredTasks = (ids, age, fence) => { order.push(`delete:${ids.length}`); return del(ids, age, fence); };
    await t.runPass(FENCE);
    assert.deepEqual(order, ['export:10', 'delete:10', 'export:5', 'delete:5']);
    assert.deepEqual(readdirSync(join(dir, 'export')), ['tasks-2026-03-04.jsonl']);
    const lines = readFileSync(join(dir, 'export', exportFileName(day)), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { id: string; status: string; owner: string });
    assert.deepEqual(lines.map((l) => l.id), before);
    assert.ok(lines.every((l) => l.status === 'succeeded' && l.owner === 'alice'));
  });

  it('deletes nothing when the export fails', async () => {
    const repo = new FakeRetention(5, 0);
    const { t } = ticker(repo, { exporter: { append: () => Promise.reject(new Error('disk full')) } });
    await assert.rejects(t.runPass(FENCE), /disk full/);
    assert.equal(repo.tasks.length, 5);
    assert.deepEqual(repo.calls, ['rows']);
  });
});

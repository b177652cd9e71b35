import { strict as assert } from 'node:assert';
import { TaskCountCache } from '../../../src/principal/task-counts';
import type { CappedCounts } from '../../../src/store';

/** Counts on demand; each count waits until released, so overlapping reads can be seen. */
class FakeStats {
  calls = 0;
  fail = false;
  #release: (() => void)[] = [];
  countTasksUpTo(cap: number): Promise<CappedCounts> {
    this.calls++;
    const n = this.calls;
    return new Promise((resolve, reject) => {
      this.#release.push(() => (this.fail ? reject(new Error('db down')) : resolve({ counts: { queued: Math.min(n, cap) }, capped: [] })));
    });
  }
  releaseAll(): void {
    for (const r of this.#release.splice(0)) r();
  }
}

describe('TaskCountCache', () => {
  let nowMs: number;
  let stats: FakeStats;
  let cache: TaskCountCache;
  beforeEach(() => {
    nowMs = 1_000_000;
    stats = new FakeStats();
    cache = new TaskCountCache({ stats, cap: 100, ttlMs: 5000, now: () => nowMs });
  });

  const read = async () => {
    const p = cache.read();
    stats.releaseAll();
    return p;
  };

  it('runs one count for reads that arrive while it runs', async () => {
    const reads = [cache.read(), cache.read(), cache.read()];
    stats.releaseAll();
    const got = await Promise.all(reads);
    assert.equal(stats.calls, 1);
    assert.ok(got.every((g) => g?.counts.queued === 1));
  });

  it('reuses a count for the TTL and counts again after it', async () => {
    assert.equal((await read())?.counts.queued, 1);
    nowMs += 4999;
    assert.equal((await read())?.counts.queued, 1);
    assert.equal(stats.calls, 1);
    nowMs += 1;
    const again = await read();
    assert.equal(again?.counts.queued, 2);
    assert.equal(again?.countedAt.getTime(), nowMs);
  });

  it('shows the last count with its time when the database fails, and null before any count', async () => {
    stats.fail = true;
    assert.equal(await read(), null);
    stats.fail = false;
    const first = await read();
    nowMs += 10_000;
    stats.fail = true;
    const stale = await read();
    assert.equal(stale?.countedAt.getTime(), first?.countedAt.getTime());
    assert.equal(stats.calls, 3);
  });
});

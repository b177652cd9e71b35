import { strict as assert } from 'node:assert';
import { preferredWaitSec, TaskWaiters } from '../../../src/principal/task-waiters';

describe('TaskWaiters: requests waiting for a task to end', () => {
  it('wakes every wait of a task on its event, and only those', async () => {
    const w = new TaskWaiters(10);
    const a1 = w.wait('a', 60_000)!;
    const a2 = w.wait('a', 60_000)!;
    const b = w.wait('b', 60_000)!;
    assert.equal(w.size, 3);
    w.notify('a');
    assert.deepEqual(await Promise.all([a1.ended, a2.ended]), [true, true]);
    assert.equal(w.size, 1);
    b.cancel();
    assert.equal(await b.ended, false);
    assert.equal(w.size, 0);
  });

  it('times out as not ended', async () => {
    const w = new TaskWaiters(10);
    assert.equal(await w.wait('a', 5)!.ended, false);
    assert.equal(w.size, 0);
  });

  it('takes no wait past its bound, for 0 s, or once closed; close wakes the waiting as not ended', async () => {
    const w = new TaskWaiters(1);
    const first = w.wait('a', 60_000)!;
    assert.equal(w.wait('b', 60_000), null, 'the bound holds');
    assert.equal(w.wait('a', 0), null);
    w.close();
    assert.equal(await first.ended, false);
    assert.equal(w.wait('c', 60_000), null);
  });

  it('is not confused by a late notify or a second cancel', async () => {
    const w = new TaskWaiters(2);
    const a = w.wait('a', 60_000)!;
    a.cancel();
    a.cancel();
    w.notify('a');
    assert.equal(await a.ended, false);
    assert.equal(w.size, 0);
  });
});

describe('preferredWaitSec: the wait of an RFC 7240 Prefer header', () => {
  it('reads wait=N among other preferences, capped', () => {
    assert.equal(preferredWaitSec('wait=10', 60), 10);
    assert.equal(preferredWaitSec('respond-async, wait=5', 60), 5);
    assert.equal(preferredWaitSec('WAIT = "7"', 60), 7);
    assert.equal(preferredWaitSec('wait=600', 60), 60);
  });

  it('ignores what it does not understand', () => {
    for (const h of [undefined, '', 'respond-async', 'wait=', 'wait=soon', 'wait=-1', 'wait=1.5', 'waiting=3']) assert.equal(preferredWaitSec(h, 60), 0, String(h));
  });
});

import { strict as assert } from 'node:assert';
import type { PgliteDatabase } from '../../../src/store/pglite-database';
import { DeadLetterRepository, toApiDeadLetter, type NewDeadLetter } from '../../../src/store/dead-letter-repository';
import { migratedPglite } from '../../helpers/migrated-pglite';

const letter = (over: Partial<NewDeadLetter> = {}): NewDeadLetter => ({
  dedupKey: `message:${Math.random()}`, taskId: null, claimedTaskIds: null, messageType: 'task.result', reason: 'rejected', errorCode: null, errorMessage: null,
  sourceQueue: 'anki.inbox.an.an1', sender: 'ki1', attempts: null, bodyBytes: 42, ...over,
});

describe('DeadLetterRepository: what failed, one row per letter, newest first, bounded', function () {
  this.timeout(60_000);
  let db: PgliteDatabase;
  let store: DeadLetterRepository;

  before(async () => {
    db = await migratedPglite();
    store = new DeadLetterRepository(db);
  });
  after(() => db?.close());
  beforeEach(() => db.query('DELETE FROM dead_letters'));

  it('keeps one row per key and counts the copies', async () => {
    assert.equal(await store.record(letter({ dedupKey: 'message:m1' })), true);
    assert.equal(await store.record(letter({ dedupKey: 'message:m1', reason: 'expired' })), false, 'a second copy makes no new row');
    const [only, ...rest] = await store.list({ limit: 10 });
    assert.equal(rest.length, 0);
    assert.equal(only?.count, 2);
    assert.equal(only?.reason, 'expired', 'the newest reason is shown');
  });

  it('counts a task once per failed run, whoever reports it', async () => {
    const task = '1d0e8d5e-8a51-4c8f-9a25-3f4c4d2d1a11';
    const failedAt = (attempts: number) => letter({ dedupKey: `task:${task}`, taskId: task, reason: 'failed', attempts });
    assert.equal(await store.record(failedAt(1)), true);
    await store.record(failedAt(1));
    assert.equal((await store.list({ limit: 10 }))[0]?.count, 1, 'the note and the leader\'s record of one failure are one');
    await store.record(failedAt(3));
    assert.equal((await store.list({ limit: 10 }))[0]?.count, 2);
  });

  it('pages newest first with a cursor, and shows what an operator needs', async () => {
    for (let i = 0; i < 5; i++) await store.record(letter({ dedupKey: `message:p${i}`, sender: `s${i}` }));
    const first = await store.list({ limit: 3 });
    assert.deepEqual(first.map((d) => d.sender), ['s4', 's3', 's2']);
    const last = first.at(-1)!;
    const second = await store.list({ limit: 3, cursor: { createdAt: last.createdAt, id: last.id } });
    assert.deepEqual(second.map((d) => d.sender), ['s1', 's0']);
    const api = toApiDeadLetter(first[0]!);
    assert.equal(api.redrivable, false, 'a letter without a task cannot be re-driven');
    assert.equal('body' in api, false);
  });

  it('deletes one letter, or those of a task, and reports a missing one', async () => {
    const task = '7d0e8d5e-8a51-4c8f-9a25-3f4c4d2d1a10';
    await store.record(letter({ dedupKey: `task:${task}`, taskId: task, reason: 'failed', errorCode: 'TASK_FAILED', errorMessage: 'boom', attempts: 1 }));
    await store.record(letter({ dedupKey: 'message:x' }));
    const other = (await store.list({ limit: 10 })).find((d) => d.dedupKey === 'message:x');
    assert.equal(toApiDeadLetter((await store.list({ limit: 10 })).find((d) => d.taskId === task)!).redrivable, true);
    assert.equal(await store.deleteForTask(task), 1);
    assert.equal(await store.delete(other!.id), true);
    assert.equal(await store.delete(other!.id), false);
    assert.equal(await store.count(), 0);
  });

  it('trims to the newest it may keep', async () => {
    for (let i = 0; i < 6; i++) await store.record(letter({ dedupKey: `message:t${i}`, sender: `s${i}` }));
    assert.equal(await store.trim(4), 2);
    assert.deepEqual((await store.list({ limit: 10 })).map((d) => d.sender), ['s5', 's4', 's3', 's2'], 'the oldest went');
    assert.equal(await store.trim(4), 0);
  });
});

import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import amqplib from 'amqplib';
import { topologyNames } from '../../src/protocol/names';
import { Api, TestCluster, type NodeProcess } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { waitFor } from '../helpers/wait';

/** Fails a task's first attempt for good, succeeds from the second on. */
const FLAKY = join(__dirname, '..', 'fixtures', 'ki', 'plugins', 'flaky.js');
const FAST = { HEARTBEAT_MS: '200', SUSPECT_AFTER_MS: '600', DEAD_AFTER_MS: '1500', ELECTION_TICK_MS: '300', LEADER_LEASE_MS: '2000', PRINCIPAL_QUEUE_DEPTH_INTERVAL_MS: '300' };

interface Letter { id: string; taskId: string | null; claimedTaskIds: string[]; messageType: string; reason: string; error: { code: string } | null; sender: string | null; sourceQueue: string | null; redrivable: boolean }

describe('retry and dead letters (real principal, An, Ki, broker and store)', function () {
  this.timeout(120_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let principal: NodeProcess;
  let alice: Api;
  let operator: Api;

  /** A task of alice's that failed for good (`type` flaky fails its first attempt). */
  const failedTask = async (type = 'flaky'): Promise<{ id: string; attempts: number; status: string; maxAttempts: number; error: { code: string } }> => {
    const r = await alice.post('/tasks', { type, payload: { n: 1 }, maxAttempts: 1 }, { prefer: 'wait=30' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.status, 'failed', JSON.stringify(r.body));
    return r.body;
  };
  const letters = async (): Promise<Letter[]> => {
    const r = await operator.get('/dead-letters?limit=100');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.items as Letter[];
  };
  /** anki_dead_letters of the (leading) principal. */
  const deadLetterGauge = async () => Number(/^anki_dead_letters (\S+)$/m.exec(await principal.metrics())?.[1] ?? -1);
  const letterOf = (pick: (l: Letter) => boolean, what: string) => waitFor(letters, (ls) => ls.some(pick), { what }).then((ls) => ls.find(pick)!);

  before(async () => {
    iso = await createIsolation('deadletters');
    cluster = new TestCluster(iso, FAST);
    principal = await cluster.start('principal', { id: 'p1' });
    await cluster.start('an', { id: 'an1' });
    await cluster.start('ki', { id: 'ki1', env: { KI_HANDLERS: FLAKY } });
    alice = new Api(cluster.url(principal), cluster.token('alice', 'submitter'));
    operator = alice.as(cluster.token('olga', 'operator'));
    await waitFor(() => operator.get('/nodes'), (r) => r.body.items.some((n: { role: string; status: string; group: string }) => n.role === 'ki' && n.status === 'alive' && n.group), { what: 'a Ki in a group' });
  });

  after(async () => {
    await cluster?.stopAll();
    await iso?.destroy();
  });

  it('retries a failed task once as attempt 2, keeping the failed run in its history; a double click is 409', async () => {
    const failed = await failedTask();
    assert.equal(failed.attempts, 1);
    const bob = alice.as(cluster.token('bob', 'submitter'));
    assert.equal((await bob.post(`/tasks/${failed.id}/retry`)).status, 404, 'another owner\'s task is missing');
    const [first, second] = await Promise.all([alice.post(`/tasks/${failed.id}/retry`), alice.post(`/tasks/${failed.id}/retry`)]);
    assert.deepEqual([first.status, second.status].sort(), [200, 409], `${JSON.stringify(first.body)} ${JSON.stringify(second.body)}`);
    const done = await alice.get(`/tasks/${failed.id}?wait=30`);
    assert.equal(done.body.status, 'succeeded', JSON.stringify(done.body));
    assert.equal(done.body.attempts, 2);
    assert.equal(done.body.result.attempt, 2, 'the Ki ran attempt 2');
    assert.equal(done.body.error, null);
    assert.equal(done.body.retryHistory.length, 1);
    assert.equal(done.body.retryHistory[0].error.code, failed.error.code, 'the failed run\'s error is kept');
    assert.equal(done.body.retryHistory[0].retriedBy, 'alice');
    const again = await alice.post(`/tasks/${failed.id}/retry`);
    assert.equal(again.status, 409, 'a succeeded task is not retried');
    assert.match(again.headers.get('content-type') ?? '', /problem\+json/);
  });

  it('lists a task that failed for good with its reason; a re-drive runs it again; DELETE removes a letter', async () => {
    const failed = await failedTask();
    const letter = await letterOf((l) => l.taskId === failed.id, 'the failed task among the dead letters');
    assert.deepEqual([letter.reason, letter.error?.code, letter.messageType, letter.redrivable], ['failed', failed.error.code, 'task.failed', true]);
    assert.equal((await alice.get('/dead-letters')).status, 403, 'a submitter may not list dead letters');
    assert.equal((await alice.post(`/dead-letters/${letter.id}/redrive`)).status, 403);
    assert.equal((await alice.request('DELETE', `/dead-letters/${letter.id}`)).status, 403);

    const redriven = await operator.post(`/dead-letters/${letter.id}/redrive`);
    assert.equal(redriven.status, 200, JSON.stringify(redriven.body));
    assert.equal(redriven.body.task.status, 'queued');
    const done = await alice.get(`/tasks/${failed.id}?wait=30`);
    assert.deepEqual([done.body.status, done.body.attempts], ['succeeded', 2]);
    assert.equal((await letters()).some((l) => l.id === letter.id), false, 'a re-driven letter is handled');

    const other = await failedTask('fail');
    const toDelete = await letterOf((l) => l.taskId === other.id, 'the second failed task among the dead letters');
    assert.equal((await operator.request('DELETE', `/dead-letters/${toDelete.id}`)).status, 204);
    assert.equal((await letters()).some((l) => l.id === toDelete.id), false);
    assert.equal((await operator.request('DELETE', `/dead-letters/${toDelete.id}`)).status, 404);
    assert.equal((await alice.get(`/tasks/${other.id}`)).body.status, 'failed', 'deleting the letter leaves its task');
    await waitFor(deadLetterGauge, (n) => n === 0, { what: 'anki_dead_letters back to 0' });
  });

  it('lists forged messages as unverified letters that cannot be re-driven, and keeps them', async () => {
    const names = topologyNames(iso.prefix);
    const succeeded = await alice.post('/tasks', { type: 'echo', payload: 1 }, { prefer: 'wait=30' });
    assert.equal(succeeded.body.status, 'succeeded');
    const claimed = succeeded.body.id as string;
    const conn = await amqplib.connect(iso.amqpUrl);
    try {
      const ch = await conn.createConfirmChannel();
      const headers = { 'x-kid': 'nokey', 'x-ts': Date.now(), 'x-task-ids': claimed };
      // A result nobody sealed, into the An's inbox: the An refuses it and the broker dead-letters it.
      ch.sendToQueue(names.inbox('an', 'an1'), Buffer.from('garbage'), { messageId: 'forged-result', type: 'task.result', appId: 'mallory\u0000', headers });
      // A "task failed" note naming a task that succeeded, straight to the dead-letter exchange.
      ch.publish(names.deadLetterExchange, 'task.failed.echo', Buffer.from('garbage'), { messageId: 'forged-note', type: 'task.failed', appId: 'mallory', headers });
      await ch.waitForConfirms();
    } finally {
      await conn.close();
    }
    const rejected = await letterOf((l) => l.messageType === 'task.result' && l.sender === 'mallory', 'the rejected forged result');
    assert.deepEqual([rejected.reason, rejected.sourceQueue, rejected.taskId, rejected.redrivable], ['rejected', names.inbox('an', 'an1'), null, false]);
    assert.deepEqual(rejected.claimedTaskIds, [claimed]);
    const note = await letterOf((l) => l.messageType === 'task.failed' && l.sender === 'mallory', 'the forged note');
    assert.deepEqual([note.reason, note.taskId, note.redrivable], ['unverified', null, false], 'the store says the task succeeded: the note names no failed task');

    for (const l of [rejected, note]) {
      const r = await operator.post(`/dead-letters/${l.id}/redrive`);
      assert.equal(r.status, 409, JSON.stringify(r.body));
      assert.match(r.body.detail, /cannot be re-driven/);
    }
    const after = await letters();
    assert.ok(after.some((l) => l.id === rejected.id) && after.some((l) => l.id === note.id), 'a letter that cannot be re-driven stays');
    assert.equal((await alice.get(`/tasks/${claimed}`)).body.status, 'succeeded', 'the claimed task is untouched');
    await waitFor(deadLetterGauge, (n) => n >= 2, { what: 'anki_dead_letters counts them' });
    assert.equal((await operator.post(`/dead-letters/${randomUUID()}/redrive`)).status, 404);
  });
});

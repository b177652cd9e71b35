import { strict as assert } from 'node:assert';
import { Api, TestCluster } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { waitFor } from '../helpers/wait';

const FAST = { HEARTBEAT_MS: '200', SUSPECT_AFTER_MS: '600', DEAD_AFTER_MS: '1500', ELECTION_TICK_MS: '300', LEADER_LEASE_MS: '2000' };
const ENDED = ['succeeded', 'failed', 'cancelled'];

describe('waiting for a task to end in one request (Prefer: wait, ?wait=), two real principals', function () {
  this.timeout(180_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let viaFirst: Api;
  let viaSecond: Api;

  before(async () => {
    iso = await createIsolation('wait');
    cluster = new TestCluster(iso, FAST);
    const p1 = await cluster.start('principal', { id: 'p1' });
    const p2 = await cluster.start('principal', { id: 'p2' });
    await cluster.start('an', { id: 'an1' });
    await cluster.start('ki', { id: 'ki1' });
    const token = cluster.token('alice', 'submitter');
    viaFirst = new Api(cluster.url(p1), token);
    viaSecond = new Api(cluster.url(p2), token);
    const admin = viaFirst.as(cluster.token('root', 'admin'));
    await waitFor(() => admin.get('/nodes'), (r) => r.body.items.some((n: any) => n.role === 'ki' && n.status === 'alive' && n.group), { what: 'a Ki in a group' });
  });

  after(async () => {
    await cluster?.stopAll();
    await iso?.destroy();
  });

  it('answers POST /tasks with the finished task when it ends within the wait', async () => {
    const r = await viaFirst.post('/tasks', { type: 'echo', payload: { hello: 'world' } }, { prefer: 'wait=20' });
    assert.equal(r.status, 201);
    assert.equal(r.body.status, 'succeeded', 'one call gives the outcome, no polling');
    assert.deepEqual(r.body.result, { hello: 'world' });
    assert.equal(r.headers.get('location'), `/tasks/${r.body.id}`);
  });

  it('answers with the task as it stands when the wait runs out, and GET ?wait= on another principal finishes the wait', async () => {
    const r = await viaFirst.post('/tasks', { type: 'sleep', payload: { ms: 3000 } }, { prefer: 'respond-async, wait=1' });
    assert.equal(r.status, 201);
    assert.ok(!ENDED.includes(r.body.status), `a 3 s task is not over after a 1 s wait (got ${r.body.status})`);
    // p2 did not admit the task: it learns of its end from the task event every principal receives.
    const done = await viaSecond.get(`/tasks/${r.body.id}?wait=30`);
    assert.equal(done.status, 200);
    assert.equal(done.body.status, 'succeeded');
  });

  it('answers at once without a wait, and refuses a malformed one', async () => {
    const plain = await viaFirst.post('/tasks', { type: 'sleep', payload: { ms: 2000 } });
    assert.equal(plain.status, 201);
    assert.ok(!ENDED.includes(plain.body.status));
    const ignored = await viaFirst.post('/tasks', { type: 'sleep', payload: { ms: 2000 } }, { prefer: 'wait=soon' });
    assert.ok(!ENDED.includes(ignored.body.status), 'a preference that is not understood is ignored (RFC 7240)');
    const bad = await viaFirst.get(`/tasks/${plain.body.id}?wait=soon`);
    assert.equal(bad.status, 400);
    assert.match(bad.body.detail, /wait/);
    const someoneElse = viaFirst.as(cluster.token('bob', 'submitter'));
    assert.equal((await someoneElse.get(`/tasks/${plain.body.id}?wait=5`)).status, 404, 'another owner\'s task is missing before any wait');
  });

  it('answers a replayed Idempotency-Key with the earlier task, waited for too', async () => {
    const key = { 'idempotency-key': 'wait-replay-1', prefer: 'wait=20' };
    const first = await viaFirst.post('/tasks', { type: 'sleep', payload: { ms: 1500 } }, { 'idempotency-key': 'wait-replay-1' });
    const again = await viaSecond.post('/tasks', { type: 'sleep', payload: { ms: 1500 } }, key);
    assert.equal(again.status, 200);
    assert.equal(again.body.id, first.body.id);
    assert.equal(again.body.status, 'succeeded');
  });
});

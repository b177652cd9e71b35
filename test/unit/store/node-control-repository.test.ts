import { strict as assert } from 'node:assert';
import { NodeControlRepository } from '../../../src/store/node-control-repository';
import type { PgliteDatabase } from '../../../src/store/pglite-database';
import { migratedPglite } from '../../helpers/migrated-pglite';

describe('NodeControlRepository keeps operator states and breaker benches of nodes', function () {
  this.timeout(180_000);
  let db: PgliteDatabase;
  let repo: NodeControlRepository;

  before(async () => {
    db = await migratedPglite();
    repo = new NodeControlRepository(db);
  });

  after(() => db?.close());

  it('records a cordon with its reason and author, and an uncordon returns the node to active', async () => {
    const c = await repo.setState('ki-0', 'cordoned', 'disk swap', 'alice');
    assert.deepEqual([c.nodeId, c.state, c.reason, c.changedBy, c.benched], ['ki-0', 'cordoned', 'disk swap', 'alice', false]);
    await repo.setState('ki-0', 'draining', null, 'bob');
    assert.deepEqual((await repo.all()).map((x) => [x.nodeId, x.state, x.changedBy]), [['ki-0', 'draining', 'bob']]);
    assert.equal((await repo.setState('ki-0', 'active', null, 'alice')).state, 'active');
  });

  it('refuses a state outside active, cordoned and draining', async () => {
    await assert.rejects(repo.setState('ki-x', 'gone' as never, null, 'alice'));
  });

  it('benches a node once while the bench holds, and doubles the next bench up to the cap', async () => {
    const first = await repo.bench('ki-1', '3 timeouts in a row', 60_000, 150_000);
    assert.ok(first?.benched, 'benched now');
    assert.equal(first.benchReason, '3 timeouts in a row');
    const lengthOf = (c: { benchedUntil: Date | null }) => c.benchedUntil!.getTime() - Date.now();
    assert.ok(lengthOf(first) > 50_000 && lengthOf(first) <= 60_000, `first bench lasts the base (${lengthOf(first)} ms)`);
    assert.equal(await repo.bench('ki-1', 'again', 60_000, 150_000), null, 'a second An benches a benched node no further');

    await db.query("UPDATE node_controls SET benched_until = now() - interval '1 second' WHERE node_id = 'ki-1'");
    const second = await repo.bench('ki-1', 'again', 60_000, 150_000);
    assert.equal(second?.benchCount, 2);
    assert.ok(lengthOf(second) > 110_000 && lengthOf(second) <= 120_000, `second bench lasts twice the base (${lengthOf(second)} ms)`);
    await db.query("UPDATE node_controls SET benched_until = now() - interval '1 second' WHERE node_id = 'ki-1'");
    const third = await repo.bench('ki-1', 'again', 60_000, 150_000);
    assert.ok(lengthOf(third!) > 140_000 && lengthOf(third!) <= 150_000, `third bench is capped (${lengthOf(third!)} ms)`);
  });

  it('shows an expired bench as not benched, and a success then starts benches from the base again', async () => {
    await repo.bench('ki-2', 'crashes', 60_000, 600_000);
    assert.equal(await repo.resetBench('ki-2'), false, 'a success reported while benched leaves the bench alone');
    await db.query("UPDATE node_controls SET benched_until = now() - interval '1 second' WHERE node_id = 'ki-2'");
    assert.equal((await repo.all()).find((c) => c.nodeId === 'ki-2')?.benched, false);
    assert.equal(await repo.resetBench('ki-2'), true);
    const again = await repo.bench('ki-2', 'crashes', 60_000, 600_000);
    assert.equal(again?.benchCount, 1);
  });

  it('lifts a bench when an operator uncordons the node', async () => {
    await repo.bench('ki-3', 'timeouts', 60_000, 600_000);
    const c = await repo.setState('ki-3', 'active', null, 'alice');
    assert.deepEqual([c.benched, c.benchCount], [false, 0]);
  });
});

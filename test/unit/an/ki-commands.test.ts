import { strict as assert } from 'node:assert';
import { Registry } from 'prom-client';
import type { HeldTask } from '../../../src/an/in-flight';
import { KiCommands } from '../../../src/an/ki-commands';
import { createMetrics } from '../../../src/observability/metrics';
import type { Destination } from '../../../src/protocol/destinations';
import { topologyNames } from '../../../src/protocol/names';
import { until } from './an-harness';
import { AN_DEFAULTS, heldTask } from './parts-fixtures';

const names = topologyNames('unit');

/** Resends at once, three tries in all. */
const RESEND = { maxAttempts: 3, initialMs: 1, factor: 1, maxMs: 1, jitter: 0 };

/** Commands over a bus that records what is sent and fails every send to `down` (the first `failures` sends to it, when given). */
function commandsOver(down = 'nobody', assignBatchMax = AN_DEFAULTS.assignBatchMax, failures = Infinity) {
  const batches: { queue: string; items: unknown[] }[] = [];
  const failed: [string, string, string][] = [];
  let failuresLeft = failures;
  const bus = {
    sendMany: (destination: Destination<'task.assign'>, _type: string, items: unknown[]) => {
      const { queue } = destination.target as { queue: string };
      if (queue === names.inbox('ki', down) && failuresLeft-- > 0) return Promise.reject(new Error('no route'));
      batches.push({ queue, items });
      return Promise.resolve();
    },
    send: () => Promise.reject(new Error('broker away')),
  };
  const commands = new KiCommands({
    nodeId: 'an-1', assignBatchMax, bus: bus as never, names, metrics: createMetrics(new Registry(), 'an'), resend: RESEND,
    onAssignFailed: (t, ki, err) => { failed.push([t.spec.id, ki, err.message]); return Promise.resolve(); },
  });
  return { commands, batches, failed };
}

const on = (...kis: string[]): HeldTask => heldTask({ attempts: 1, runs: new Map(kis.map((k) => [k, { gpus: [0], reservation: null }])) });

describe('KiCommands: what the An tells its Kis', () => {
  it('sends the assignments placed at once on one Ki in one message', async () => {
    const { commands, batches } = commandsOver();
    const a = on('ki-1');
    const b = on('ki-1');
    commands.assign(a);
    commands.assign(b);
    await commands.drain();
    assert.equal(batches.length, 1);
    assert.equal(batches[0]!.queue, names.inbox('ki', 'ki-1'));
    assert.deepEqual((batches[0]!.items as { task: { id: string }; attempt: number; gpus: number[] }[]).map((i) => [i.task.id, i.attempt, i.gpus]), [[a.spec.id, 1, [0]], [b.spec.id, 1, [0]]]);
  });

  it('splits the assignments for one Ki into messages of at most an.assignBatchMax', async () => {
    const { commands, batches } = commandsOver('nobody', 2);
    for (let i = 0; i < 5; i++) commands.assign(on('ki-1'));
    await commands.drain();
    assert.deepEqual(batches.map((b) => b.items.length).sort(), [1, 2, 2]);
  });

  it('sends the same attempt again when its publish failed (the broker connection dropped), and loses nothing', async () => {
    const { commands, batches, failed } = commandsOver('ki-2', AN_DEFAULTS.assignBatchMax, 2);
    const t = on('ki-2');
    commands.assign(t);
    await until(() => batches.length, (n) => n === 1, 'the third try delivered');
    assert.deepEqual((batches[0]!.items as { task: { id: string }; attempt: number }[]).map((i) => [i.task.id, i.attempt]), [[t.spec.id, 1]], 'the same attempt');
    assert.deepEqual(failed, []);
  });

  it('does not send again an assignment whose replica was lost meanwhile', async () => {
    const { commands, batches, failed } = commandsOver('ki-2', AN_DEFAULTS.assignBatchMax, 1);
    const t = on('ki-2');
    commands.assign(t);
    t.runs.delete('ki-2');
    await new Promise((r) => setTimeout(r, 20));
    await commands.drain();
    assert.deepEqual(batches, []);
    assert.deepEqual(failed.map(([, ki]) => ki), ['ki-2'], 'told once; the replica is already gone');
  });

  it('reports an assignment that could not be sent, however often tried, as a lost replica of that Ki only', async () => {
    const { commands, batches, failed } = commandsOver('ki-2');
    const t = on('ki-1', 'ki-2');
    commands.assign(t);
    await until(() => failed, (f) => f.length > 0, 'the failed assignment');
    assert.deepEqual(failed, [[t.spec.id, 'ki-2', 'no route']]);
    await commands.drain();
    assert.deepEqual(batches.map((b) => b.queue), [names.inbox('ki', 'ki-1')]);
  });

  it('never rejects a cancel, even when the broker is away', async () => {
    const { commands } = commandsOver();
    await commands.cancel('ki-1', on('ki-1'), 'vote decided');
  });
});

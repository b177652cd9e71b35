import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { loadConfig } from '../../../src/config/load';
import { BUILTIN_EXECUTORS } from '../../../src/ki/executors/builtins';
import { KiNode } from '../../../src/ki/ki-node';
import { createMetrics } from '../../../src/observability/metrics';
import { silentLogger } from '../../../src/observability/logger';
import { cancelRoute, kiInbox } from '../../../src/protocol/destinations';
import type { MessageOf } from '../../../src/protocol/messages';
import { topologyNames } from '../../../src/protocol/names';
import { InProcessTransport } from '../../../src/transport/in-process-transport';
import { type MessageBus, type Received } from '../../../src/transport/message-bus';
import { inProcessBus } from '../../helpers/in-process-bus';

/**
 * A cancel names the attempt it stops: a late cancel for an earlier attempt (an An handing a
 * task back, a decided vote) must not stop the next attempt of the same task on the same Ki.
 * One Ki on the in-process bus; the test speaks for its An.
 */
describe('Ki: a cancel stops only the attempt it names', () => {
  const names = topologyNames('cancelattempt');
  const busFor = inProcessBus;
  let transport: InProcessTransport;
  let ki: KiNode;
  let an: MessageBus;
  const results: MessageOf<'task.result'>['items'] = [];

  before(async () => {
    transport = new InProcessTransport({ names });
    await transport.start();
    const config = loadConfig({ env: { KI_SLOTS: '2', KI_GROUP: 'an1', KI_GPUS: 'none', NODE_ID: 'ki1' }, role: 'ki' });
    ki = new KiNode({ nodeId: 'ki1', config, bus: busFor(transport, 'ki1', 'ki'), names, log: silentLogger(), metrics: createMetrics(new Registry(), 'ki'), executors: BUILTIN_EXECUTORS, gpus: [] });
    await ki.start();
    an = busFor(transport, 'an1', 'an');
    await an.subscribe({ name: names.inbox('an', 'an1'), kind: 'durable' }, 64, ['task.started', 'task.progress', 'task.result'], ({ msg, delivery }: Received) => {
      delivery.ack();
      if (msg.type === 'task.result') results.push(...(msg.payload).items);
    });
  });
  after(async () => {
    await ki?.stop();
    await transport?.stop();
  });

  const until = async (check: () => boolean, what: string) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(check(), what);
  };
  const cancel = (taskId: string, attempt: number) => an.send(cancelRoute(names, 'ki1'), 'task.cancel', { v: 1, taskId, reason: 'test', attempt });

  it('ignores a cancel of an earlier attempt and obeys the one of the running attempt', async () => {
    const taskId = randomUUID();
    const task = { id: taskId, type: 'sleep', payload: { ms: 60_000 }, priority: 5, requirements: { gpus: 0, gpuMemoryMiB: 0, labels: [] }, timeoutMs: 120_000, maxAttempts: 3, owner: 'alice', createdAtMs: Date.now() };
    await an.send(kiInbox(names, 'ki1'), 'task.assign', { v: 1, an: 'an1', items: [{ task, attempt: 2, gpus: [] }] });
    await until(() => ki.busy === 1, 'the attempt runs');

    await cancel(taskId, 1);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(ki.busy, 1, 'a cancel of attempt 1 leaves attempt 2 running');
    assert.equal(results.length, 0);

    await cancel(taskId, 2);
    await until(() => results.length === 1, 'the cancelled attempt reports');
    assert.equal(results[0]!.attempt, 2);
    assert.equal(results[0]!.ok, false);
    assert.equal(ki.busy, 0);
  });
});
